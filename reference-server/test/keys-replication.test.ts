/**
 * The rewrites strings/keys/hashes propagate (SET PXAT, PEXPIREAT, SET KEEPTTL, HSET, DEL...) must leave a real
 * redis-server replica of the reference server with exactly the master's data and expiry times.
 */
import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { startRealRedis, startRefInProcess, type RunningServer } from './util/servers.js';
import { waitUntil } from './util/wait.js';

function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  return waitUntil(what, check, timeoutMs, 20);
}

function field(info: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return m?.[1].trim();
}

/** Elements of an array reply, as strings. */
async function strings(c: RespClient, argv: string[]): Promise<string[]> {
  c.send(argv);
  const f = await c.read();
  if (f === null) throw new Error(`no reply to ${argv.join(' ')}`);
  return f.elements.map((e) => e.slice(e.indexOf('\r\n') + 2, -2));
}

/** A canonical text of the whole db: key, type, content (order-free for hashes) and PEXPIRETIME. */
async function snapshot(c: RespClient): Promise<string> {
  const keys = (await strings(c, ['KEYS', '*'])).sort();
  const out: string[] = [];
  for (const k of keys) {
    const type = await c.call(['TYPE', k]);
    let content: string | null;
    if (type === '+hash\r\n') content = (await strings(c, ['HGETALL', k])).join('|');
    else content = await c.call(['GET', k]);
    out.push(`${k} ${type?.trim()} ${content} ${(await c.call(['PEXPIRETIME', k]))?.trim()}`);
  }
  return out.join('\n');
}

describe('keys replication: a real replica of the reference server converges', function () {
  this.timeout(30_000);
  let master: RunningServer;
  let replica: RunningServer;
  const clients: RespClient[] = [];

  before(async () => {
    master = await startRefInProcess();
    replica = await startRealRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  });

  after(async () => {
    for (const c of clients) c.close();
    await replica?.stop();
    await master?.stop();
  });

  it('holds the same keys, values and absolute expiry times after every rewritten write', async () => {
    const m = await RespClient.connect(master.port);
    const r = await RespClient.connect(replica.port);
    clients.push(m, r);
    await until('replica link up', async () => field((await r.call(['INFO', 'replication'])) ?? '', 'master_link_status') === 'up');
    const writes: string[][] = [
      ['SET', 's1', 'v', 'EX', '100'],
      ['SET', 's2', 'v', 'PX', '100000', 'GET'],
      ['SETEX', 's3', '50', 'v'],
      ['PSETEX', 's4', '50000', 'v'],
      ['SET', 's5', 'v'],
      ['EXPIRE', 's5', '300', 'NX'],
      ['PEXPIRE', 's5', '400000', 'GT'],
      ['INCRBYFLOAT', 'f', '10.5'],
      ['INCRBYFLOAT', 'f', '0.1'],
      ['EXPIRE', 'f', '1000'],
      ['INCRBYFLOAT', 'f', '5.0e3'],
      ['HINCRBYFLOAT', 'h', 'x', '1.5'],
      ['HINCRBYFLOAT', 'h', 'x', '0.1'],
      ['HSET', 'h', 'y', '1', 'z', '2'],
      ['HDEL', 'h', 'z'],
      ['SET', 'g', 'v'],
      ['GETEX', 'g', 'EX', '500'],
      ['SET', 'p', 'v', 'EX', '100'],
      ['GETEX', 'p', 'PERSIST'],
      ['SET', 'd', 'v'],
      ['GETDEL', 'd'],
      ['SET', 'e', 'v'],
      ['EXPIRE', 'e', '-1'],
      ['SET', 'x', 'v'],
      ['GETEX', 'x', 'PXAT', '1'],
      ['SETRANGE', 'r', '3', 'abc'],
      ['APPEND', 'r', 'zz'],
      ['INCR', 'n'],
      ['INCRBY', 'n', '41'],
      ['MSET', 'm1', 'a', 'm2', 'b'],
      ['RENAME', 'm1', 'm3'],
      ['COPY', 'm2', 'm4'],
      ['SET', 'ttl', 'v', 'EX', '100'],
      ['SET', 'ttl', 'w', 'KEEPTTL'],
    ];
    for (const w of writes) expect(await m.call(w), w.join(' ')).to.not.match(/^-/);
    const dump = (await m.call(['DUMP', 'm2'])) ?? '';
    const payload = dump.slice(dump.indexOf('\r\n') + 2, -2);
    expect(await m.call(['RESTORE', 'rs', '100000', payload])).to.equal('+OK\r\n');
    const want = await snapshot(m);
    expect(want).to.include('f +string $22\r\n5010.60000000000000009\r\n');
    expect(want).to.not.match(/^(d|e|x) /m);
    await until('replica to match the master', async () => (await snapshot(r)) === want);
  });
});
