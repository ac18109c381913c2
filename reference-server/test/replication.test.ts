/** Reference server replication between reference servers: stream format, PSYNC2 after promotion, WAIT, refusals, FAILOVER, persistence. */
import { expect } from 'chai';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { Backlog } from '../replication/backlog.js';
import { PendingBytes, StreamOut } from '../replication/stream.js';
import { encodeCommand } from '../resp/writer.js';
import { client, info, populate, removeDir, snapshot, startReal, startRef, tempDir, waitFor, waitInSync, type RefNode } from './fixtures/repl-kit.js';
import { freePort } from './util/servers.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRdb } from '../persistence/codec.js';

describe('replication: backlog', () => {
  it('keeps the newest bytes, addressed by global offset, across wrap-around', () => {
    const b = new Backlog(10, 100);
    expect(b.covers(101)).to.equal(true);
    b.append(Buffer.from('abcdef'));
    expect(b.firstByteOffset).to.equal(101);
    expect(b.from(103).toString()).to.equal('cdef');
    b.append(Buffer.from('ghijkl'));
    expect(b.histlen).to.equal(10);
    expect(b.firstByteOffset).to.equal(103);
    expect(b.covers(102)).to.equal(false);
    expect(b.covers(113)).to.equal(true);
    expect(b.from(103).toString()).to.equal('cdefghijkl');
    expect(b.from(110).toString()).to.equal('jkl');
    b.append(Buffer.from('0123456789ABC'));
    expect(b.from(b.firstByteOffset).toString()).to.equal('456789ABC'.padStart(10, '3'));
    b.resize(4);
    expect(b.from(b.firstByteOffset).toString()).to.equal('9ABC');
  });
});

describe('replication: stream buffers', () => {
  it('encodes commands as RESP byte for byte, and pieces taken are never overwritten', () => {
    const out = new StreamOut();
    const lens = [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 70000];
    const argvs = lens.map((n, i) => ['SET', `k${i}`, String.fromCharCode(...Array.from({ length: Math.min(n, 5) }, (_, j) => (j * 97 + 13) & 0xff)).padEnd(n, 'x')]);
    argvs.push(['PING'], Array.from({ length: 12 }, (_, i) => `a${i}`));
    const taken: Array<[Buffer, string]> = [];
    for (const argv of argvs) {
      const expected = encodeCommand(argv);
      expect(out.command(argv)).to.equal(expected.length);
      out.raw('\r\n');
      const piece = out.take();
      taken.push([piece, expected + '\r\n']);
    }
    // Growing and writing on must leave every earlier piece as it was.
    for (let i = 0; i < 50; i++) out.command(['SET', 'filler', 'y'.repeat(5000)]);
    for (const [piece, text] of taken) expect(piece.toString('latin1')).to.equal(text);
  });

  it('hands out exactly the bytes of whole commands as views, across chunks', () => {
    const p = new PendingBytes();
    p.push(Buffer.from('abc'));
    p.push(Buffer.from('defgh'));
    p.push(Buffer.from('i'));
    expect(Buffer.concat(p.take(4)).toString()).to.equal('abcd');
    expect(p.length).to.equal(5);
    expect(Buffer.concat(p.take(5)).toString()).to.equal('efghi');
    expect(p.length).to.equal(0);
    expect(() => p.take(1)).to.throw();
  });
});

