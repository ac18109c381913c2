/**
 * What lists, sets and sorted sets propagate, checked end to end: the reference server is the master of a real
 * redis-server replica; random writes (SPOP, [B]LMPOP, blocked clients served by pushes...) must leave the
 * replica with exactly the master's data.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { seededRandom } from '../../harness/src/random/prng.js';
import { FrameClient as Client, type Frame } from './util/frame-client.js';
import { freePort, programAvailable } from './util/servers.js';
import { waitFor } from './fixtures/repl-kit.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REF_BIN = path.resolve(here, '../bin/redis-ref-server.js');

async function start(command: (port: number) => [string, string[]], cwd: string): Promise<{ proc: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const [cmd, args] = command(port);
    const proc = spawn(cmd, args, { stdio: 'ignore', cwd });
    try {
      await waitFor(`${cmd} on ${port}`, async () => {
        // An exited process ends the wait at once; the caller then retries on another port.
        if (proc.exitCode !== null) return 'exited';
        const c = await Client.open(port);
        try {
          return (await c.send('PING')) === 'PONG' ? true : undefined;
        } finally {
          c.close();
        }
      }, 15000, 20);
      if (proc.exitCode === null) return { proc, port };
    } catch (e) {
      if (attempt >= 2) throw e;
    }
    if (proc.exitCode === null) proc.kill('SIGKILL');
    if (attempt >= 2) throw new Error(`${cmd} exited at start`);
  }
}

function field(info: Frame, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(String(info))?.[1]?.trim();
}

/** A comparable picture of every key: type plus contents (sets sorted, zsets with scores). */
async function snapshot(c: Client): Promise<Record<string, unknown>> {
  const keys = ((await c.send('KEYS', '*')) as string[]).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const type = (await c.send('TYPE', k)) as string;
    if (type === 'list') out[k] = ['list', await c.send('LRANGE', k, '0', '-1')];
    else if (type === 'set') out[k] = ['set', ((await c.send('SMEMBERS', k)) as string[]).sort()];
    else if (type === 'zset') out[k] = ['zset', await c.send('ZRANGE', k, '0', '-1', 'WITHSCORES')];
    else out[k] = [type, await c.send('DUMP', k)];
  }
  return out;
}

const canRun = programAvailable('redis-server') && existsSync(REF_BIN);

