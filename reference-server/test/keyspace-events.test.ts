/**
 * Keyspace notifications (notify-keyspace-events) compared with Debian's redis-server: the same command script runs
 * on both, and the messages a PSUBSCRIBE '__key*__:*' connection receives must be identical, in order.
 */
import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { startRealRedis, startRefInProcess, type RunningServer } from './util/servers.js';

const MARKER_CHANNEL = '__keyspace@0__:~end-of-script~';

/** A PSUBSCRIBEd connection that collects [channel, message] pairs. */
class Subscriber {
  private constructor(private readonly c: RespClient) {}

  static async open(port: number): Promise<Subscriber> {
    const c = await RespClient.connect(port);
    const r = await c.call(['PSUBSCRIBE', '__key*__:*']);
    expect(r).to.contain('psubscribe');
    return new Subscriber(c);
  }

  /** Reads pmessages until one matches `until` (included), or throws at the deadline. */
  async collectUntil(until: (ch: string, msg: string) => boolean, timeoutMs = 5000): Promise<string[][]> {
    const out: string[][] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.c.read(Math.max(1, deadline - Date.now()));
      if (f === null) throw new Error(`no matching notification; got ${JSON.stringify(out)}`);
      const el = f.elements.map((e) => e.slice(e.indexOf('\r\n') + 2, -2));
      const [, , ch, msg] = el;
      out.push([ch, msg]);
      if (until(ch, msg)) return out;
    }
  }

  close(): void {
    this.c.close();
  }
}

interface Pair {
  real: RunningServer;
  ref: RunningServer;
}

/** One scripted step: a command on the main connection, or a blocked command on a second one. */
type Step = string[] | { block: string[] } | { awaitBlocked: true };

/** Runs the script on one server; returns the notifications and the replies (replies are compared too). */
async function runScript(port: number, classes: string, script: Step[]): Promise<{ events: string[][]; replies: string[] }> {
  const main = await RespClient.connect(port);
  const blocker = await RespClient.connect(port);
  const sub = await Subscriber.open(port);
  try {
    expect(await main.call(['FLUSHALL'])).to.equal('+OK\r\n');
    expect(await main.call(['CONFIG', 'SET', 'notify-keyspace-events', classes])).to.equal('+OK\r\n');
    const replies: string[] = [];
    let blocked = false;
    for (const step of script) {
      if (Array.isArray(step)) {
        replies.push(String(await main.call(step)));
      } else if ('block' in step) {
        blocker.send(step.block);
        blocked = true;
      } else {
        // The blocked command must be waiting before the command that serves it runs.
        const deadline = Date.now() + 3000;
        for (;;) {
          const info = String(await main.call(['INFO', 'clients']));
          if (/blocked_clients:1\r\n/.test(info)) break;
          if (Date.now() > deadline) throw new Error('client did not block');
        }
      }
    }
    if (blocked) replies.push(String((await blocker.read())?.raw));
    await main.call(['PUBLISH', MARKER_CHANNEL, 'end']);
    const events = await sub.collectUntil((ch) => ch === MARKER_CHANNEL);
    events.pop();
    await main.call(['CONFIG', 'SET', 'notify-keyspace-events', '']);
    return { events, replies };
  } finally {
    sub.close();
    main.close();
    blocker.close();
  }
}

