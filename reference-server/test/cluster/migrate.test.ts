/**
 * MIGRATE between the reference server and redis-server 7.0.15, each way and reference to reference: every form
 * (single key, "" with KEYS, COPY, REPLACE, AUTH, AUTH2, db, timeout) answers byte for byte what redis-server answers
 * as the source, the keys arrive with their values and TTLs, and the connection cache, retries, IOERR texts and the
 * server blocking during a MIGRATE behave as Redis's.
 */
import { expect } from 'chai';
import net from 'node:net';
import { RespClient } from '../util/resp-client.js';
import { freePort, startRealRedis, startRefProcess, type RunningServer } from '../util/servers.js';

interface Node {
  kind: 'real' | 'ref';
  port: number;
  stop(): Promise<void>;
}

async function startRef(extra: string[] = []): Promise<Node> {
  const port = await freePort();
  const p = await startRefProcess(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], port);
  return { kind: 'ref', port, stop: () => p.stop() };
}

async function startReal(extra: string[] = []): Promise<Node> {
  const r: RunningServer = await startRealRedis(extra);
  return { kind: 'real', port: r.port, stop: () => r.stop() };
}

async function call(port: number, ...argv: string[]): Promise<string> {
  const c = await RespClient.connect(port);
  try {
    return (await c.call(argv, 10000)) ?? '(no reply)';
  } finally {
    c.close();
  }
}

/**
 * The MIGRATE script: each step's raw reply from the source, then what the target and source hold. The target's
 * requirepass is toggled in the middle, so AUTH and AUTH2 succeed and fail against it.
 */