describe('lists/sets/zsets replicate from the reference server to a redis-server replica', function () {
  const procs: ChildProcess[] = [];
  const clients: Client[] = [];
  let dir = '';
  let master: Client;
  let replica: Client;
  let masterPort = 0;

  async function client(port: number): Promise<Client> {
    const c = await Client.open(port);
    clients.push(c);
    return c;
  }

  async function inSync(): Promise<void> {
    await waitFor('replica to catch up', async () => {
      const m = field(await master.send('INFO', 'replication'), 'master_repl_offset');
      const r = field(await replica.send('INFO', 'replication'), 'slave_repl_offset');
      const link = field(await replica.send('INFO', 'replication'), 'master_link_status');
      return link === 'up' && m !== undefined && m === r ? true : undefined;
    }, 15000, 20);
  }

  before(async function () {
    if (!canRun) this.skip();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ref-list-repl-'));
    const m = await start((p) => [process.execPath, [REF_BIN, '--port', String(p), '--bind', '127.0.0.1', '--save', '', '--dir', dir]], dir);
    procs.push(m.proc);
    masterPort = m.port;
    const r = await start((p) => ['redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--replicaof', '127.0.0.1', String(masterPort)]], dir);
    procs.push(r.proc);
    master = await client(masterPort);
    replica = await client(r.port);
    await inSync();
  });

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const p of procs) {
      if (p.exitCode !== null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('replays random pops, moves and stores identically', async () => {
    const rnd = seededRandom(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const L = ['l1', 'l2'];
    const S = ['s1', 's2'];
    const Z = ['z1', 'z2'];
    const M = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '1', '2', '3', '4', '5', 'e f'];
    const ops: (() => string[])[] = [
      () => ['RPUSH', pick(L), pick(M), pick(M), pick(M)],
      () => ['LPUSH', pick(L), pick(M)],
      () => ['LPOP', pick(L), pick(['1', '2'])],
      () => ['LMPOP', '2', 'l1', 'l2', pick(['LEFT', 'RIGHT']), 'COUNT', '2'],
      () => ['BLMPOP', '0', '2', 'l2', 'l1', 'RIGHT'],
      () => ['LMOVE', pick(L), pick(L), pick(['LEFT', 'RIGHT']), pick(['LEFT', 'RIGHT'])],
      () => ['LREM', pick(L), '0', pick(M)],
      () => ['LTRIM', pick(L), '1', '-1'],
      () => ['SADD', pick(S), pick(M), pick(M), pick(M)],
      () => ['SPOP', pick(S)],
      () => ['SPOP', pick(S), pick(['1', '2', '3', '9'])],
      () => ['SMOVE', pick(S), pick(S), pick(M)],
      () => ['SDIFFSTORE', pick(S), pick(S), pick(S)],
      () => ['ZADD', pick(Z), String(Math.floor(rnd() * 10)), pick(M)],
      () => ['ZINCRBY', pick(Z), '0.5', pick(M)],
      () => ['ZPOPMIN', pick(Z)],
      () => ['ZMPOP', '2', 'z1', 'z2', pick(['MIN', 'MAX']), 'COUNT', '2'],
      () => ['BZPOPMAX', pick(Z), '0'],
      () => ['ZUNIONSTORE', pick(Z), '2', 'z1', 's1', 'WEIGHTS', '2', '1'],
      () => ['ZREMRANGEBYSCORE', pick(Z), '0', '3'],
    ];
    for (let i = 1; i <= 600; i++) {
      const argv = pick(ops)();
      // Blocking forms only when they cannot block (something to pop), so the sequence never waits.
      if (argv[0] === 'BLMPOP' && (await master.send('EXISTS', 'l1', 'l2')) === 0) continue;
      if (argv[0] === 'BZPOPMAX' && (await master.send('EXISTS', argv[1])) === 0) continue;
      await master.send(...argv);
      // Compare often: a wrong propagation can be hidden by later writes that rebuild the same value.
      if (i % 25 === 0) {
        await inSync();
        expect(await snapshot(replica), `after ${i} commands`).to.deep.equal(await snapshot(master));
      }
    }
  });

  it('propagates clients served after blocking as their non-blocking forms', async () => {
    const w1 = await client(masterPort);
    const w2 = await client(masterPort);
    const w3 = await client(masterPort);
    const r1 = w1.send('BLPOP', 'bq', '0');
    const r2 = w2.send('BLMOVE', 'bsrc', 'bdst', 'LEFT', 'RIGHT', '0');
    const r3 = w3.send('BZMPOP', '0', '1', 'bz', 'MAX', 'COUNT', '2');
    await waitFor('three blocked clients', async () => (field(await master.send('INFO', 'clients'), 'blocked_clients') === '3' ? true : undefined), 15000, 20);
    await master.send('RPUSH', 'bq', 'x', 'y');
    await master.send('RPUSH', 'bsrc', 'p', 'q');
    await master.send('ZADD', 'bz', '1', 'a', '2', 'b', '3', 'c');
    expect(await r1).to.deep.equal(['bq', 'x']);
    expect(await r2).to.equal('p');
    expect(await r3).to.deep.equal(['bz', [['c', '3'], ['b', '2']]]);
    await inSync();
    const snap = await snapshot(replica);
    expect(snap).to.deep.equal(await snapshot(master));
    expect(snap.bq).to.deep.equal(['list', ['y']]);
    expect(snap.bdst).to.deep.equal(['list', ['p']]);
    expect(snap.bz).to.deep.equal(['zset', ['a', '1']]);
  });
});
