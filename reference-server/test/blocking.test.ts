/**
 * Blocking list/zset commands against real redis-server and the reference server (same assertions for both),
 * plus what the list/set/zset commands hand to replication (propagateAs) checked on an in-memory context.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { BlockRequest, CommandContext, CommandSpec, Reply, ServerApi } from '../commands/command.js';
import { DEFAULT_LIMITS } from '../store/limits.js';
import type { Db } from '../store/types.js';
import { createDb } from '../store/db.js';
import { commands as listCommands } from '../commands/lists.js';
import { commands as setCommands } from '../commands/sets.js';
import { commands as zsetCommands } from '../commands/sortedsets.js';
import { FrameClient as Client } from './util/frame-client.js';
import { freePort } from './util/servers.js';
import { waitFor } from './fixtures/repl-kit.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REF_BIN = path.resolve(here, '../bin/redis-ref-server.js');

interface Target {
  name: string;
  available: () => boolean;
  command: (port: number) => [string, string[]];
}

const targets: Target[] = [
  {
    name: 'redis-server',
    available: () => existsSync('/usr/bin/redis-server'),
    command: (port) => ['redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']],
  },
  {
    name: 'reference server',
    available: () => existsSync(REF_BIN),
    command: (port) => [process.execPath, [REF_BIN, '--port', String(port), '--bind', '127.0.0.1', '--save', '']],
  },
];

async function blockedClients(c: Client): Promise<number> {
  const info = (await c.send('INFO', 'clients')) as string;
  const m = /blocked_clients:(\d+)/.exec(info);
  return m ? Number(m[1]) : -1;
}

for (const target of targets) {
  describe(`blocking commands on ${target.name}`, function () {
    let proc: ChildProcess | undefined;
    let port = 0;
    const open: Client[] = [];

    async function client(): Promise<Client> {
      const c = await Client.open(port);
      open.push(c);
      return c;
    }

    async function untilBlocked(main: Client, n: number): Promise<void> {
      await waitFor(`${n} blocked clients`, async () => ((await blockedClients(main)) === n ? true : undefined), 5000, 10);
    }

    before(async function () {
      if (!target.available()) this.skip();
      // A port picked free can be taken before the server binds it: try a few.
      for (let attempt = 0; ; attempt++) {
        port = await freePort();
        const [cmd, args] = target.command(port);
        const p = spawn(cmd, args, { stdio: 'ignore' });
        proc = p;
        try {
          await waitFor('server to answer PING', async () => {
            if (p.exitCode !== null) throw new Error('exited');
            const c = await Client.open(port);
            try {
              return (await c.send('PING')) === 'PONG' ? true : undefined;
            } finally {
              c.close();
            }
          }, 15000, 10);
          break;
        } catch (e) {
          if (p.exitCode === null) p.kill('SIGKILL');
          if (attempt >= 2) throw e;
        }
      }
    });

    afterEach(async () => {
      for (const c of open.splice(0)) c.close();
      if (proc && port) {
        const c = await Client.open(port);
        await c.send('FLUSHALL');
        c.close();
      }
    });

    after(async () => {
      for (const c of open.splice(0)) c.close();
      if (proc && proc.exitCode === null) {
        const exited = new Promise((r) => proc?.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
    });

    it('serves a client blocked in BLPOP with a later LPUSH from another client', async () => {
      const main = await client();
      const waiter = await client();
      const reply = waiter.send('BLPOP', 'k1', 'k2', '0');
      await untilBlocked(main, 1);
      expect(await main.send('LPUSH', 'k2', 'a', 'b')).to.equal(2);
      expect(await reply).to.deep.equal(['k2', 'b']);
      expect(await main.send('LRANGE', 'k2', '0', '-1')).to.deep.equal(['a']);
      expect(await blockedClients(main)).to.equal(0);
    });

    it('SWAPDB serves a waiter from the list the other db held; a waiter on a key neither db has stays blocked', async () => {
      const main = await client();
      const waiter = await client();
      const other = await client();
      expect(await main.send('SELECT', '1')).to.equal('OK');
      expect(await main.send('RPUSH', 'sw', 'hello')).to.equal(1);
      expect(await waiter.send('SELECT', '9')).to.equal('OK');
      expect(await other.send('SELECT', '9')).to.equal('OK');
      const served = waiter.send('BRPOP', 'sw', '0');
      const stays = other.send('BRPOP', 'sw-absent', '0');
      await untilBlocked(main, 2);
      expect(await main.send('SWAPDB', '1', '9')).to.equal('OK');
      expect(await served).to.deep.equal(['sw', 'hello']);
      expect(await blockedClients(main)).to.equal(1);
      expect(await main.send('RPUSH', 'sw-absent', 'x')).to.equal(1);
      // main is in db 1, which after the swap is what db 9 was: the push lands where the waiter is not.
      expect(await blockedClients(main)).to.equal(1);
      expect(await main.send('SELECT', '9')).to.equal('OK');
      expect(await main.send('RPUSH', 'sw-absent', 'y')).to.equal(1);
      expect(await stays).to.deep.equal(['sw-absent', 'y']);
      expect(await main.send('FLUSHALL')).to.equal('OK');
    });

    it('a key created under a waiter by RENAME, MOVE, COPY or ZUNIONSTORE serves it, as Redis\'s dbAdd signals', async () => {
      const main = await client();
      const waiters = await Promise.all([client(), client(), client(), client()]);
      const replies = [
        waiters[0]!.send('BLPOP', 'rn-dst', '0'),
        waiters[1]!.send('BRPOP', 'mv-dst', '0'),
        waiters[2]!.send('BLMPOP', '0', '1', 'cp-dst', 'LEFT'),
        waiters[3]!.send('BZPOPMIN', 'zu-dst', '0'),
      ];
      await untilBlocked(main, 4);
      expect(await main.send('RPUSH', 'rn-src', 'a', 'b')).to.equal(2);
      expect(await main.send('RENAME', 'rn-src', 'rn-dst')).to.equal('OK');
      expect(await replies[0]).to.deep.equal(['rn-dst', 'a']);
      expect(await main.send('SELECT', '3')).to.equal('OK');
      expect(await main.send('RPUSH', 'mv-dst', 'x', 'y')).to.equal(2);
      expect(await main.send('MOVE', 'mv-dst', '0')).to.equal(1);
      expect(await main.send('SELECT', '0')).to.equal('OK');
      expect(await replies[1]).to.deep.equal(['mv-dst', 'y']);
      expect(await main.send('RPUSH', 'cp-src', 'c')).to.equal(1);
      expect(await main.send('COPY', 'cp-src', 'cp-dst')).to.equal(1);
      expect(await replies[2]).to.deep.equal(['cp-dst', ['c']]);
      expect(await main.send('ZADD', 'zu-src', '2', 'm2', '1', 'm1')).to.equal(2);
      expect(await main.send('ZUNIONSTORE', 'zu-dst', '1', 'zu-src')).to.equal(2);
      const popped = (await replies[3]) as string[];
      expect(popped.slice(0, 2)).to.deep.equal(['zu-dst', 'm1']);
      expect(await blockedClients(main)).to.equal(0);
      expect(await main.send('FLUSHALL')).to.equal('OK');
    });

    it('times out with a null reply and leaves nothing behind', async () => {
      const main = await client();
      const waiter = await client();
      expect(await waiter.send('BLPOP', 'none', '0.05')).to.equal(null);
      expect(await waiter.send('BZPOPMIN', 'none', '0.05')).to.equal(null);
      expect(await waiter.send('BLMOVE', 'none', 'dst', 'LEFT', 'LEFT', '0.05')).to.equal(null);
      expect(await main.send('EXISTS', 'none', 'dst')).to.equal(0);
      expect(await blockedClients(main)).to.equal(0);
    });

    it('serves waiters on one key in the order they blocked (FIFO)', async () => {
      const main = await client();
      const w1 = await client();
      const w2 = await client();
      const w3 = await client();
      const r1 = w1.send('BLPOP', 'q', '0');
      await untilBlocked(main, 1);
      const r2 = w2.send('BRPOP', 'q', '0');
      await untilBlocked(main, 2);
      const r3 = w3.send('BLPOP', 'q', '0');
      await untilBlocked(main, 3);
      expect(await main.send('RPUSH', 'q', 'a', 'b')).to.equal(2);
      expect(await r1).to.deep.equal(['q', 'a']);
      expect(await r2).to.deep.equal(['q', 'b']);
      await untilBlocked(main, 1);
      await main.send('RPUSH', 'q', 'c');
      expect(await r3).to.deep.equal(['q', 'c']);
      expect(await main.send('EXISTS', 'q')).to.equal(0);
    });

    it('keeps a list waiter blocked while the key holds another type', async () => {
      const main = await client();
      const waiter = await client();
      const reply = waiter.send('BLPOP', 'typed', '0');
      await untilBlocked(main, 1);
      await main.send('SET', 'typed', 'str');
      await main.send('DEL', 'typed');
      await main.send('ZADD', 'typed', '1', 'm');
      expect(await blockedClients(main)).to.equal(1);
      await main.send('DEL', 'typed');
      await main.send('RPUSH', 'typed', 'v');
      expect(await reply).to.deep.equal(['typed', 'v']);
    });

    it('wakes BZPOPMAX and BZMPOP waiters with ZADD and BLMOVE waiters with RPUSH', async () => {
      const main = await client();
      const w1 = await client();
      const w2 = await client();
      const w3 = await client();
      const r1 = w1.send('BZPOPMAX', 'z', '0');
      const r2 = w2.send('BZMPOP', '0', '1', 'z2', 'MIN', 'COUNT', '2');
      const r3 = w3.send('BLMOVE', 'src', 'dst', 'RIGHT', 'LEFT', '0');
      await untilBlocked(main, 3);
      await main.send('ZADD', 'z', '1', 'a', '2', 'b');
      await main.send('ZADD', 'z2', '3', 'x', '1', 'y', '2', 'w');
      await main.send('RPUSH', 'src', 'one', 'two');
      expect(await r1).to.deep.equal(['z', 'b', '2']);
      expect(await r2).to.deep.equal(['z2', [['y', '1'], ['w', '2']]]);
      expect(await r3).to.equal('two');
      expect(await main.send('LRANGE', 'dst', '0', '-1')).to.deep.equal(['two']);
      expect(await main.send('ZRANGE', 'z2', '0', '-1')).to.deep.equal(['x']);
    });

    it('drops a blocked client that disconnects without consuming later pushes', async () => {
      const main = await client();
      const waiter = await client();
      void waiter.send('BLPOP', 'gone', '0');
      await untilBlocked(main, 1);
      waiter.close();
      await untilBlocked(main, 0);
      await main.send('RPUSH', 'gone', 'kept');
      expect(await main.send('LRANGE', 'gone', '0', '-1')).to.deep.equal(['kept']);
    });
  });
}

// ---------------------------------------------------------------- propagation, on an in-memory context

class RecordingReply implements Reply {
  readonly resp: 2 | 3 = 2;
  readonly out: unknown[] = [];
  ok(): void { this.out.push('OK'); }
  simple(s: string): void { this.out.push(s); }
  error(msg: string): void { this.out.push({ error: msg }); }
  integer(n: number | bigint): void { this.out.push(Number(n)); }
  bulk(s: string | null): void { this.out.push(s); }
  nullArray(): void { this.out.push(null); }
  arrayHeader(n: number): void { this.out.push(`*${n}`); }
  bulkArray(items: readonly (string | null)[]): void { this.out.push([...items]); }
  mapHeader(n: number): void { this.out.push(`%${n}`); }
  setHeader(n: number): void { this.out.push(`~${n}`); }
  double(d: number): void { this.out.push(d); }
  bool(b: boolean): void { this.out.push(b); }
  verbatim(s: string): void { this.out.push(s); }
  pushHeader(n: number): void { this.out.push(`>${n}`); }
  raw(s: string): void { this.out.push(s); }
}

const table = new Map<string, CommandSpec>();
for (const spec of [...listCommands, ...setCommands, ...zsetCommands]) table.set(spec.name, spec);

function harness() {
  const db: Db = createDb(0, {
    now: () => Date.now(),
    isReplica: () => false,
    onExpired: () => undefined,
    onModified: () => undefined,
  });
  const ready: string[] = [];
  const config = new Map([['zset-max-listpack-entries', 128], ['zset-max-listpack-value', 64], ['set-max-intset-entries', 512]]);
  const server = {
    dbs: [db],
    stats: {},
    config: { getNumber: (n: string) => config.get(n) ?? NaN },
    encodingLimits: { ...DEFAULT_LIMITS, zsetMaxListpackEntries: 128, zsetMaxListpackValue: 64, setMaxIntsetEntries: 512 },
    signalKeyReady: (_db: Db, key: string) => ready.push(key),
  } as unknown as ServerApi;
  function run(...argv: string[]): { reply: RecordingReply; propagated: string[][] | 'none' | 'default'; block: void | BlockRequest; ctx: CommandContext } {
    const reply = new RecordingReply();
    let propagated: string[][] | 'none' | 'default' = 'default';
    const ctx = {
      client: {} as CommandContext['client'],
      reply,
      db,
      server,
      propagateAs: (argvs: string[][]) => { propagated = argvs; },
      noPropagate: () => { propagated = 'none'; },
    } as CommandContext;
    const spec = table.get(argv[0].toLowerCase());
    if (!spec) throw new Error(`no spec for ${argv[0]}`);
    const block = spec.execute(ctx, argv);
    return { reply, propagated, block, ctx };
  }
  function retry(block: BlockRequest): { served: boolean; reply: RecordingReply; propagated: string[][] | 'none' | 'default' } {
    const reply = new RecordingReply();
    let propagated: string[][] | 'none' | 'default' = 'default';
    const ctx = {
      client: {} as CommandContext['client'], reply, db, server,
      propagateAs: (argvs: string[][]) => { propagated = argvs; },
      noPropagate: () => { propagated = 'none'; },
    } as CommandContext;
    const served = block.retry(ctx);
    return { served, reply, propagated };
  }
  return { run, retry, ready, db };
}

describe('list/set/zset propagation rewrites', () => {
  it('propagates served blocking pops as their non-blocking forms', () => {
    const h = harness();
    h.run('RPUSH', 'l', 'a', 'b', 'c', 'd');
    expect(h.run('BLPOP', 'x', 'l', '0').propagated).to.deep.equal([['LPOP', 'l']]);
    expect(h.run('BRPOP', 'l', '0').propagated).to.deep.equal([['RPOP', 'l']]);
    expect(h.run('BLMOVE', 'l', 'd', 'left', 'RIGHT', '0').propagated).to.deep.equal([['LMOVE', 'l', 'd', 'left', 'RIGHT']]);
    expect(h.run('BRPOPLPUSH', 'd', 'l', '0').propagated).to.deep.equal([['RPOPLPUSH', 'd', 'l']]);
    expect(h.run('LMPOP', '1', 'l', 'RIGHT', 'COUNT', '9').propagated).to.deep.equal([['RPOP', 'l', '2']]);
    expect(h.db.get('l')).to.equal(undefined);
    h.run('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c');
    expect(h.run('BZPOPMAX', 'z', '0').propagated).to.deep.equal([['ZPOPMAX', 'z']]);
    expect(h.run('ZMPOP', '2', 'none', 'z', 'MIN', 'COUNT', '5').propagated).to.deep.equal([['ZPOPMIN', 'z', '2']]);
  });

  it('returns a BlockRequest whose retry serves, replies and propagates once data arrives', () => {
    const h = harness();
    const blpop = h.run('BLPOP', 'q', '1.5');
    const req = blpop.block as BlockRequest;
    expect(req.keys).to.deep.equal(['q']);
    expect(req.timeoutMs).to.equal(1500);
    expect(h.retry(req).served).to.equal(false);
    h.db.set('q', 'str');
    expect(h.retry(req).served).to.equal(false);
    h.db.delete('q');
    h.run('RPUSH', 'q', 'v1', 'v2');
    expect(h.ready).to.include('q');
    const r = h.retry(req);
    expect(r.served).to.equal(true);
    expect(r.reply.out).to.deep.equal(['*2', 'q', 'v1']);
    expect(r.propagated).to.deep.equal([['LPOP', 'q']]);
    const zreq = h.run('BZMPOP', '0', '1', 'zq', 'MAX', 'COUNT', '3').block as BlockRequest;
    h.run('ZADD', 'zq', '1', 'a', '2', 'b');
    const zr = h.retry(zreq);
    expect(zr.served).to.equal(true);
    expect(zr.propagated).to.deep.equal([['ZPOPMAX', 'zq', '2']]);
    expect(h.db.get('zq')).to.equal(undefined);
    const mreq = h.run('BLMOVE', 'src', 'dst', 'RIGHT', 'LEFT', '0').block as BlockRequest;
    h.run('RPUSH', 'src', 'x');
    const mr = h.retry(mreq);
    expect(mr.propagated).to.deep.equal([['LMOVE', 'src', 'dst', 'right', 'left']]);
    expect(mr.reply.out).to.deep.equal(['x']);
  });

  it('serves a multi-key waiter from the key that was signalled when one is named', () => {
    const h = harness();
    const req = h.run('BLPOP', 'k1', 'k2', '0').block as BlockRequest;
    h.run('RPUSH', 'k2', 'x');
    h.run('RPUSH', 'k1', 'y');
    const reply = new RecordingReply();
    const ctx = { client: {} as CommandContext['client'], reply, db: h.db, server: {} as ServerApi, propagateAs: () => undefined, noPropagate: () => undefined } as CommandContext;
    expect(req.retry(ctx, 'k2')).to.equal(true);
    expect(reply.out).to.deep.equal(['*2', 'k2', 'x']);
    const zreq = h.run('BZPOPMIN', 'z1', 'z2', '0').block as BlockRequest;
    h.run('ZADD', 'z2', '1', 'a');
    h.run('ZADD', 'z1', '1', 'b');
    const zreply = new RecordingReply();
    expect(zreq.retry({ ...ctx, reply: zreply } as CommandContext, 'z2')).to.equal(true);
    expect(zreply.out).to.deep.equal(['*3', 'z2', 'a', 1]);
  });

  it('rewrites SPOP as SREM (or DEL when it empties the set) and skips no-op writes', () => {
    const h = harness();
    h.run('SADD', 's', 'a', 'b', 'c', 'd', 'e');
    const one = h.run('SPOP', 's');
    const popped = one.reply.out[0] as string;
    expect(one.propagated).to.deep.equal([['SREM', 's', popped]]);
    const two = h.run('SPOP', 's', '2');
    const members = (two.reply.out.slice(1) as string[]);
    expect(two.propagated).to.deep.equal(members.map((m) => ['SREM', 's', m]));
    const rest = h.run('SPOP', 's', '10');
    expect(rest.propagated).to.deep.equal([['DEL', 's']]);
    expect(h.db.get('s')).to.equal(undefined);
    expect(h.run('SPOP', 's').propagated).to.equal('none');
    expect(h.run('LPUSHX', 'nolist', 'a').propagated).to.equal('none');
    expect(h.run('ZADD', 'z', '1', 'a').propagated).to.equal('default');
    expect(h.run('ZADD', 'z', '1', 'a').propagated).to.equal('none');
  });

  it('replies WRONGTYPE and does not block when a blocking command meets another type', () => {
    const h = harness();
    h.db.set('str', 'v');
    const r = h.run('BLPOP', 'none', 'str', '0');
    expect(r.block).to.equal(undefined);
    expect(r.reply.out).to.deep.equal([{ error: 'WRONGTYPE Operation against a key holding the wrong kind of value' }]);
    const t = h.run('BLPOP', 'k', '-1');
    expect(t.reply.out).to.deep.equal([{ error: 'ERR timeout is negative' }]);
  });
});

/** The member list of a recorded SCAN reply: one bulkArray (SSCAN) or a header and bulks (ZSCAN). */
function scanItems(out: unknown[]): string[] {
  return Array.isArray(out[2]) ? (out[2] as string[]) : (out.slice(3) as string[]);
}

