/** Command-level tests of the strings/keys/hashes families on an in-memory server stub: replies and propagation. */
import { expect } from 'chai';
import type { ClientState, CommandContext, CommandSpec, ConfigApi, ServerApi } from '../commands/command.js';
import type { Db } from '../store/types.js';
import { createDb } from '../store/db.js';
import { limitsFromConfig } from '../store/limits.js';
import { ReplyBuffer } from '../resp/writer.js';
import { commands as stringCmds } from '../commands/strings.js';
import { commands as keyCmds } from '../commands/keys.js';
import { commands as hashCmds } from '../commands/hashes.js';

const CONFIG: Record<string, string> = {
  'proto-max-bulk-len': String(512 * 1024 * 1024),
  'hash-max-listpack-entries': '128',
  'hash-max-listpack-value': '64',
  'cluster-enabled': 'no',
  'maxmemory-policy': 'noeviction',
  save: '',
};

interface Harness {
  /** `effective` is what the server would propagate: propagateAs, else argv if a write modified a key, unless suppressed. */
  run(...argv: string[]): { out: string; propagated: string[][] | null; suppressed: boolean; effective: string[][] | null };
  client: ClientState;
  dbs: Db[];
  role: 'master' | 'replica';
}

function harness(): Harness {
  // What these families reach of the server; the rest of ServerApi (clients, INFO, ...) is never called by them.
  const config = {
    get: (n: string) => CONFIG[n],
    getNumber: (n: string) => Number(CONFIG[n]),
    getBool: (n: string) => CONFIG[n] === 'yes',
    set: (n: string, v: string) => void (CONFIG[n] = v),
    entries: () => Object.entries(CONFIG),
    getMatching: () => [],
    setMany: () => undefined,
    rewrite: () => undefined,
    configFile: '',
  } satisfies ConfigApi;
  const h = { role: 'master' as 'master' | 'replica' } as Harness;
  const dbs: Db[] = [];
  let modified = 0;
  const server = {
    startedAt: Date.now(),
    runId: '0'.repeat(40),
    dbs,
    config,
    signalKeyReady: () => undefined,
    publish: () => 0,
    replication: {
      role: () => h.role,
      infoLines: () => [],
    },
    persistence: { infoLines: () => [], lastSave: () => 0, save: () => undefined },
    log: () => undefined,
    stats: {},
    encodingLimits: limitsFromConfig(config),
  } as unknown as ServerApi;
  for (let i = 0; i < 4; i++) {
    dbs.push(
      createDb(i, {
        now: () => Date.now(),
        isReplica: () => h.role === 'replica',
        onExpired: () => void (server.stats.expired_keys = (server.stats.expired_keys ?? 0) + 1),
        onModified: () => void modified++,
      }),
    );
  }
  const client = { dbIndex: 0, kind: 'normal', resp: 2 } as ClientState;
  const table = new Map<string, CommandSpec>();
  for (const c of [...stringCmds, ...keyCmds, ...hashCmds]) table.set(c.name, c);
  h.client = client;
  h.dbs = dbs;
  h.run = (...argv) => {
    const spec = table.get(argv[0].toLowerCase());
    if (!spec) throw new Error(`no command ${argv[0]}`);
    const reply = new ReplyBuffer();
    let propagated: string[][] | null = null;
    let suppressed = false;
    modified = 0;
    const ctx: CommandContext = {
      client,
      reply,
      get db() {
        return dbs[client.dbIndex];
      },
      server,
      propagateAs: (a) => void (propagated = (propagated ?? []).concat(a)),
      noPropagate: () => void (suppressed = true),
    };
    spec.execute(ctx, argv);
    const effective = suppressed ? null : (propagated ?? (modified > 0 && spec.flags.includes('write') ? [argv] : null));
    return { out: reply.out, propagated, suppressed, effective };
  };
  return h;
}

