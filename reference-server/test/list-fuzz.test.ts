/**
 * Seeded random command sequences (no timed-out blocking calls: Redis times those out only at its cron rate) over lists, sets and sorted sets, sent to real redis-server and to the
 * reference server; every reply must be byte-identical (set-valued replies compared as multisets).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { seededRandom } from '../../harness/src/random/prng.js';
import { freePort, programAvailable } from './util/servers.js';
import { FrameClient, frameEnd } from './util/frame-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REF_BIN = path.resolve(here, '../bin/redis-ref-server.js');
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const STEPS = Number(process.env.FUZZ_STEPS ?? 3000);

/** Top-level elements of an aggregate reply, for order-insensitive comparison. */
function elements(raw: string): string[] {
  const nl = raw.indexOf('\r\n');
  const out: string[] = [];
  let p = nl + 2;
  while (p < raw.length) {
    const e = frameEnd(raw, p);
    out.push(raw.slice(p, e));
    p = e;
  }
  return out;
}

/** Starts a server on a free port; tries another port if the first one was taken meanwhile. */
async function startServer(command: (port: number) => [string, string[]]): Promise<{ proc: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const [cmd, args] = command(port);
    const proc = spawn(cmd, args, { stdio: 'ignore' });
    const deadline = Date.now() + 15000;
    while (proc.exitCode === null && Date.now() < deadline) {
      try {
        const c = await FrameClient.open(port);
        const pong = await c.sendRaw(['PING']);
        c.close();
        if (pong === '+PONG\r\n') return { proc, port };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (proc.exitCode === null) proc.kill('SIGKILL');
    if (attempt >= 2) throw new Error(`${cmd} did not answer on port ${port}`);
  }
}

type Gen = (r: () => number) => { argv: string[]; unordered?: boolean };

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

const LKEYS = ['l1', 'l2', 'l3'];
const SKEYS = ['s1', 's2', 's3'];
const ZKEYS = ['z1', 'z2', 'z3'];
/** Lex commands go to zl only: its scores are all equal, the one case where lex order is defined. */
const ANY = [...LKEYS, ...SKEYS, ...ZKEYS, 'str'];
const MEMBERS = ['a', 'b', 'c', 'd', 'e', '1', '2', '10', '-3', '', 'x y'];
const INDEXES = ['0', '1', '2', '-1', '-2', '5', '-10', '100'];
const SCORES = ['0', '1', '-1', '2.5', '1e3', '-inf', '+inf', '3', '(1', '(2.5', '0.1'];
const LONG = 'L'.repeat(70);
const LEX = ['-', '+', '[a', '(a', '[c', '(d', '[', '(e', '[10'];

const gens: Gen[] = [
  (r) => ({ argv: [pick(r, ['LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX']), pick(r, ANY), pick(r, MEMBERS), pick(r, MEMBERS)] }),
  (r) => ({ argv: [pick(r, ['LPOP', 'RPOP']), pick(r, ANY), ...(r() < 0.5 ? [pick(r, ['0', '1', '2', '5'])] : [])] }),
  (r) => ({ argv: ['LRANGE', pick(r, ANY), pick(r, INDEXES), pick(r, INDEXES)] }),
  (r) => ({ argv: ['LINDEX', pick(r, LKEYS), pick(r, INDEXES)] }),
  (r) => ({ argv: ['LSET', pick(r, LKEYS), pick(r, INDEXES), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['LINSERT', pick(r, LKEYS), pick(r, ['BEFORE', 'AFTER']), pick(r, MEMBERS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['LREM', pick(r, LKEYS), pick(r, ['0', '1', '-1', '2']), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['LTRIM', pick(r, LKEYS), pick(r, INDEXES), pick(r, INDEXES)] }),
  (r) => ({ argv: ['LPOS', pick(r, LKEYS), pick(r, MEMBERS), 'RANK', pick(r, ['1', '-1', '2']), 'COUNT', pick(r, ['0', '1', '2'])] }),
  (r) => ({ argv: ['LMOVE', pick(r, LKEYS), pick(r, LKEYS), pick(r, ['LEFT', 'RIGHT']), pick(r, ['LEFT', 'RIGHT'])] }),
  (r) => ({ argv: ['LMPOP', '2', pick(r, LKEYS), pick(r, LKEYS), pick(r, ['LEFT', 'RIGHT']), 'COUNT', pick(r, ['1', '3'])] }),
  (r) => ({ argv: ['LLEN', pick(r, ANY)] }),
  (r) => ({ argv: ['SADD', pick(r, ANY), pick(r, MEMBERS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['SREM', pick(r, SKEYS), pick(r, MEMBERS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['SMEMBERS', pick(r, SKEYS)], unordered: true }),
  (r) => ({ argv: ['SISMEMBER', pick(r, SKEYS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['SMISMEMBER', pick(r, SKEYS), pick(r, MEMBERS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['SCARD', pick(r, ANY)] }),
  (r) => ({ argv: ['SMOVE', pick(r, SKEYS), pick(r, SKEYS), pick(r, MEMBERS)] }),
  (r) => ({ argv: [pick(r, ['SINTER', 'SUNION', 'SDIFF']), pick(r, SKEYS), pick(r, SKEYS)], unordered: true }),
  (r) => ({ argv: [pick(r, ['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), pick(r, SKEYS), pick(r, SKEYS), pick(r, SKEYS)] }),
  (r) => ({ argv: ['SINTERCARD', '2', pick(r, SKEYS), pick(r, SKEYS), 'LIMIT', pick(r, ['0', '1', '2'])] }),
  (r) => ({ argv: ['ZADD', pick(r, ANY), ...(r() < 0.4 ? [pick(r, ['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'])] : []), pick(r, ['1', '2', '-1', '0.5', '7', 'inf']), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['ZINCRBY', pick(r, ZKEYS), pick(r, ['1', '-2', '0.25']), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['ZREM', pick(r, ZKEYS), pick(r, MEMBERS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['ZSCORE', pick(r, ZKEYS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['ZMSCORE', pick(r, ZKEYS), pick(r, MEMBERS), pick(r, MEMBERS)] }),
  (r) => ({ argv: [pick(r, ['ZRANK', 'ZREVRANK']), pick(r, ZKEYS), pick(r, MEMBERS)] }),
  (r) => ({ argv: ['ZCOUNT', pick(r, ZKEYS), pick(r, SCORES), pick(r, SCORES)] }),
  (r) => ({ argv: ['ZADD', 'zl', '0', pick(r, MEMBERS), '0', pick(r, [...MEMBERS, LONG])] }),
  (r) => ({ argv: ['ZREM', 'zl', pick(r, MEMBERS)] }),
  (r) => ({ argv: ['ZLEXCOUNT', 'zl', pick(r, LEX), pick(r, LEX)] }),
  (r) => ({ argv: [pick(r, ['ZRANGEBYLEX', 'ZREVRANGEBYLEX']), 'zl', pick(r, LEX), pick(r, LEX), 'LIMIT', pick(r, ['0', '1', '-1']), pick(r, ['-1', '2'])] }),
  (r) => ({ argv: ['ZRANGE', pick(r, ZKEYS), pick(r, INDEXES), pick(r, INDEXES), ...(r() < 0.5 ? ['REV'] : []), 'WITHSCORES'] }),
  (r) => ({ argv: ['ZRANGE', pick(r, ZKEYS), pick(r, SCORES), pick(r, SCORES), 'BYSCORE', ...(r() < 0.5 ? ['REV'] : []), 'LIMIT', pick(r, ['0', '1']), pick(r, ['-1', '2'])] }),
  (r) => ({ argv: ['ZRANGE', 'zl', pick(r, LEX), pick(r, LEX), 'BYLEX', ...(r() < 0.5 ? ['REV'] : [])] }),
  (r) => ({ argv: ['ZRANGESTORE', pick(r, ZKEYS), pick(r, ZKEYS), pick(r, INDEXES), pick(r, INDEXES)] }),
  (r) => ({ argv: [pick(r, ['ZREMRANGEBYRANK']), pick(r, ZKEYS), pick(r, INDEXES), pick(r, INDEXES)] }),
  (r) => ({ argv: ['ZREMRANGEBYSCORE', pick(r, ZKEYS), pick(r, SCORES), pick(r, SCORES)] }),
  (r) => ({ argv: ['ZREMRANGEBYLEX', 'zl', pick(r, LEX), pick(r, LEX)] }),
  (r) => ({ argv: ['ZRANGESTORE', 'zl2', 'zl', pick(r, LEX), pick(r, LEX), 'BYLEX'] }),
  (r) => ({ argv: [pick(r, ['ZPOPMIN', 'ZPOPMAX']), pick(r, ZKEYS), ...(r() < 0.5 ? [pick(r, ['0', '1', '3'])] : [])] }),
  (r) => ({ argv: ['ZMPOP', '2', pick(r, ZKEYS), pick(r, ZKEYS), pick(r, ['MIN', 'MAX']), 'COUNT', pick(r, ['1', '2'])] }),
  (r) => ({ argv: [pick(r, ['ZUNION', 'ZINTER', 'ZDIFF']), '2', pick(r, [...ZKEYS, ...SKEYS]), pick(r, ZKEYS), 'WITHSCORES'] }),
  (r) => ({ argv: [pick(r, ['ZUNIONSTORE', 'ZINTERSTORE']), pick(r, ZKEYS), '2', pick(r, ZKEYS), pick(r, [...ZKEYS, ...SKEYS]), 'WEIGHTS', pick(r, ['1', '2', '-1']), pick(r, ['1', '0.5']), 'AGGREGATE', pick(r, ['SUM', 'MIN', 'MAX'])] }),
  (r) => ({ argv: ['ZDIFFSTORE', pick(r, ZKEYS), '2', pick(r, ZKEYS), pick(r, ZKEYS)] }),
  (r) => ({ argv: ['ZINTERCARD', '2', pick(r, ZKEYS), pick(r, ZKEYS)] }),
  (r) => ({ argv: ['ZCARD', pick(r, ANY)] }),
  (r) => ({ argv: ['OBJECT', 'ENCODING', pick(r, ANY)] }),
  (r) => ({ argv: ['SET', 'str', pick(r, MEMBERS)] }),
  (r) => ({ argv: ['ZADD', pick(r, ZKEYS), ...(r() < 0.5 ? [pick(r, ['XX CH', 'GT CH', 'LT', 'NX CH'])] : []), pick(r, SCORES), pick(r, MEMBERS), pick(r, SCORES), pick(r, [...MEMBERS, LONG])].flatMap((a) => a.split(' ')) }),
  (r) => ({ argv: ['SADD', pick(r, SKEYS), pick(r, ['1', '2', '3', '100', '-7', '007', LONG])] }),
  (r) => ({ argv: ['RPUSH', pick(r, LKEYS), LONG, pick(r, MEMBERS)] }),
  (r) => ({ argv: ['SPOP', pick(r, SKEYS), pick(r, ['0', '20'])], unordered: true }),
  (r) => ({ argv: ['SRANDMEMBER', pick(r, SKEYS), pick(r, ['0', '20'])], unordered: true }),
  (r) => ({ argv: ['ZRANDMEMBER', pick(r, ZKEYS), pick(r, ['0', '20']), ...(r() < 0.5 ? ['WITHSCORES'] : [])] }),
  (r) => ({ argv: ['LPOS', pick(r, LKEYS), pick(r, MEMBERS), 'MAXLEN', pick(r, ['0', '1', '3']), ...(r() < 0.5 ? ['COUNT', '0'] : [])] }),
  (r) => ({ argv: ['CONFIG', 'SET', 'zset-max-listpack-entries', pick(r, ['128', '128', '128', '4', '0'])] }),
  (r) => ({ argv: ['DEL', pick(r, ANY)] }),
];

const canRun = programAvailable('redis-server') && existsSync(REF_BIN);

describe('lists, sets and sorted sets: seeded random commands match redis-server', function () {
  const procs: ChildProcess[] = [];
  const clients: FrameClient[] = [];
  let real: FrameClient;
  let ref: FrameClient;

  before(async function () {
    if (!canRun) this.skip();
    const a = await startServer((p) => ['redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']]);
    procs.push(a.proc);
    const b = await startServer((p) => [process.execPath, [REF_BIN, '--port', String(p), '--bind', '127.0.0.1', '--save', '']]);
    procs.push(b.proc);
    real = await FrameClient.open(a.port);
    ref = await FrameClient.open(b.port);
    clients.push(real, ref);
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const p of procs) {
      if (p.exitCode !== null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    }
  });

  for (const resp of ['2', '3']) {
    it(`agrees on ${STEPS} random commands in RESP${resp} (seed ${SEED})`, async () => {
      await real.sendRaw(['HELLO', resp]);
      await ref.sendRaw(['HELLO', resp]);
      await real.sendRaw(['FLUSHALL']);
      await ref.sendRaw(['FLUSHALL']);
      await real.sendRaw(['CONFIG', 'RESETSTAT']);
      await ref.sendRaw(['CONFIG', 'RESETSTAT']);
      const rnd = seededRandom(SEED + Number(resp));
      const mismatches: string[] = [];
      for (let step = 0; step < STEPS && mismatches.length < 5; step++) {
        const { argv, unordered } = pick(rnd, gens)(rnd);
        const [a, b] = await Promise.all([real.sendRaw(argv), ref.sendRaw(argv)]);
        const same = unordered && a[0] === b[0]
          ? JSON.stringify(elements(a).sort()) === JSON.stringify(elements(b).sort()) && a.split('\r\n')[0] === b.split('\r\n')[0]
          : a === b;
        if (!same) mismatches.push(`step ${step}: ${JSON.stringify(argv)}\n  redis: ${JSON.stringify(a)}\n  ref:   ${JSON.stringify(b)}`);
      }
      // Read lookups count keyspace hits/misses, write lookups do not: the totals must agree too.
      const stat = (info: string, name: string): string | undefined => new RegExp(`${name}:(\\d+)`).exec(info)?.[1];
      const [ia, ib] = await Promise.all([real.sendRaw(['INFO', 'stats']), ref.sendRaw(['INFO', 'stats'])]);
      for (const name of ['keyspace_hits', 'keyspace_misses']) {
        if (stat(ia, name) !== stat(ib, name)) mismatches.push(`${name}: redis ${stat(ia, name)}, ref ${stat(ib, name)}`);
      }
      await real.sendRaw(['CONFIG', 'SET', 'zset-max-listpack-entries', '128']);
      await ref.sendRaw(['CONFIG', 'SET', 'zset-max-listpack-entries', '128']);
      expect(mismatches, mismatches.join('\n')).to.deep.equal([]);
    });
  }
});