describe('SSCAN and ZSCAN on big collections', () => {
  function scanAll(h: ReturnType<typeof harness>, cmd: string, key: string, churn: (step: number) => void): { seen: Set<string>; steps: number } {
    const seen = new Set<string>();
    let cursor = '0';
    let steps = 0;
    do {
      const out = h.run(cmd, key, cursor, 'COUNT', '10').reply.out;
      expect(out[0]).to.equal('*2');
      cursor = out[1] as string;
      const items = scanItems(out);
      const stride = cmd === 'ZSCAN' ? 2 : 1;
      for (let i = 0; i < items.length; i += stride) seen.add(items[i]);
      churn(steps++);
      expect(steps).to.be.below(200);
    } while (cursor !== '0');
    return { seen, steps };
  }

  it('returns every member that stays for the whole scan while others come and go', () => {
    const h = harness();
    const stable: string[] = [];
    for (let i = 0; i < 2000; i++) stable.push(`m${i}`);
    for (let i = 0; i < stable.length; i += 100) h.run('SADD', 's', ...stable.slice(i, i + 100));
    for (let i = 0; i < stable.length; i += 100) h.run('ZADD', 'z', ...stable.slice(i, i + 100).flatMap((m, j) => [String(i + j), m]));
    for (const [cmd, key] of [['SSCAN', 's'], ['ZSCAN', 'z']]) {
      for (let i = 0; i < 300; i++) h.run(cmd === 'SSCAN' ? 'SADD' : 'ZADD', key, ...(cmd === 'SSCAN' ? [`tmp${i}`] : ['0', `tmp${i}`]));
      const { seen } = scanAll(h, cmd, key, (step) => {
        // Remove some temporary members and add new ones between steps.
        h.run(cmd === 'SSCAN' ? 'SREM' : 'ZREM', key, `tmp${step}`, `tmp${step + 100}`);
        h.run(cmd === 'SSCAN' ? 'SADD' : 'ZADD', key, ...(cmd === 'SSCAN' ? [`new${step}`] : ['1', `new${step}`]));
      });
      const missing = stable.filter((m) => !seen.has(m));
      expect(missing, `${cmd} missed members`).to.deep.equal([]);
    }
  });

  it('applies MATCH to members only and keeps ZSCAN scores paired', () => {
    const h = harness();
    const args: string[] = [];
    for (let i = 0; i < 300; i++) args.push(String(i * 1.5), `k${i}`);
    h.run('ZADD', 'z', ...args);
    const out = h.run('ZSCAN', 'z', '0', 'COUNT', '1000', 'MATCH', 'k1?').reply.out;
    expect(out[1]).to.equal('0');
    const items = scanItems(out);
    expect(items.length).to.equal(20);
    for (let i = 0; i < items.length; i += 2) expect(Number(items[i + 1])).to.equal(Number(items[i].slice(1)) * 1.5);
  });
});