describe('strings/keys/hashes commands: propagation rewrites', () => {
  it('SET with a relative expire propagates as SET ... PXAT, and SET GET without GET', () => {
    const h = harness();
    const before = Date.now();
    const r = h.run('SET', 'k', 'v', 'EX', '100');
    expect(r.out).to.equal('+OK\r\n');
    const p = r.propagated as string[][];
    expect(p[0].slice(0, 4)).to.deep.equal(['SET', 'k', 'v', 'PXAT']);
    expect(Number(p[0][4])).to.be.within(before + 100_000, Date.now() + 100_000);
    const g = h.run('SET', 'k', 'w', 'GET');
    expect(g.out).to.equal('$1\r\nv\r\n');
    expect(g.propagated).to.deep.equal([['SET', 'k', 'w']]);
    const nx = h.run('SETNX', 'k', 'x');
    expect(nx.out).to.equal(':0\r\n');
    expect(nx.effective).to.equal(null);
  });

  it('TYPE, TTL, PTTL and EXISTS leave the idle time alone; GET resets it (LOOKUP_NOTOUCH)', () => {
    const h = harness();
    h.run('SET', 'idle', 'v');
    const db = h.dbs[0] as Db & { setLastAccess(key: string, atMs: number): void };
    db.setLastAccess('idle', Date.now() - 100_000);
    const idle = (): number => Number(/^:(\d+)/.exec(h.run('OBJECT', 'IDLETIME', 'idle').out)![1]);
    expect(idle()).to.be.at.least(99);
    for (const cmd of [['TYPE', 'idle'], ['TTL', 'idle'], ['PTTL', 'idle'], ['EXISTS', 'idle']]) h.run(...cmd);
    expect(idle(), 'after TYPE/TTL/PTTL/EXISTS').to.be.at.least(99);
    h.run('GET', 'idle');
    expect(idle(), 'after GET').to.be.below(2);
  });

  it('EXPIRE family propagates PEXPIREAT with options, or DEL for a past time', () => {
    const h = harness();
    h.run('SET', 'k', 'v');
    const r = h.run('EXPIRE', 'k', '100', 'NX');
    expect(r.out).to.equal(':1\r\n');
    const p = (r.propagated as string[][])[0];
    expect([p[0], p[1], p[3]]).to.deep.equal(['PEXPIREAT', 'k', 'NX']);
    expect(Number(p[2]) - Date.now()).to.be.within(99_000, 100_000);
    const past = h.run('EXPIRE', 'k', '-1');
    expect(past.out).to.equal(':1\r\n');
    expect(past.propagated).to.deep.equal([['DEL', 'k']]);
    expect(h.run('EXISTS', 'k').out).to.equal(':0\r\n');
    expect(h.run('EXPIRE', 'k', '10').effective).to.equal(null);
  });

  it('a replica applying a past EXPIRE keeps the key (hidden) instead of deleting it', () => {
    const h = harness();
    h.run('SET', 'k', 'v');
    h.role = 'replica';
    expect(h.run('PEXPIREAT', 'k', '1').out).to.equal(':1\r\n');
    expect(h.dbs[0].size()).to.equal(1);
    expect(h.run('GET', 'k').out).to.equal('$-1\r\n');
  });

  it('INCRBYFLOAT and HINCRBYFLOAT propagate the final value', () => {
    const h = harness();
    const r = h.run('INCRBYFLOAT', 'f', '10.5');
    expect(r.out).to.equal('$4\r\n10.5\r\n');
    expect(r.propagated).to.deep.equal([['SET', 'f', '10.5', 'KEEPTTL']]);
    const hr = h.run('HINCRBYFLOAT', 'h', 'x', '0.25');
    expect(hr.propagated).to.deep.equal([['HSET', 'h', 'x', '0.25']]);
  });

  it('GETEX, GETDEL, GETSET and RESTORE propagate their Redis rewrites', () => {
    const h = harness();
    h.run('SET', 'k', 'v');
    const ex = h.run('GETEX', 'k', 'PX', '5000');
    expect((ex.propagated as string[][])[0][0]).to.equal('PEXPIREAT');
    expect(h.run('GETEX', 'k', 'PERSIST').propagated).to.deep.equal([['PERSIST', 'k']]);
    expect(h.run('GETEX', 'k').effective).to.equal(null);
    expect(h.run('GETSET', 'k', 'w').propagated).to.deep.equal([['SET', 'k', 'w']]);
    const dump = h.run('DUMP', 'k').out;
    const payload = dump.slice(dump.indexOf('\r\n') + 2, -2);
    expect(h.run('GETDEL', 'k').propagated).to.deep.equal([['DEL', 'k']]);
    const rs = h.run('RESTORE', 'k', '1000', payload);
    expect(rs.out).to.equal('+OK\r\n');
    const p = (rs.propagated as string[][])[0];
    expect([p[0], p[1], p[3], p[4]]).to.deep.equal(['RESTORE', 'k', payload, 'ABSTTL']);
    expect(h.run('GET', 'k').out).to.equal('$1\r\nw\r\n');
    expect(h.run('RESTORE', 'k', '0', payload).out).to.equal('-BUSYKEY Target key name already exists.\r\n');
    const bad = payload.slice(0, -1) + String.fromCharCode(payload.charCodeAt(payload.length - 1) ^ 1);
    expect(h.run('RESTORE', 'z', '0', bad).out).to.equal('-ERR DUMP payload version or checksum are wrong\r\n');
  });
});

