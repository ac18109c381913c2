import { expect } from 'chai';
import net from 'node:net';
import { RespClient } from './util/resp-client.js';
import { freePort, startRefInProcess } from './util/servers.js';
import type { RedisServer } from '../server/server.js';
import type { CommandSpec } from '../commands/command.js';
import { buildCommandTable } from '../commands/table.js';
import { Config } from '../config/config.js';
import { RedisServer as Server } from '../server/server.js';
import { createServerDb } from '../server/dbfactory.js';
import { waitUntil } from './util/wait.js';

/** A test-only blocking pop on a string key, to exercise the blocking machinery independently of lists. */
const testBlockingPop: CommandSpec = {
  name: 'testbpop', arity: 3, flags: ['write', 'blocking'], firstKey: 1, lastKey: 1, step: 1, categories: ['write'],
  execute(ctx, argv) {
    const take = (c: typeof ctx): boolean => {
      const v = c.db.get(argv[1]);
      if (typeof v !== 'string') return false;
      c.db.delete(argv[1]);
      c.reply.bulk(v);
      c.propagateAs([['DEL', argv[1]]]);
      return true;
    };
    if (take(ctx)) return;
    return { keys: [argv[1]], timeoutMs: Number(argv[2]) * 1000, retry: (c) => take(c), onTimeout: (r) => r.nullArray() };
  },
};
const testSignal: CommandSpec = {
  name: 'testset', arity: 3, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, categories: ['write'],
  execute(ctx, argv) {
    ctx.db.set(argv[1], argv[2]);
    ctx.server.signalKeyReady(ctx.db, argv[1]);
    ctx.reply.ok();
  },
};

function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  return waitUntil('the condition', cond, timeoutMs, 5);
}