async function runScript(src: number, dst: number): Promise<string[]> {
  const s = await RespClient.connect(src);
  const out: string[] = [];
  const step = async (...argv: string[]): Promise<void> => {
    const shown = argv.map((a) => (a === String(dst) ? 'TARGET' : a)).join(' ');
    out.push(`${shown} -> ${(await s.call(argv, 10000)) ?? '(no reply)'}`);
  };
  const peek = async (...argv: string[]): Promise<void> => {
    out.push(`target ${argv.join(' ')} -> ${await call(dst, ...argv)}`);
  };
  const h = '127.0.0.1';
  const d = String(dst);
  try {
    await call(dst, 'FLUSHALL');
    await step('FLUSHALL');
    await step('SET', 'str', 'v1');
    await step('RPUSH', 'list', 'a', 'b', 'c');
    await step('HSET', 'hash', 'f1', 'x', 'f2', 'y');
    await step('ZADD', 'zset', '1.5', 'm1', '2', 'm2');
    await step('SADD', 'set', '1', '2', '3');
    await step('SET', 'ttl', 'v', 'PX', '100000');
    await step('SET', 'bin', '\x00\xff\r\n\x80');
    await step('MIGRATE', h, d, 'str', '0', '1000');
    await peek('GET', 'str');
    await step('EXISTS', 'str');
    await step('MIGRATE', h, d, 'str', '0', '1000');
    await step('MIGRATE', h, d, '', '0', '1000', 'KEYS', 'list', 'missing', 'hash', 'zset', 'set', 'ttl', 'bin');
    await peek('LRANGE', 'list', '0', '-1');
    await peek('HGET', 'hash', 'f2');
    await peek('ZSCORE', 'zset', 'm1');
    await peek('SISMEMBER', 'set', '3');
    await peek('GET', 'bin');
    const pttl = await call(dst, 'PTTL', 'ttl');
    out.push(`target PTTL ttl in (90000, 100000]: ${Number(pttl.slice(1)) > 90000 && Number(pttl.slice(1)) <= 100000}`);
    await step('DBSIZE');
    // BUSYKEY from the target passes through; COPY keeps the local key; REPLACE overwrites.
    await step('SET', 'str', 'v2');
    await step('MIGRATE', h, d, 'str', '0', '1000');
    await step('MIGRATE', h, d, 'str', '0', '1000', 'COPY');
    await step('MIGRATE', h, d, 'str', '0', '1000', 'COPY', 'REPLACE');
    await peek('GET', 'str');
    await step('GET', 'str');
    await step('MIGRATE', h, d, '', '0', '1000', 'REPLACE', 'KEYS', 'str');
    await step('EXISTS', 'str');
    // Another db: SELECT is sent (the cached connection remembers the db it last selected).
    await step('SET', 'k', 'in-db-3');
    await step('MIGRATE', h, d, 'k', '3', '1000', 'COPY');
    await step('MIGRATE', h, d, 'k', '3', '1000', 'COPY');
    await step('MIGRATE', h, d, 'k', '0', '1000');
    await peek('GET', 'k');
    out.push(`target db 3 k -> ${await (async () => {
      const c = await RespClient.connect(dst);
      try {
        await c.call(['SELECT', '3']);
        return await c.call(['GET', 'k']);
      } finally {
        c.close();
      }
    })()}`);
    // AUTH and AUTH2: refused by a target without a password, accepted with the right one, WRONGPASS with another.
    await step('SET', 'a', '1');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'AUTH', 'secret');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'REPLACE', 'AUTH2', 'default', 'secret');
    await step('SET', 'a', '2');
    await call(dst, 'CONFIG', 'SET', 'requirepass', 'secret');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'REPLACE', 'AUTH', 'wrong');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'REPLACE', 'AUTH', 'secret');
    await step('SET', 'a', '3');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'REPLACE', 'AUTH2', 'default', 'secret');
    await step('SET', 'a', '4');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'REPLACE', 'AUTH2', 'nobody', 'secret');
    {
      const c = await RespClient.connect(dst);
      await c.call(['AUTH', 'secret']);
      out.push(`target GET a -> ${await c.call(['GET', 'a'])}`);
      await c.call(['CONFIG', 'SET', 'requirepass', '']);
      c.close();
    }
    // The password does not reach SLOWLOG.
    await step('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await step('MIGRATE', h, d, 'nokey', '0', '1000', 'AUTH2', 'user', 'pass');
    const slow = (await s.call(['SLOWLOG', 'GET', '1']))!;
    out.push(`slowlog redacted: ${slow.includes('(redacted)') && !slow.includes('pass')}`);
    await step('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    // Refusals.
    await step('MIGRATE', h, d, 'a', '0', '1000', 'KEYS', 'a');
    await step('MIGRATE', h, d, 'a', 'x', '1000');
    await step('MIGRATE', h, d, 'a', '0', 'x');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'BOGUS');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'AUTH');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'AUTH2', 'u');
    await step('MIGRATE', h, d, '', '0', '1000', 'KEYS');
    await step('MIGRATE', h, d, '', '0', '1000', 'COPY', 'KEYS', 'x', 'y');
    await step('MIGRATE', h, d, 'a', '0', '1000', 'COPY', 'KEYS');
    await step('MIGRATE', h, d, 'a', '0', '-5', 'COPY');
    await step('MIGRATE', h, d);
    await step('COMMAND', 'GETKEYS', 'MIGRATE', h, d, '', '0', '1', 'AUTH2', 'keys', 'x', 'KEYS', 'k1', 'k2');
    await step('COMMAND', 'GETKEYS', 'MIGRATE', h, d, 'k', '0', '1', 'COPY');
    await step('EXISTS', 'a');
  } finally {
    s.close();
  }
  return out;
}