describe('replication: reference master and replicas', function () {
  this.timeout(60000);
  let nodes: RefNode[] = [];
  let clients: Redis[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const c of clients) c.disconnect();
    for (const n of nodes.reverse()) await n.stop();
    nodes = [];
    clients = [];
  });
  after(() => { for (const d of dirs) removeDir(d); });

  async function ref(port: number, args: string[] = [], dir?: string): Promise<[RefNode, Redis]> {
    const n = await startRef(port, args, dir);
    if (!dir) dirs.push(n.dir);
    nodes.push(n);
    const c = client(port);
    clients.push(c);
    return [n, c];
  }

  it('streams writes as Redis does: FULLRESYNC + RDB, then SELECT before the first write of a db, expired keys as DEL', async () => {
    const [, m] = await ref(16430);
    const sock = net.connect({ host: '127.0.0.1', port: 16430 });
    let data = '';
    sock.on('data', (d) => { data += d.toString('latin1'); });
    try {
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n9999\r\n*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
      await waitFor('FULLRESYNC and payload', () => /\+OK\r\n\+FULLRESYNC [0-9a-f]{40} \d+\r\n\$\d+\r\nREDIS0010/.test(data));
      const afterRdb = (): string => data.slice(data.indexOf('REDIS0010'));
      await m.select(5);
      await m.set('k', 'v');
      await m.set('t', 'x', 'PX', 30);
      await waitFor('SELECT + SET in the stream', () => afterRdb().includes('*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n'));
      await waitFor('t expired', async () => (await m.exists('t')) === 0);
      await waitFor('DEL of the expired key', () => afterRdb().includes('*2\r\n$3\r\nDEL\r\n$1\r\nt\r\n'));
      const roleReply = (await m.call('ROLE')) as unknown[];
      expect(roleReply[0]).to.equal('master');
      expect(roleReply[2]).to.deep.equal([['127.0.0.1', '9999', '0']]);
    } finally {
      sock.destroy();
    }
  });

  it('answers the old SYNC with a bare payload and rejects unknown REPLCONF options', async () => {
    const [, m] = await ref(16429);
    await m.set('k', 'v');
    expect(await m.call('REPLCONF', 'bogus', '1').catch((e: Error) => e.message)).to.equal('ERR Unrecognized REPLCONF option: bogus');
    expect(await m.call('REPLCONF', 'listening-port').catch((e: Error) => e.message)).to.equal('ERR syntax error');
    const sock = net.connect({ host: '127.0.0.1', port: 16429 });
    let data = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => { data = Buffer.concat([data, d]); });
    try {
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write('SYNC\r\n');
      await waitFor('bare payload', () => {
        const m2 = /^\$(\d+)\r\n/.exec(data.toString('latin1', 0, 20));
        return m2 !== null && data.length >= m2[0].length + Number(m2[1]);
      });
      expect(data.toString('latin1', 0, 40)).to.match(/^\$\d+\r\nREDIS0010/);
      expect(data.includes(Buffer.from('+FULLRESYNC'))).to.equal(false);
      expect((await info(m, 'replication')).get('connected_slaves')).to.equal('1');
    } finally {
      sock.destroy();
    }
  });

  it('after a promotion the other replicas and the old master continue with a partial resync (PSYNC2)', async () => {
    const [, m] = await ref(16431);
    const [, a] = await ref(16432, ['--replicaof', '127.0.0.1', '16431']);
    const [, b] = await ref(16433, ['--replicaof', '127.0.0.1', '16431']);
    await populate(m, 'p');
    // After the first PING the next one is 10 s away: no stream byte can slip in between the role changes below.
    await waitFor('first PING in the stream', async () => Number((await info(m, 'replication')).get('master_repl_offset')) > 0);
    await waitInSync(m, a);
    await waitInSync(m, b);
    expect(await m.call('WAIT', '2', '2000')).to.equal(2);
    const before = await snapshot(m);

    expect(await a.call('REPLICAOF', 'NO', 'ONE')).to.equal('OK');
    const ai = await info(a, 'replication');
    expect(ai.get('role')).to.equal('master');
    expect(ai.get('master_replid2')).to.equal((await info(m, 'replication')).get('master_replid'));
    expect(await b.call('REPLICAOF', '127.0.0.1', '16432')).to.equal('OK');
    expect(await m.call('REPLICAOF', '127.0.0.1', '16432')).to.equal('OK');
    await waitFor('two replicas on the new master', async () => (await info(a, 'replication')).get('connected_slaves') === '2');
    await a.set('new', 'write');
    await waitInSync(a, b);
    await waitInSync(a, m);
    const stats = await info(a, 'stats');
    expect(stats.get('sync_partial_ok')).to.equal('2');
    expect(stats.get('sync_full')).to.equal('0');
    expect(await snapshot(b)).to.deep.equal(await snapshot(a));
    expect(await snapshot(m)).to.deep.equal(await snapshot(a));
    expect(Object.keys(await snapshot(a)).length).to.equal(Object.keys(before).length + 1);
    expect(await a.call('REPLICAOF', '127.0.0.1', '16432')).to.equal('OK');
    expect(await b.call('REPLICAOF', '127.0.0.1', '16432')).to.equal('OK Already connected to specified master');
  });

  it('chains replicas: a replica proxies its master\'s stream verbatim, so offsets match down the chain', async () => {
    const [, m] = await ref(16444);
    const [, a] = await ref(16445, ['--replicaof', '127.0.0.1', '16444']);
    await populate(m, 'c');
    await m.select(1);
    await m.set('one', '1');
    await waitInSync(m, a);
    // B full-syncs from A while the stream is in db 1: the RDB's repl-stream-db must carry that.
    const [, b] = await ref(16446, ['--replicaof', '127.0.0.1', '16445']);
    await waitInSync(a, b);
    await m.set('two', '2');
    await m.select(0);
    await waitInSync(m, a);
    await waitInSync(a, b);
    expect((await info(b, 'replication')).get('master_replid')).to.equal((await info(m, 'replication')).get('master_replid'));
    expect(await snapshot(b)).to.deep.equal(await snapshot(m));
    await b.select(1);
    expect(await b.get('two')).to.equal('2');
  });

  it('a master restarted from its RDB keeps the saved history, so its replica continues partially', async () => {
    const dir = tempDir('ref-restart');
    dirs.push(dir);
    let [node, m] = await ref(16447, [], dir);
    const [, r] = await ref(16448, ['--replicaof', '127.0.0.1', '16447']);
    await populate(m, 'h');
    // The first PING to a new replica goes out on the next cron tick; the next one only after 10 s.
    await waitFor('first PING in the stream', async () => Number((await info(m, 'replication')).get('master_repl_offset')) > 0);
    await waitInSync(m, r);
    const saved = await info(m, 'replication');
    expect(await m.save()).to.equal('OK');
    await node.stop();
    m.disconnect();
    [node, m] = await ref(16447, [], dir);
    const mi = await info(m, 'replication');
    expect(mi.get('master_replid2')).to.equal(saved.get('master_replid'));
    expect(mi.get('master_repl_offset')).to.equal(saved.get('master_repl_offset'));
    await waitInSync(m, r);
    expect((await info(m, 'stats')).get('sync_partial_ok')).to.equal('1');
    await m.set('after-restart', '1');
    await waitInSync(m, r);
    expect(await snapshot(r)).to.deep.equal(await snapshot(m));
  });

  it('refuses writes with READONLY and NOREPLICAS, reads with MASTERDOWN, and WAIT on a replica', async () => {
    const [, m] = await ref(16434, ['--min-replicas-to-write', '1']);
    expect(await m.set('x', '1').catch((e: Error) => e.message)).to.equal('NOREPLICAS Not enough good replicas to write.');
    expect((await info(m, 'replication')).get('min_slaves_good_slaves')).to.equal('0');
    const [, r] = await ref(16435, ['--replicaof', '127.0.0.1', '16434']);
    await waitInSync(m, r);
    await waitFor('a good replica', async () => (await m.set('x', '1').catch(() => 'no')) === 'OK');
    expect(await r.set('y', '1').catch((e: Error) => e.message)).to.equal("READONLY You can't write against a read only replica.");
    expect(await r.call('WAIT', '1', '0').catch((e: Error) => e.message)).to.match(/^ERR WAIT cannot be used with replica instances/);
    // A replica of a port nobody listens on, refusing stale reads.
    const [, s] = await ref(16436, ['--replicaof', '127.0.0.1', '16449', '--replica-serve-stale-data', 'no']);
    expect(await s.get('x').catch((e: Error) => e.message)).to.equal("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
    const si = await info(s, 'replication');
    expect(si.get('master_link_status')).to.equal('down');
    expect(si.has('master_link_down_since_seconds')).to.equal(true);
    const role = (await s.call('ROLE')) as unknown[];
    expect(role[0]).to.equal('slave');
    expect(role[2]).to.equal(16449);
    expect(['connect', 'connecting']).to.include(role[3]);
  });

  it('WAIT blocks until replicas acknowledge, and times out with the count reached', async () => {
    const [, m] = await ref(16437);
    expect(await m.call('WAIT', '1', '100')).to.equal(0);
    const [, r] = await ref(16438, ['--replicaof', '127.0.0.1', '16437']);
    await waitInSync(m, r);
    await m.set('a', '1');
    expect(await m.call('WAIT', '1', '5000')).to.equal(1);
    const t0 = Date.now();
    expect(await m.call('WAIT', '2', '300')).to.equal(1);
    expect(Date.now() - t0).to.be.at.least(250);
  });

  it('FAILOVER hands the master role to the replica, which keeps the data', async () => {
    const [, m] = await ref(16439);
    const [, r] = await ref(16440, ['--replicaof', '127.0.0.1', '16439']);
    await populate(m, 'f');
    await waitInSync(m, r);
    expect(await m.call('FAILOVER', 'TIMEOUT', '-1').catch((e: Error) => e.message)).to.equal('ERR FAILOVER timeout must be greater than 0');
    expect(await r.call('FAILOVER').catch((e: Error) => e.message)).to.equal('ERR FAILOVER is not valid when server is a replica.');
    expect(await m.call('FAILOVER', 'TO', '127.0.0.1', '1').catch((e: Error) => e.message)).to.equal('ERR FAILOVER target HOST and PORT is not a replica.');
    expect(await m.call('FAILOVER', 'ABORT').catch((e: Error) => e.message)).to.equal('ERR No failover in progress.');
    expect(await m.call('FAILOVER')).to.equal('OK');
    await waitFor('roles swapped', async () => {
      const mi = await info(m, 'replication');
      return (await info(r, 'replication')).get('role') === 'master' && mi.get('role') === 'slave' && mi.get('master_link_status') === 'up';
    });
    const mi = await info(m, 'replication');
    expect(mi.get('master_port')).to.equal('16440');
    expect(mi.get('master_failover_state')).to.equal('no-failover');
    expect((await info(r, 'stats')).get('sync_partial_ok')).to.equal('1');
    await r.set('after', '1');
    await waitInSync(r, m);
    expect(await snapshot(m)).to.deep.equal(await snapshot(r));
  });

  it('SAVE/BGSAVE/LASTSAVE and loading at start; without persistence a restarted master comes back empty and its replica follows', async () => {
    const dir = tempDir('ref-persist');
    dirs.push(dir);
    let [node, m] = await ref(16441, ['--enable-debug-command', 'yes'], dir);
    await populate(m, 's');
    const lastBefore = Number(await m.call('LASTSAVE'));
    expect(await m.call('BGSAVE')).to.equal('Background saving started');
    await waitFor('bgsave done', async () => (await info(m, 'persistence')).get('rdb_bgsave_in_progress') === '0' && (await info(m, 'persistence')).get('rdb_saves') === '1');
    expect(Number(await m.call('LASTSAVE'))).to.be.at.least(lastBefore);
    expect((await info(m, 'persistence')).get('rdb_changes_since_last_save')).to.equal('0');
    const saved = await snapshot(m);
    expect(await m.call('DEBUG', 'RELOAD')).to.equal('OK');
    expect(await snapshot(m)).to.deep.equal(saved);
    await node.stop();
    m.disconnect();
    [node, m] = await ref(16441, [], dir);
    expect(await snapshot(m)).to.deep.equal(saved);
    expect(Number((await info(m, 'persistence')).get('rdb_last_load_keys_loaded'))).to.equal(Object.keys(saved).length);

    // SHUTDOWN SAVE writes the file; save points ("save 1 1") trigger a background save on their own.
    await m.set('late', 'write');
    await m.call('SHUTDOWN', 'SAVE').catch(() => undefined);
    m.disconnect();
    await node.stop();
    [node, m] = await ref(16441, ['--save', '1 1'], dir);
    expect(await m.get('late')).to.equal('write');
    const savesBefore = Number((await info(m, 'persistence')).get('rdb_saves'));
    await m.set('auto', 'saved');
    await waitFor('save point fired', async () => Number((await info(m, 'persistence')).get('rdb_saves')) > savesBefore, 5000);

    // A master without persistence restarts empty; its replica resyncs and becomes empty too.
    const emptyDir = tempDir('ref-nopersist');
    dirs.push(emptyDir);
    const [n2, m2] = await ref(16442, [], emptyDir);
    const [, r2] = await ref(16443, ['--replicaof', '127.0.0.1', '16442']);
    await populate(m2, 'gone');
    await waitInSync(m2, r2);
    expect(await r2.dbsize()).to.be.greaterThan(5);
    await n2.stop();
    m2.disconnect();
    const [, m3] = await ref(16442, [], emptyDir);
    await waitFor('replica follows the empty master', async () => {
      const ri = await info(r2, 'replication');
      return ri.get('master_link_status') === 'up' && (await r2.dbsize()) === 0;
    });
    expect(await m3.dbsize()).to.equal(0);
  });
});