describe('ZRANDMEMBER and SRANDMEMBER counts', () => {
  it('returns distinct members for positive counts and exactly |count| picks for negative ones', () => {
    const h = harness();
    const args: string[] = [];
    for (let i = 0; i < 1000; i++) args.push(String(i), `m${i}`);
    h.run('ZADD', 'z', ...args);
    h.run('SADD', 's', ...args.filter((_, i) => i % 2 === 1));
    for (const count of [1, 5, 200, 400, 999]) {
      const zr = h.run('ZRANDMEMBER', 'z', String(count), 'WITHSCORES').reply.out;
      expect(zr[0]).to.equal(`*${count * 2}`);
      const members = zr.filter((_, i) => i % 2 === 1) as string[];
      const scores = zr.filter((_, i) => i > 0 && i % 2 === 0) as number[];
      expect(new Set(members).size).to.equal(count);
      members.forEach((m, i) => expect(scores[i]).to.equal(Number(m.slice(1))));
      const out = h.run('SRANDMEMBER', 's', String(count)).reply.out;
      const sr = (Array.isArray(out[0]) ? out[0] : out.slice(1)) as string[];
      expect(sr.length).to.equal(count);
      expect(new Set(sr).size).to.equal(count);
      for (const m of sr) expect(m).to.match(/^m\d+$/);
    }
    const negOut = h.run('ZRANDMEMBER', 'z', '-3000').reply.out;
    const neg = (Array.isArray(negOut[0]) ? negOut[0] : negOut.slice(1)) as string[];
    expect(neg.length).to.equal(3000);
    expect(new Set(neg).size).to.be.below(1000);
    const all = h.run('ZRANDMEMBER', 'z', '5000').reply.out[0] as string[];
    expect(all.length).to.equal(1000);
    expect(all[0]).to.equal('m999');
  });
});