describe('no-op writes after a lazy expiry', () => {
  it('do not propagate their own argv (only the expiry DEL goes out)', () => {
    const h = harness();
    const expired = (k: string, v: string | Map<string, string>): void => {
      h.dbs[0].set(k, v);
      h.dbs[0].setExpire(k, Date.now() - 1);
    };
    expired('a', 'v');
    expect(h.run('DEL', 'a', 'b')).to.deep.include({ out: ':0\r\n', effective: null });
    expired('hh', new Map([['f', 'v']]));
    expect(h.run('HDEL', 'hh', 'f')).to.deep.include({ out: ':0\r\n', effective: null });
    expired('r', 'v');
    expect(h.run('RENAME', 'r', 'r2')).to.deep.include({ out: '-ERR no such key\r\n', effective: null });
    expired('p', 'v');
    expect(h.run('PERSIST', 'p')).to.deep.include({ out: ':0\r\n', effective: null });
    expired('x', 'v');
    expect(h.run('RESTORE', 'x', '-1', 'payload')).to.deep.include({ effective: null });
    // Without an expiry on the way, a no-op write propagates nothing either.
    h.run('SET', 'live', 'v');
    expect(h.run('SETNX', 'live', 'w')).to.deep.include({ out: ':0\r\n', effective: null });
  });
});

describe('keys commands across databases', () => {
  it('SELECT, MOVE, COPY DB and SWAPDB move data between databases', () => {
    const h = harness();
    h.run('SET', 'k', 'v');
    expect(h.run('MOVE', 'k', '2').out).to.equal(':1\r\n');
    expect(h.run('EXISTS', 'k').out).to.equal(':0\r\n');
    expect(h.run('SELECT', '2').out).to.equal('+OK\r\n');
    expect(h.client.dbIndex).to.equal(2);
    expect(h.run('GET', 'k').out).to.equal('$1\r\nv\r\n');
    expect(h.run('COPY', 'k', 'k', 'DB', '3').out).to.equal(':1\r\n');
    expect(h.run('SWAPDB', '2', '0').out).to.equal('+OK\r\n');
    expect(h.run('EXISTS', 'k').out).to.equal(':0\r\n');
    expect(h.run('SELECT', '0').out).to.equal('+OK\r\n');
    expect(h.run('GET', 'k').out).to.equal('$1\r\nv\r\n');
    expect(h.run('SELECT', '4').out).to.equal('-ERR DB index is out of range\r\n');
    expect(h.run('FLUSHALL').out).to.equal('+OK\r\n');
    expect(h.dbs.every((d) => d.size() === 0)).to.equal(true);
  });

  it('HSCAN of a hashtable-encoded hash returns every field present for the whole scan despite churn', () => {
    const h = harness();
    const args = ['HSET', 'big'];
    // Interleaved, so deletions land before the cursor too (a position-based cursor would then skip fields).
    for (let i = 0; i < 1000; i++) args.push(`stable${i}`, 'v', `churn${i}`, 'v');
    h.run(...args);
    expect(h.run('OBJECT', 'ENCODING', 'big').out).to.equal('$9\r\nhashtable\r\n');
    const seen = new Set<string>();
    let cursor = '0';
    let next = 1000;
    let steps = 0;
    do {
      const out = h.run('HSCAN', 'big', cursor, 'COUNT', '20').out;
      const parts = out.split('\r\n');
      cursor = parts[2];
      for (let i = 5; i < parts.length; i += 4) seen.add(parts[i]);
      h.run('HDEL', 'big', `churn${next - 1000}`, `churn${next - 999}`);
      h.run('HSET', 'big', `churn${next}`, 'v', `churn${next + 1}`, 'v');
      next += 2;
      steps++;
    } while (cursor !== '0' && steps < 10_000);
    expect(cursor).to.equal('0');
    for (let i = 0; i < 1000; i++) expect(seen.has(`stable${i}`), `stable${i}`).to.equal(true);
  });

  it('KEYS matches globs and SCAN TYPE filters by type', () => {
    const h = harness();
    h.run('MSET', 'hello', '1', 'hallo', '2', 'hxllo', '3');
    h.run('HSET', 'hash', 'f', 'v');
    const keys = h.run('KEYS', 'h[ae]llo').out;
    expect(keys.startsWith('*2\r\n')).to.equal(true);
    expect(keys).to.include('hello').and.include('hallo');
    expect(h.run('SCAN', '0', 'TYPE', 'hash', 'COUNT', '100').out).to.equal('*2\r\n$1\r\n0\r\n*1\r\n$4\r\nhash\r\n');
  });
});