describe('server: dispatch, blocking, transactions, propagation', function () {
  this.timeout(20000);
  let server: RedisServer;
  let port: number;
  const clients: RespClient[] = [];
  const propagated: [number, string[]][] = [];

  async function connect(): Promise<RespClient> {
    const c = await RespClient.connect(port);
    clients.push(c);
    return c;
  }

  before(async () => {
    port = await freePort();
    const config = new Config();
    config.loadString(`port ${port}\nbind 127.0.0.1\nsave ""\nlogfile /dev/null\nenable-debug-command yes`);
    server = new Server({ config, createDb: createServerDb, commands: buildCommandTable([[testBlockingPop, testSignal]]) });
    server.install({ name: 'test-propagation', propagate: (db, argv) => propagated.push([db, argv]) });
    await server.listen();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    propagated.length = 0;
  });
  after(() => server.close());

  it('serves a blocked client in the same tick as the write, FIFO per key', async () => {
    const a = await connect();
    const b = await connect();
    const w = await connect();
    a.send(['TESTBPOP', 'k', '0']);
    await until(() => [...server.clients.values()].filter((c) => c.blocked).length === 1);
    b.send(['TESTBPOP', 'k', '0']);
    await until(() => [...server.clients.values()].filter((c) => c.blocked).length === 2);
    expect(await w.call(['TESTSET', 'k', 'first'])).to.equal('+OK\r\n');
    expect((await a.read())?.raw).to.equal('$5\r\nfirst\r\n');
    expect(await w.call(['TESTSET', 'k', 'second'])).to.equal('+OK\r\n');
    expect((await b.read())?.raw).to.equal('$6\r\nsecond\r\n');
    // The served pop propagates as what retry() asked for, after the write that woke it.
    expect(propagated.map(([, v]) => v.join(' '))).to.deep.equal(['TESTSET k first', 'DEL k', 'TESTSET k second', 'DEL k']);
  });

  it('times a blocked client out with the command reply, and pipelined commands run after it', async () => {
    const a = await connect();
    const start = Date.now();
    a.write('*3\r\n$8\r\nTESTBPOP\r\n$1\r\nz\r\n$3\r\n0.2\r\n*1\r\n$4\r\nPING\r\n');
    expect((await a.read())?.raw).to.equal('*-1\r\n');
    expect(Date.now() - start).to.be.within(150, 1500);
    expect((await a.read())?.raw).to.equal('+PONG\r\n');
  });

  it('CLIENT UNBLOCK ends a block with the timeout reply or an UNBLOCKED error', async () => {
    const a = await connect();
    const w = await connect();
    const id = (await a.call(['CLIENT', 'ID']))?.slice(1, -2) ?? '';
    a.send(['TESTBPOP', 'never', '0']);
    await until(() => [...server.clients.values()].some((c) => c.blocked));
    expect(await w.call(['CLIENT', 'UNBLOCK', id])).to.equal(':1\r\n');
    expect((await a.read())?.raw).to.equal('*-1\r\n');
    a.send(['TESTBPOP', 'never', '0']);
    await until(() => [...server.clients.values()].some((c) => c.blocked));
    expect(await w.call(['CLIENT', 'UNBLOCK', id, 'ERROR'])).to.equal(':1\r\n');
    expect((await a.read())?.raw).to.equal('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
    expect(await w.call(['CLIENT', 'UNBLOCK', id])).to.equal(':0\r\n');
  });

  it('drops a pub/sub consumer that exceeds the client-output-buffer-limit hard limit', async () => {
    const a = await connect();
    const sub = await connect();
    await a.call(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 0 0']);
    try {
      await sub.call(['SUBSCRIBE', 'flood']);
      sub.pause();
      const msg = 'x'.repeat(100000);
      // The paused socket never sees the close, so watch the server drop the subscription instead.
      for (let i = 0; i < 400 && server.channels.has('flood'); i++) await a.call(['PUBLISH', 'flood', msg]);
      expect(server.channels.has('flood')).to.equal(false);
    } finally {
      await a.call(['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60']);
    }
  });

  it('a blocking command inside MULTI does not block', async () => {
    const a = await connect();
    await a.call(['MULTI']);
    await a.call(['TESTBPOP', 'nokey', '0']);
    expect(await a.call(['EXEC'])).to.equal('*1\r\n*-1\r\n');
  });

  it('propagates writes that changed something, wraps an EXEC of several writes in MULTI/EXEC, and skips reads and no-ops', async () => {
    const a = await connect();
    await a.call(['SET', 'p', '1']);
    await a.call(['GET', 'p']);
    await a.call(['DEL', 'nothing']);
    await a.call(['SELECT', '3']);
    await a.call(['SET', 'q', '2']);
    await a.call(['MULTI']);
    await a.call(['SET', 'r', '3']);
    await a.call(['GET', 'r']);
    await a.call(['SELECT', '4']);
    await a.call(['SET', 's', '4']);
    await a.call(['EXEC']);
    // One write is atomic by itself: Redis 7.0 sends it without MULTI/EXEC; an EXEC of reads sends nothing.
    await a.call(['MULTI']);
    await a.call(['SET', 't', '5']);
    await a.call(['EXEC']);
    await a.call(['MULTI']);
    await a.call(['GET', 't']);
    await a.call(['EXEC']);
    await a.call(['PUBLISH', 'ch', 'm']);
    expect(propagated).to.deep.equal([
      [0, ['SET', 'p', '1']], [3, ['SET', 'q', '2']],
      [3, ['MULTI']], [3, ['SET', 'r', '3']], [4, ['SET', 's', '4']], [4, ['EXEC']],
      [4, ['SET', 't', '5']], [4, ['PUBLISH', 'ch', 'm']],
    ]);
  });

  it('WATCH follows Redis 7.0 on expired keys: deleting a key already expired at WATCH is no change; one that expires after WATCH fails EXEC; FLUSHALL only touches keys that existed', async () => {
    const a = await connect();
    const b = await connect();
    server.activeExpire = false;
    try {
      await a.call(['SET', 'st', 'v', 'PX', '1']);
      const t0 = Date.now();
      // Nothing reads st meanwhile, so it is still stored, expired, when WATCHed.
      await until(() => Date.now() > t0 + 5);
      await a.call(['WATCH', 'st', 'absent']);
      expect(await b.call(['EXISTS', 'st'])).to.equal(':0\r\n');
      expect(await b.call(['FLUSHALL'])).to.equal('+OK\r\n');
      await a.call(['MULTI']);
      await a.call(['PING']);
      expect(await a.call(['EXEC'])).to.equal('*1\r\n+PONG\r\n');
      await a.call(['SET', 'live', 'v', 'PX', '40']);
      await a.call(['WATCH', 'live']);
      const at = Date.now() + 40;
      await until(() => Date.now() > at + 5);
      await a.call(['MULTI']);
      await a.call(['PING']);
      expect(await a.call(['EXEC'])).to.equal('*-1\r\n');
    } finally {
      server.activeExpire = true;
    }
  });

  it('a lazy expiry propagates DEL, and does not make a no-op write propagate', async () => {
    const a = await connect();
    // Only the lazy path may remove the key here.
    server.activeExpire = false;
    try {
      await a.call(['SET', 'exp', 'v', 'PX', '30']);
      const at = Date.now() + 30;
      await until(() => Date.now() > at + 5);
      propagated.length = 0;
      expect(await a.call(['SET', 'exp', 'x', 'XX'])).to.equal('$-1\r\n');
    } finally {
      server.activeExpire = true;
    }
    expect(propagated.map(([, v]) => v.join(' '))).to.deep.equal(['DEL exp']);
  });

  it('WATCH aborts EXEC when another client touched the key, including via FLUSHALL', async () => {
    const a = await connect();
    const b = await connect();
    await a.call(['WATCH', 'w']);
    await b.call(['SET', 'w', 'x']);
    await a.call(['MULTI']);
    await a.call(['SET', 'w', 'mine']);
    expect(await a.call(['EXEC'])).to.equal('*-1\r\n');
    await a.call(['WATCH', 'w']);
    await b.call(['FLUSHALL']);
    await a.call(['MULTI']);
    expect(await a.call(['EXEC'])).to.equal('*-1\r\n');
    await a.call(['WATCH', 'w']);
    await a.call(['MULTI']);
    expect(await a.call(['EXEC'])).to.equal('*0\r\n');
  });

  it('CLIENT REPLY OFF and SKIP silence replies', async () => {
    const a = await connect();
    a.send(['CLIENT', 'REPLY', 'OFF']);
    a.send(['PING']);
    a.send(['CLIENT', 'REPLY', 'ON']);
    expect((await a.read())?.raw).to.equal('+OK\r\n');
    a.send(['CLIENT', 'REPLY', 'SKIP']);
    a.send(['ECHO', 'skipped']);
    expect(await a.call(['ECHO', 'shown'])).to.equal('$5\r\nshown\r\n');
  });

  it('CLIENT KILL by ID and TYPE; CLIENT LIST shows the current command', async () => {
    const a = await connect();
    const b = await connect();
    const idB = Number((await b.call(['CLIENT', 'ID']))?.slice(1));
    expect(await a.call(['CLIENT', 'KILL', 'ID', String(idB)])).to.equal(':1\r\n');
    expect(await b.waitClosed()).to.equal(true);
    const list = (await a.call(['CLIENT', 'LIST'])) ?? '';
    expect(list).to.match(/cmd=client\|list/);
    expect(await a.call(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'])).to.equal(':0\r\n');
  });

  it('CLIENT PAUSE WRITE delays writes but not reads; UNPAUSE releases them', async () => {
    const a = await connect();
    const b = await connect();
    await a.call(['CLIENT', 'PAUSE', '5000', 'WRITE']);
    b.send(['SET', 'paused', '1']);
    expect(await a.call(['GET', 'paused'])).to.equal('$-1\r\n');
    expect(await b.read(100)).to.equal(null);
    await a.call(['CLIENT', 'UNPAUSE']);
    expect((await b.read())?.raw).to.equal('+OK\r\n');
  });

  it('CLIENT PAUSE WRITE holds may-replicate commands too, counts held clients as blocked, and expires no key until it ends', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    const stat = async (field: string): Promise<number> => Number(new RegExp(`${field}:(\\d+)`).exec((await a.call(['INFO', 'everything'])) ?? '')?.[1]);
    await a.call(['PFADD', 'pause-hll', 'x']);
    await a.call(['SET', 'pause-exp', 'v', 'PX', '20']);
    const expiredBefore = await stat('expired_keys');
    await a.call(['CLIENT', 'PAUSE', '5000', 'WRITE']);
    b.send(['PFCOUNT', 'pause-hll']);
    c.send(['PUBLISH', 'pause-ch', 'm']);
    const deadline = Date.now() + 5000;
    while ((await stat('blocked_clients')) !== 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(await stat('blocked_clients')).to.equal(2);
    expect(await stat('clients_in_timeout_table')).to.equal(0);
    // The key expires logically (reads miss it) but stays stored: the dataset is static during the pause.
    while ((await a.call(['GET', 'pause-exp'])) !== '$-1\r\n' && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(await a.call(['GET', 'pause-exp'])).to.equal('$-1\r\n');
    expect(await stat('expired_keys')).to.equal(expiredBefore);
    await a.call(['CLIENT', 'UNPAUSE']);
    expect((await b.read())?.raw).to.equal(':1\r\n');
    expect((await c.read())?.raw).to.equal(':0\r\n');
    await a.call(['GET', 'pause-exp']);
    expect(await stat('expired_keys')).to.equal(expiredBefore + 1);
  });

  it('MONITOR shows commands in Redis format', async () => {
    const m = await connect();
    const a = await connect();
    expect(await m.call(['MONITOR'])).to.equal('+OK\r\n');
    await a.call(['SET', 'mk', 'v v']);
    const line = (await m.read())?.raw ?? '';
    expect(line).to.match(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "mk" "v v"\r\n$/);
  });

  it('SLOWLOG records commands over the threshold', async () => {
    const a = await connect();
    await a.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
    await a.call(['SLOWLOG', 'RESET']);
    await a.call(['ECHO', 'x'.repeat(200)]);
    const r = (await a.call(['SLOWLOG', 'GET', '1'])) ?? '';
    await a.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '10000']);
    expect(r).to.contain('$4\r\nECHO\r\n');
    expect(r).to.contain('... (72 more bytes)');
  });

  it('INFO reports keyspace, errorstats and commandstats', async () => {
    const a = await connect();
    await a.call(['CONFIG', 'RESETSTAT']);
    await a.call(['SET', 'i1', 'v']);
    await a.call(['NOSUCH']);
    const info = (await a.call(['INFO', 'everything'])) ?? '';
    expect(info).to.match(/db0:keys=\d+,expires=0,avg_ttl=0/);
    expect(info).to.contain('errorstat_ERR:count=1');
    expect(info).to.match(/cmdstat_set:calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0/);
    expect(info).to.contain('redis_version:7.0.15');
    expect(info).to.contain(`tcp_port:${port}`);
  });

  it('closes a client whose query buffer exceeds client-query-buffer-limit', async () => {
    const a = await connect();
    await a.call(['CONFIG', 'SET', 'client-query-buffer-limit', '1mb']);
    const b = await connect();
    b.write(`*2\r\n$4\r\nECHO\r\n$${3 * 1024 * 1024}\r\n` + 'x'.repeat(2 * 1024 * 1024));
    expect(await b.waitClosed()).to.equal(true);
    await a.call(['CONFIG', 'SET', 'client-query-buffer-limit', '1gb']);
  });

  it('applies a changed proto-max-bulk-len to connected clients', async () => {
    const a = await connect();
    await a.call(['CONFIG', 'SET', 'proto-max-bulk-len', '1mb']);
    try {
      a.write(`*2\r\n$4\r\nECHO\r\n$${2 * 1024 * 1024}\r\n`);
      expect((await a.read())?.raw).to.equal('-ERR Protocol error: invalid bulk length\r\n');
      expect(await a.waitClosed()).to.equal(true);
    } finally {
      await (await connect()).call(['CONFIG', 'SET', 'proto-max-bulk-len', '512mb']);
    }
  });

  it('closes idle clients after timeout, not pub/sub ones', async () => {
    const a = await connect();
    const sub = await connect();
    await sub.call(['SUBSCRIBE', 'x']);
    const idle = await connect();
    await idle.call(['PING']);
    await a.call(['CONFIG', 'SET', 'timeout', '1']);
    try {
      const t0 = Date.now();
      const dropped = await idle.waitClosed(5000);
      expect(dropped).to.equal(true);
      expect(Date.now() - t0).to.be.lessThan(3500);
      expect(sub.closed).to.equal(false);
    } finally {
      await (await RespClient.connect(port)).call(['CONFIG', 'SET', 'timeout', '0']);
    }
  });
});

describe('server: auth, limits, protocol errors', function () {
  this.timeout(20000);
  const clients: RespClient[] = [];
  let ref: Awaited<ReturnType<typeof startRefInProcess>>;
  before(async () => {
    ref = await startRefInProcess(['--requirepass', 's3cret', '--maxclients', '3']);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => ref.stop());
  const connect = async () => {
    const c = await RespClient.connect(ref.port);
    clients.push(c);
    return c;
  };

  it('requires AUTH, accepts HELLO AUTH, refuses wrong passwords', async () => {
    const a = await connect();
    expect(await a.call(['GET', 'x'])).to.equal('-NOAUTH Authentication required.\r\n');
    expect(await a.call(['AUTH', 'wrong'])).to.equal('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    expect(await a.call(['HELLO', '3'])).to.match(/^-NOAUTH HELLO must be called with the client already authenticated/);
    expect(await a.call(['HELLO', '3', 'AUTH', 'default', 's3cret'])).to.match(/^%7\r\n/);
    expect(await a.call(['GET', 'x'])).to.equal('_\r\n');
    const b = await connect();
    expect(await b.call(['AUTH', 's3cret'])).to.equal('+OK\r\n');
    expect(await b.call(['RESET'])).to.equal('+RESET\r\n');
    expect(await b.call(['PING'])).to.equal('-NOAUTH Authentication required.\r\n');
  });

  it('an unauthenticated client cannot send big multibulk counts', async () => {
    const a = await connect();
    a.write('*20\r\n');
    expect((await a.read())?.raw).to.equal('-ERR Protocol error: unauthenticated multibulk length\r\n');
    expect(await a.waitClosed()).to.equal(true);
  });

  it('refuses clients over maxclients', async () => {
    const a = await connect();
    const b = await connect();
    const c = await connect();
    expect(await a.call(['PING'])).to.equal('-NOAUTH Authentication required.\r\n');
    void b;
    const d = await connect();
    expect((await d.read())?.raw).to.equal('-ERR max number of clients reached\r\n');
    expect(await d.waitClosed()).to.equal(true);
    void c;
  });
});

describe('server: protected mode', function () {
  this.timeout(10000);
  it('denies non-loopback clients without a password, with Redis DENIED text', async () => {
    const ref = await startRefInProcess(['--bind', '127.0.0.1']);
    try {
      // Reach the admission check directly with a socket whose remote is not loopback.
      const fake = new net.Socket();
      let written = '';
      Object.defineProperty(fake, 'remoteAddress', { value: '10.1.2.3' });
      fake.end = ((d: string) => {
        written += d;
        return fake;
      }) as typeof fake.end;
      (ref.server as unknown as { admit(s: net.Socket): unknown }).admit(fake);
      expect(written).to.match(/^-DENIED Redis is running in protected mode because protected mode is enabled/);
      expect(ref.server.clients.size).to.equal(0);
    } finally {
      await ref.stop();
    }
  });
});