describe('replication: a reference replica applying its master\'s stream', function () {
  this.timeout(60000);
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const enc = (argv: Array<string | Buffer>): Buffer => {
    const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
    for (const a of argv) {
      const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
  };

  for (const payload of ['length', 'EOF mark'] as const) it(`cut at arbitrary points after a payload with a ${payload}, applies every command, ACKs the offset before GETACK and proxies the bytes verbatim`, async () => {
    // A fake master: handshake, an empty RDB, then a stream written in random small pieces.
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    const cmds: Buffer[] = [enc(['SELECT', '1']), enc(['SET', 'k1', 'one']), enc(['INCR', 'k1']), enc(['SELECT', '0']), enc(['MULTI']), enc(['SET', 'a', '1']),
      enc(['INCR', 'a']), enc(['EXEC']), enc(['SET', 'big', big]), enc(['PING']), enc(['RPUSH', 'l', 'x', 'y', 'z'])];
    for (let i = 0; i < 300; i++) cmds.push(enc(['SET', `key:${i}`, `v\r\n${i}`]));
    const boundaries = new Set<number>([0]);
    let total = 0;
    for (const c of cmds) { total += c.length; boundaries.add(total); }
    const getack = enc(['REPLCONF', 'GETACK', '*']);
    const after = enc(['SET', 'after', 'getack']);
    const end = total + getack.length + after.length;
    boundaries.add(end);
    const stream = Buffer.concat(cmds);
    const acks: number[] = [];
    let masterSock: net.Socket | undefined;
    let finishPayload: { readFirst: number; send: () => void } | undefined;
    const fake = net.createServer((s) => {
      masterSock = s;
      let inbuf = '';
      let streaming = false;
      s.on('error', () => undefined);
      s.on('data', (d) => {
        inbuf += d.toString('latin1');
        if (streaming) {
          for (const m of inbuf.matchAll(/REPLCONF\r\n\$3\r\nACK\r\n\$\d+\r\n(\d+)\r\n/gi)) acks.push(Number(m[1]));
          inbuf = inbuf.slice(Math.max(0, inbuf.lastIndexOf('*')));
          return;
        }
        for (;;) {
          const m = /^\*(\d+)\r\n((?:\$\d+\r\n[^\r]*\r\n)*)/.exec(inbuf);
          if (!m || m[2]!.split('\r\n').length - 1 < Number(m[1]) * 2) return;
          inbuf = inbuf.slice(m[0].length);
          const name = m[2]!.split('\r\n')[1]!.toUpperCase();
          if (name === 'PING') s.write('+PONG\r\n');
          else if (name === 'REPLCONF') s.write('+OK\r\n');
          else if (name === 'PSYNC') {
            const rdb = Buffer.concat([Buffer.from('REDIS0010'), Buffer.from([0xff]), Buffer.alloc(8)]);
            if (payload === 'length') {
              s.write(`+FULLRESYNC ${'ab'.repeat(20)} 0\r\n$${rdb.length}\r\n`);
              s.write(rdb);
            } else {
              // Half the mark now, half once the replica read the first half: the mark straddles two reads.
              const mark = 'cd'.repeat(20);
              s.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${'ab'.repeat(20)} 0\r\n$EOF:${mark}\r\n`), rdb, Buffer.from(mark.slice(0, 20))]));
              finishPayload = { readFirst: rdb.length + 20, send: () => s.write(mark.slice(20)) };
            }
            streaming = true;
            inbuf = '';
            return;
          }
        }
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { masterSock?.destroy(); fake.close(() => r()); }));
    const masterPort = (fake.address() as net.AddressInfo).port;
    const replicaPort = await freePort();
    const replica = await startRef(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
    cleanups.push(async () => { await replica.stop(); removeDir(replica.dir); });
    const rc = client(replicaPort);
    cleanups.push(() => { rc.disconnect(); });
    if (payload === 'EOF mark') {
      const half = await waitFor('first half of the payload sent', () => finishPayload);
      await waitFor('first half read', async () => Number((await info(rc, 'replication')).get('master_sync_read_bytes')) === half.readFirst);
      half.send();
    }
    await waitFor('replica link up', async () => (await info(rc, 'replication')).get('master_link_status') === 'up');
    // A real redis-server below it must receive the proxied bytes as a valid stream with the same offsets.
    const subPort = await freePort();
    const sub = await startReal(subPort, ['--replicaof', '127.0.0.1', String(replicaPort)]);
    cleanups.push(async () => { await sub.stop(); removeDir(sub.dir); });
    const sc = client(subPort);
    cleanups.push(() => { sc.disconnect(); });
    await waitFor('sub-replica link up', async () => (await info(sc, 'replication')).get('master_link_status') === 'up');

    let seed = 12345;
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    for (let p = 0; p < stream.length;) {
      const n = 1 + rnd(p < 2000 ? 7 : 600);
      const piece = stream.subarray(p, p + n);
      await new Promise<void>((r) => masterSock!.write(piece, () => r()));
      p += n;
    }
    // GETACK and a write in one piece: the ACK it asks for counts the bytes before it, not itself (nor what follows).
    const seen = acks.length;
    masterSock!.write(Buffer.concat([getack, after]));
    await waitFor('whole stream applied', async () => Number((await info(rc, 'replication')).get('slave_repl_offset')) === end);
    await waitFor('ACK asked by GETACK', () => acks.slice(seen).includes(total));
    expect(acks).to.not.include(total + getack.length);
    for (const a of acks) expect(boundaries.has(a), `ACK ${a} is not at a command boundary`).to.equal(true);
    expect(Number((await info(rc, 'replication')).get('master_repl_offset'))).to.equal(end);
    expect(await rc.get('after')).to.equal('getack');
    expect(await rc.get('a')).to.equal('2');
    expect((await rc.getBuffer('big'))!.equals(big)).to.equal(true);
    expect(await rc.lrange('l', 0, -1)).to.deep.equal(['x', 'y', 'z']);
    expect(await rc.get('key:299')).to.equal('v\r\n299');
    await rc.select(1);
    expect(await rc.get('k1')).to.equal('one');
    // A command that fails on the replica is logged (the replica now differs from its master), and skipped.
    expect(readFileSync(join(replica.dir, `ref-${replicaPort}.log`), 'utf8')).to.include("== CRITICAL == This replica is sending an error to its master: 'ERR value is not an integer or out of range' after processing the command 'incr'");
    await rc.select(0);
    await waitInSync(rc, sc);
    expect(await snapshot(sc, 2)).to.deep.equal(await snapshot(rc, 2));
  });
});

describe('replication: streamed (diskless) full sync', function () {
  this.timeout(60000);
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function master(): Promise<[RefNode, Redis]> {
    const port = await freePort();
    // No diskless delay (Redis's default is 5 s to gather replicas): these tests are about the transfer itself.
    const node = await startRef(port, ['--repl-diskless-sync-delay', '0']);
    cleanups.push(async () => { await node.stop(); removeDir(node.dir); });
    const c = client(port);
    cleanups.push(() => { c.disconnect(); });
    return [node, c];
  }

  it('sends $EOF:<mark>, a valid RDB and the mark, then holds the stream until the replica ACKs', async () => {
    const [node, m] = await master();
    for (let i = 0; i < 2000; i++) node.server.dbs[0]!.set(`k${i}`, `v${i}`);
    await m.hset('h', 'f', 'v');
    const sock = net.connect({ host: '127.0.0.1', port: node.port });
    cleanups.push(() => { sock.destroy(); });
    let data = Buffer.alloc(0);
    sock.on('data', (d) => { data = Buffer.concat([data, d]); });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
    const head = await waitFor('FULLRESYNC and EOF header', () => /^\+OK\r\n\+FULLRESYNC [0-9a-f]{40} (\d+)\r\n\$EOF:([0-9a-f]{40})\r\n/.exec(data.toString('latin1')) ?? undefined);
    const mark = Buffer.from(head[2]!, 'latin1');
    const start = head[0].length;
    await waitFor('the mark after the payload', () => data.indexOf(mark, start) > 0);
    const keys = new Map<string, unknown>();
    const res = loadRdb(data.subarray(start, data.indexOf(mark, start)), (k) => { keys.set(k.key, k.value); });
    expect(res.aux.get('repl-offset')).to.equal(head[1]);
    expect(keys.size).to.equal(2001);
    expect(keys.get('k1999')).to.equal('v1999');
    // As Redis: the replica is online once the payload is sent, but a write waits until the replica ACKs.
    await m.set('after', 'sync');
    const before = await info(m, 'replication');
    expect(before.get('slave0')).to.match(/state=online/);
    expect(data.subarray(data.length - mark.length).equals(mark)).to.equal(true);
    sock.write(`*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$${head[1]!.length}\r\n${head[1]}\r\n`);
    await waitFor('held stream after the ACK', () => data.subarray(data.indexOf(mark, start) + mark.length).toString('latin1').includes('$5\r\nafter\r\n$4\r\nsync\r\n'));
    expect((await info(m, 'replication')).get('slave0')).to.match(/state=online/);
  });

  it('is a point-in-time snapshot: writes served during the transfer apply once on the replica', async () => {
    const [node, m] = await master();
    const db = node.server.dbs[0]!;
    for (let i = 0; i < 300_000; i++) db.set(`key:${i}`, `value-${i}`);
    // Counters and lists spread over the keyspace: replaying a write the snapshot already holds would show.
    for (let i = 0; i < 50; i++) { db.set(`counter:${i}`, '0'); await m.rpush(`list:${i}`, 'start'); await m.hset(`hash:${i}`, 'n', '0'); }
    const replicaPort = await freePort();
    const replica = await startReal(replicaPort, ['--replicaof', '127.0.0.1', String(node.port)]);
    cleanups.push(async () => { await replica.stop(); removeDir(replica.dir); });
    const r = client(replicaPort);
    cleanups.push(() => { r.disconnect(); });
    let duringTransfer = 0;
    for (let round = 0; ; round++) {
      const p = m.pipeline();
      for (let i = 0; i < 50; i++) {
        p.incr(`counter:${i}`);
        p.rpush(`list:${i}`, String(round));
        p.hincrby(`hash:${i}`, 'n', 1);
      }
      p.set(`key:${round}`, `changed-${round}`);
      p.del(`key:${100_000 + round}`);
      p.set(`new:${round}`, 'x');
      await p.exec();
      const state = /state=(\w+)/.exec((await info(m, 'replication')).get('slave0') ?? '')?.[1];
      // As Redis's INFO: a replica fed by the running diskless BGSAVE shows wait_bgsave until the payload ends.
      if (state === 'wait_bgsave' && (await info(m, 'persistence')).get('rdb_bgsave_in_progress') === '1') duringTransfer++;
      if (state === 'online' && (await info(r, 'replication')).get('master_link_status') === 'up') break;
      if (round > 5000) throw new Error('the replica never came online');
    }
    expect(duringTransfer, 'rounds of writes served while the payload was being sent').to.be.greaterThan(2);
    await waitInSync(m, r, 30000);
    expect(await r.dbsize()).to.equal(await m.dbsize());
    for (let i = 0; i < 50; i++) {
      expect(await r.get(`counter:${i}`)).to.equal(await m.get(`counter:${i}`));
      expect(await r.lrange(`list:${i}`, 0, -1)).to.deep.equal(await m.lrange(`list:${i}`, 0, -1));
      expect(await r.hgetall(`hash:${i}`)).to.deep.equal(await m.hgetall(`hash:${i}`));
    }
    expect(await r.get('key:0')).to.equal('changed-0');
    expect(await r.exists('key:100000')).to.equal(0);
  });
});