const SCRIPT: Step[] = [
  // strings
  ['SET', 's1', 'v'], ['SET', 's1', 'v2', 'EX', '100'], ['SET', 's1', 'x', 'NX'], ['SET', 'snew', 'x', 'XX'],
  ['SET', 's1', 'y', 'KEEPTTL', 'GET'], ['SETNX', 's2', 'a'], ['SETNX', 's2', 'b'], ['SETEX', 's3', '100', 'v'],
  ['PSETEX', 's4', '100000', 'v'], ['MSET', 'm1', '1', 'm2', '2'], ['MSETNX', 'm1', 'x', 'm3', 'y'], ['MSETNX', 'm4', 'x', 'm5', 'y'],
  ['GETSET', 's2', 'c'], ['APPEND', 's2', 'dd'], ['APPEND', 'snew2', 'dd'], ['INCR', 'n'], ['DECR', 'n'], ['INCRBY', 'n', '5'],
  ['DECRBY', 'n', '2'], ['INCRBYFLOAT', 'n', '1.5'], ['INCR', 's1'], ['SETRANGE', 's2', '1', 'ZZ'], ['SETRANGE', 's2', '1', ''],
  ['SETRANGE', 'sr', '0', ''], ['SETRANGE', 'sr', '2', 'x'], ['GETDEL', 's3'], ['GETDEL', 'nokey'], ['GETEX', 's2', 'EX', '100'],
  ['GETEX', 's2', 'PERSIST'], ['GETEX', 's2', 'PERSIST'], ['GETEX', 's2'], ['GETEX', 's4', 'PXAT', '1'], ['GET', 'nokey'],
  ['SET', 'bad', 'x', 'EX', '0'],
  // generic
  ['DEL', 'm1', 'm2', 'nokey'], ['UNLINK', 'm3'], ['EXPIRE', 'm4', '100'], ['EXPIRE', 'm4', '50', 'GT'], ['PEXPIRE', 'm4', '100000'],
  ['EXPIREAT', 'm4', '4000000000'], ['PERSIST', 'm4'], ['PERSIST', 'm4'], ['EXPIRE', 'nokey', '10'], ['EXPIRE', 'm5', '-1'],
  ['SET', 'r1', 'v'], ['RENAME', 'r1', 'r2'], ['RENAME', 'r2', 'r2'], ['RENAME', 'nokey', 'r3'], ['SET', 'r3', 'x'],
  ['RENAMENX', 'r2', 'r3'], ['RENAMENX', 'r2', 'r4'], ['RENAME', 'r4', 'r3'], ['MOVE', 'r3', '1'], ['MOVE', 'nokey', '1'],
  ['SELECT', '1'], ['COPY', 'r3', 'c1'], ['COPY', 'r3', 'c1'], ['COPY', 'r3', 'c1', 'REPLACE'], ['COPY', 'r3', 'c2', 'DB', '0'],
  ['DEL', 'r3', 'c1'], ['SELECT', '0'], ['SET', 'd1', 'hello'], ['EXPIRE', 'd1', '1000'],
  // lists
  ['LPUSH', 'l1', 'a', 'b'], ['RPUSH', 'l1', 'c'], ['LPUSHX', 'l1', 'z'], ['RPUSHX', 'nol', 'z'], ['LINSERT', 'l1', 'BEFORE', 'a', 'q'],
  ['LINSERT', 'l1', 'BEFORE', 'nope', 'q'], ['LSET', 'l1', '0', 'y'], ['LSET', 'l1', '99', 'y'], ['LREM', 'l1', '0', 'q'],
  ['LREM', 'l1', '0', 'nope'], ['LPOP', 'l1'], ['RPOP', 'l1', '2'], ['LPOP', 'l1', '0'], ['RPUSH', 'l2', '1', '2', '3', '4'],
  ['LTRIM', 'l2', '1', '2'], ['LTRIM', 'l2', '5', '9'], ['RPUSH', 'l3', 'x', 'y'], ['RPOPLPUSH', 'l3', 'l4'], ['LMOVE', 'l3', 'l4', 'LEFT', 'RIGHT'],
  ['LMOVE', 'l4', 'l4', 'LEFT', 'RIGHT'], ['LMPOP', '2', 'nol', 'l4', 'RIGHT', 'COUNT', '5'], ['BLPOP', 'nol', 'l1', '0.01'],
  ['RPUSH', 'l5', 'a'], ['BRPOP', 'l5', '1'], ['BLMOVE', 'nol', 'l6', 'LEFT', 'LEFT', '0.01'], ['LPUSH', 's1', 'x'],
  // hashes
  ['HSET', 'h1', 'f1', '1', 'f2', '2'], ['HSET', 'h1', 'f1', '1'], ['HSETNX', 'h1', 'f1', 'x'], ['HSETNX', 'h1', 'f3', 'x'], ['HMSET', 'h1', 'f4', 'v'],
  ['HINCRBY', 'h1', 'f1', '3'], ['HINCRBY', 'h1', 'f3', '3'], ['HINCRBYFLOAT', 'h1', 'f2', '0.5'], ['HDEL', 'h1', 'nope'],
  ['HDEL', 'h1', 'f1', 'f2'], ['HDEL', 'h1', 'f3', 'f4'], ['HGET', 'h1', 'f1'],
  // sets
  ['SADD', 'st1', 'a', 'b', 'c'], ['SADD', 'st1', 'a'], ['SREM', 'st1', 'zz'], ['SREM', 'st1', 'a'], ['SADD', 'st2', 'b', 'x'],
  ['SINTERSTORE', 'sd', 'st1', 'st2'], ['SUNIONSTORE', 'sd', 'st1', 'st2'], ['SDIFFSTORE', 'sd', 'st1', 'st1'], ['SINTERSTORE', 'sd', 'st1', 'nokey'],
  ['SMOVE', 'st2', 'st3', 'x'], ['SMOVE', 'st2', 'st3', 'zz'], ['SMOVE', 'st3', 'st1', 'x'], ['SADD', 'sp', 'only'], ['SPOP', 'sp'],
  ['SADD', 'sp', '1', '2'], ['SPOP', 'sp', '5'], ['SPOP', 'nokey'], ['SPOP', 'st1', '0'], ['SREM', 'st1', 'b', 'c', 'x'],
  // sorted sets
  ['ZADD', 'z1', '1', 'a', '2', 'b', '3', 'c'], ['ZADD', 'z1', '1', 'a'], ['ZADD', 'z1', 'NX', '5', 'a'], ['ZADD', 'z1', 'XX', '5', 'new'],
  ['ZADD', 'z1', 'INCR', '1', 'a'], ['ZINCRBY', 'z1', '2', 'b'], ['ZADD', 'z1', 'GT', 'CH', '0', 'c'], ['ZREM', 'z1', 'zz'], ['ZREM', 'z1', 'c'],
  ['ZADD', 'z2', '1', 'a', '2', 'x'], ['ZUNIONSTORE', 'zd', '2', 'z1', 'z2'], ['ZINTERSTORE', 'zd', '2', 'z1', 'z2'],
  ['ZDIFFSTORE', 'zd', '2', 'z1', 'z1'], ['ZRANGESTORE', 'zd', 'z1', '0', '-1'], ['ZRANGESTORE', 'zd', 'z1', '5', '9'],
  ['ZADD', 'z3', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e', '6', 'f'], ['ZREMRANGEBYRANK', 'z3', '0', '0'], ['ZREMRANGEBYRANK', 'z3', '9', '10'],
  ['ZREMRANGEBYSCORE', 'z3', '2', '3'], ['ZREMRANGEBYLEX', 'z3', '[d', '[d'], ['ZPOPMIN', 'z3'], ['ZPOPMAX', 'z3', '5'], ['ZPOPMIN', 'nokey'],
  ['ZADD', 'z4', '1', 'a'], ['BZPOPMIN', 'z4', '1'], ['ZMPOP', '1', 'z2', 'MAX', 'COUNT', '1'], ['ZREM', 'z2', 'a'],
  // geo, hyperloglog, bitmaps, sort
  ['GEOADD', 'g', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'], ['GEOADD', 'g', '13.361389', '38.115556', 'Palermo'],
  ['GEOSEARCHSTORE', 'gd', 'g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'], ['GEORADIUS', 'g', '15', '37', '200', 'km', 'STORE', 'gd2'],
  ['GEOSEARCHSTORE', 'gd', 'g', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'], ['GEOSEARCHSTORE', 'gd', 'nokey', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
  ['PFADD', 'hll', 'a', 'b'], ['PFADD', 'hll', 'a'], ['PFADD', 'hll2', 'c'], ['PFMERGE', 'hll3', 'hll', 'hll2'], ['PFCOUNT', 'hll'],
  ['SETBIT', 'b1', '7', '1'], ['SETBIT', 'b1', '7', '1'], ['SETBIT', 'b1', '100', '0'], ['BITFIELD', 'b2', 'SET', 'u8', '0', '255'],
  ['BITFIELD', 'b2', 'GET', 'u8', '0'], ['BITOP', 'OR', 'b3', 'b1', 'b2'], ['BITOP', 'AND', 'b3', 'nokey'],
  ['RPUSH', 'tosort', '3', '1', '2'], ['SORT', 'tosort', 'STORE', 'sorted'], ['SORT', 'nokey', 'STORE', 'sorted'], ['SORT', 'tosort'],
  // dump/restore, blocking pops served later
  ['SET', 'dumped', 'payload'], ['DEL', 'dumped'],
  { block: ['BLPOP', 'blk', '5'] }, { awaitBlocked: true }, ['RPUSH', 'blk', 'v'],
  ['MULTI'], ['SET', 'tx', '1'], ['INCR', 'tx'], ['DEL', 'tx'], ['EXEC'],
  ['FLUSHALL'],
];

describe('keyspace notifications (differential against redis-server)', function () {
  this.timeout(30000);
  let servers: Pair;
  /** CONFIG GET notify-keyspace-events right after start with --notify-keyspace-events Ex$ (real, then reference). */
  const startupValues: (string | null)[] = [];

  before(async () => {
    const [real, ref] = await Promise.all([
      startRealRedis(['--notify-keyspace-events', 'Ex$']),
      startRefInProcess(['--notify-keyspace-events', 'Ex$']),
    ]);
    servers = { real, ref };
    for (const port of [real.port, ref.port]) {
      const c = await RespClient.connect(port);
      startupValues.push(await c.call(['CONFIG', 'GET', 'notify-keyspace-events']));
      c.close();
    }
  });

  after(async () => {
    await servers?.real.stop();
    await servers?.ref.stop();
  });

  for (const classes of ['KEA', 'Elg', 'KEn$hsz', 'Ks', 'Em']) {
    it(`sends the same notifications as redis-server with "${classes}"`, async () => {
      const real = await runScript(servers.real.port, classes, SCRIPT);
      const ref = await runScript(servers.ref.port, classes, SCRIPT);
      expect(ref.replies).to.deep.equal(real.replies);
      expect(ref.events).to.deep.equal(real.events);
      expect(ref.events.length).to.be.greaterThan(5);
    });
  }

  it('RESTORE notifies "restore", and "del" when it replaces a key with an already expired one', async () => {
    const results: string[][][] = [];
    for (const port of [servers.real.port, servers.ref.port]) {
      const c = await RespClient.connect(port);
      try {
        await c.call(['SET', 'src', 'value']);
        const dump = (await c.call(['DUMP', 'src'])) ?? '';
        const payload = dump.slice(dump.indexOf('\r\n') + 2, -2);
        const { events } = await runScript(port, 'KEA', [
          ['SET', 'x', '1'], ['RESTORE', 'r', '0', payload], ['RESTORE', 'r', '0', payload], ['RESTORE', 'r', '0', payload, 'REPLACE'],
          ['RESTORE', 'r', '1', payload, 'REPLACE', 'ABSTTL'], ['RESTORE', 'r2', '1', payload, 'ABSTTL'],
        ]);
        results.push(events);
      } finally {
        c.close();
      }
    }
    expect(results[1]).to.deep.equal(results[0]);
    expect(results[1].map((e) => e[1])).to.include('restore');
  });

  it('publishes "expired" when a key with a TTL is removed by active or lazy expiry', async () => {
    const got: string[][][] = [];
    for (const port of [servers.real.port, servers.ref.port]) {
      const main = await RespClient.connect(port);
      const sub = await Subscriber.open(port);
      try {
        await main.call(['CONFIG', 'SET', 'notify-keyspace-events', 'KEx']);
        await main.call(['SET', 'ttlkey', 'v', 'PX', '50']);
        // Nobody reads the key: the server's cycle must expire it on its own.
        got.push(await sub.collectUntil((ch) => ch === '__keyevent@0__:expired', 5000));
        await main.call(['SET', 'lazy', 'v', 'PX', '1']);
        await main.call(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']);
        const deadline = Date.now() + 3000;
        while ((await main.call(['PTTL', 'lazy'])) !== ':-2\r\n' && Date.now() < deadline);
        await main.call(['DEBUG', 'SET-ACTIVE-EXPIRE', '1']);
        got.push(await sub.collectUntil((ch) => ch === '__keyevent@0__:expired', 5000));
      } finally {
        await main.call(['CONFIG', 'SET', 'notify-keyspace-events', '']);
        sub.close();
        main.close();
      }
    }
    expect(got[0]).to.deep.equal([['__keyspace@0__:ttlkey', 'expired'], ['__keyevent@0__:expired', 'ttlkey']]);
    expect(got[1]).to.deep.equal([['__keyspace@0__:lazy', 'expired'], ['__keyevent@0__:expired', 'lazy']]);
    // got[0..1] are redis-server's, got[2..3] the reference server's.
    expect(got[2]).to.deep.equal(got[0]);
    expect(got[3]).to.deep.equal(got[1]);
  });

  it('publishes "evicted" when CONFIG SET maxmemory makes the server evict', async () => {
    const got: string[][][] = [];
    for (const port of [servers.real.port, servers.ref.port]) {
      const main = await RespClient.connect(port);
      const sub = await Subscriber.open(port);
      try {
        await main.call(['FLUSHALL']);
        await main.call(['CONFIG', 'SET', 'notify-keyspace-events', 'KEe']);
        await main.call(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
        await main.call(['SET', 'foo', 'bar']);
        await main.call(['CONFIG', 'SET', 'maxmemory', '1']);
        got.push(await sub.collectUntil((ch) => ch === '__keyevent@0__:evicted', 5000));
      } finally {
        await main.call(['CONFIG', 'SET', 'maxmemory', '0']);
        await main.call(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
        await main.call(['CONFIG', 'SET', 'notify-keyspace-events', '']);
        sub.close();
        main.close();
      }
    }
    expect(got[0]).to.deep.equal([['__keyspace@0__:foo', 'evicted'], ['__keyevent@0__:evicted', 'foo']]);
    expect(got[1]).to.deep.equal(got[0]);
  });

  it('CONFIG GET / SET of notify-keyspace-events matches redis-server (normalised classes, errors)', async () => {
    const cases = [
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'gKE$lshzxetd'], ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'EKmnAg'], ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Elg'], ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'zhs$xeKtdnm'], ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KEq'], ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'a'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ''], ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Ex$'],
    ];
    const out: (string | null)[][] = [];
    for (const port of [servers.real.port, servers.ref.port]) {
      const c = await RespClient.connect(port);
      const replies: (string | null)[] = [];
      try {
        for (const argv of cases) replies.push(await c.call(argv));
      } finally {
        c.close();
      }
      out.push(replies);
    }
    expect(out[1]).to.deep.equal(out[0]);
    // From the command line 'Ex$' became '$xE'; an invalid class is refused with Redis's text.
    expect(startupValues[1]).to.equal('*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\n$xE\r\n');
    expect(startupValues[1]).to.equal(startupValues[0]);
    expect(out[1][2]).to.contain('AKE');
    expect(out[1][11]).to.equal(
      "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n",
    );
  });
});