describe('MIGRATE between the reference server and redis-server 7.0.15', function () {
  this.timeout(120000);
  const nodes: Node[] = [];
  let real1: Node;
  let real2: Node;
  let ref1: Node;
  let ref2: Node;
  let baseline: string[] = [];

  before(async () => {
    [real1, real2, ref1, ref2] = await Promise.all([startReal(), startReal(), startRef(), startRef()]);
    nodes.push(real1, real2, ref1, ref2);
    baseline = await runScript(real1.port, real2.port);
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('the redis-server to redis-server run is the expected one (the baseline the others are compared with)', () => {
    const at = (prefix: string): string => baseline.find((l) => l.startsWith(prefix))!;
    expect(at('MIGRATE 127.0.0.1')).to.match(/ str 0 1000 -> \+OK\r\n$/);
    expect(baseline).to.include('target GET str -> $2\r\nv1\r\n');
    expect(baseline.filter((l) => l.endsWith(' -> +NOKEY\r\n')).length).to.be.greaterThan(1);
    expect(baseline).to.include('target PTTL ttl in (90000, 100000]: true');
    expect(baseline.some((l) => l.includes('-ERR Target instance replied with error: BUSYKEY Target key name already exists.'))).to.equal(true);
    expect(baseline.some((l) => l.includes('-ERR Target instance replied with error: WRONGPASS'))).to.equal(true);
    // A failed AUTH on an already authenticated link: the RESTORE still lands, and the source keeps its key.
    expect(baseline).to.include('target GET a -> $1\r\n4\r\n');
    expect(baseline[baseline.length - 1]).to.equal('EXISTS a -> :1\r\n');
    expect(baseline).to.include('slowlog redacted: true');
  });

  for (const [name, pick] of [
    ['reference -> redis-server', () => [ref1, real2]],
    ['redis-server -> reference', () => [real1, ref2]],
    ['reference -> reference', () => [ref1, ref2]],
  ] as Array<[string, () => Node[]]>) {
    it(`${name}: every form answers as redis-server -> redis-server, and the target holds the same`, async () => {
      const [src, dst] = pick();
      const got = await runScript(src!.port, dst!.port);
      expect(got).to.deep.equal(baseline);
    });
  }

  it('INFO migrate_cached_sockets counts the cached connections; a connection the target closed is retried at once', async () => {
    const src = await startRef();
    nodes.push(src);
    const info = async (): Promise<string> => (await call(src.port, 'INFO', 'stats')).match(/migrate_cached_sockets:(\d+)/)![1]!;
    expect(await info()).to.equal('0');
    await call(src.port, 'SET', 'x', '1');
    expect(await call(src.port, 'MIGRATE', '127.0.0.1', String(real2.port), 'x', '0', '1000', 'COPY', 'REPLACE')).to.equal('+OK\r\n');
    expect(await call(src.port, 'MIGRATE', '127.0.0.1', String(ref2.port), 'x', '0', '1000', 'COPY', 'REPLACE')).to.equal('+OK\r\n');
    expect(await info()).to.equal('2');
    // The target drops MIGRATE's connection: the next MIGRATE fails on the stale one and reconnects silently.
    expect(await call(real2.port, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')).to.match(/^:[1-9]/);
    expect(await call(src.port, 'MIGRATE', '127.0.0.1', String(real2.port), 'x', '0', '1000', 'COPY', 'REPLACE')).to.equal('+OK\r\n');
    expect(await info()).to.equal('2');
    expect(await call(src.port, 'CONFIG', 'RESETSTAT')).to.equal('+OK\r\n');
    expect(await info()).to.equal('2');
  });

  it('IOERR texts: nothing listening, and a target that never answers (the timeout)', async () => {
    const src = ref1.port;
    await call(src, 'SET', 'x', '1');
    const closed = await freePort();
    expect(await call(src, 'MIGRATE', '127.0.0.1', String(closed), 'x', '0', '500')).to.equal('-IOERR error or timeout connecting to the client\r\n');
    const mute = net.createServer(() => {});
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    try {
      const port = String((mute.address() as net.AddressInfo).port);
      const t0 = Date.now();
      expect(await call(src, 'MIGRATE', '127.0.0.1', port, 'x', '0', '300')).to.equal('-IOERR error or timeout reading to target instance\r\n');
      expect(Date.now() - t0).to.be.within(250, 5000);
      expect(await call(src, 'EXISTS', 'x')).to.equal(':1\r\n');
    } finally {
      mute.close();
    }
  });

  it('the source serves nobody else while a MIGRATE waits for its target, as Redis blocks', async () => {
    const src = ref1.port;
    await call(src, 'SET', 'slow', '1');
    // A target that answers SELECT and RESTORE (one small write) only after 400 ms.
    const replyAfterMs = 400;
    const slowTarget = net.createServer((sock) => {
      sock.once('data', () => setTimeout(() => sock.write('+OK\r\n+OK\r\n'), replyAfterMs));
    });
    await new Promise<void>((r) => slowTarget.listen(0, '127.0.0.1', r));
    const other = await RespClient.connect(src);
    try {
      const port = String((slowTarget.address() as net.AddressInfo).port);
      const migrating = RespClient.connect(src).then(async (c) => {
        const r = await c.call(['MIGRATE', '127.0.0.1', port, 'slow', '0', '5000', 'COPY'], 10000);
        c.close();
        return { r, at: Date.now() };
      });
      await new Promise((r) => setTimeout(r, 100));
      const sentAt = Date.now();
      other.send(['GET', 'slow']);
      const got = await other.read(10000);
      const waited = Date.now() - sentAt;
      const m = await migrating;
      expect(m.r).to.equal('+OK\r\n');
      expect(got!.raw).to.equal('$1\r\n1\r\n');
      // The GET sent 100 ms into the MIGRATE waits for the target's answer 300 ms later, as everything does in Redis.
      expect(waited).to.be.at.least(replyAfterMs - 100 - 50);
    } finally {
      other.close();
      slowTarget.close();
    }
  });
});
