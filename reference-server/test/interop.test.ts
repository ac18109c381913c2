/** Interoperability with Debian's redis-server 7.0: each side as master of the other, full sync, live stream, partial resync. */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './util/servers.js';
import {
  client, info, populate, removeDir, snapshot, startReal, startRef, tempDir, waitFor, waitInSync, type Node,
} from './fixtures/repl-kit.js';

const PASS = 'TestPass';
const execFileAsync = promisify(execFile);

/** Writes that exercise the stream: deletes, counters, expiries, list/zset/set ops, MULTI, another db. */
async function liveWrites(m: Redis, tag: string): Promise<void> {
  await populate(m, tag);
  await m.del(`${tag}:str`);
  await m.incr(`${tag}:counter`);
  await m.incrby(`${tag}:counter`, 41);
  await m.expire(`${tag}:list`, 5000);
  await m.lpop(`${tag}:biglist`);
  await m.zincrby(`${tag}:zset`, 2, 'a');
  await m.srem(`${tag}:set`, 'b');
  await m.hdel(`${tag}:bighash`, 'f1');
  await m.multi().set(`${tag}:tx1`, '1').rpush(`${tag}:tx2`, 'a').exec();
  await m.select(3);
  await m.set(`${tag}:db3`, 'x');
  await m.select(0);
}

async function syncCount(c: Redis, field: string): Promise<number> {
  return Number((await info(c, 'stats')).get(field) ?? '0');
}

const fieldNames = { realReplica: [] as string[], refReplica: [] as string[], realMaster: [] as string[], refMaster: [] as string[] };

/** Cuts the replica's link, writes through the gap, and expects the replica back by a partial resync only. */
async function expectPartialResyncAfterLinkKill(m: Redis, r: Redis): Promise<void> {
  const partialBefore = await syncCount(m, 'sync_partial_ok');
  const fullBefore = await syncCount(m, 'sync_full');
  await r.call('CLIENT', 'KILL', 'TYPE', 'master');
  await liveWrites(m, 'gap');
  await waitInSync(m, r);
  expect(await syncCount(m, 'sync_partial_ok')).to.equal(partialBefore + 1);
  expect(await syncCount(m, 'sync_full')).to.equal(fullBefore);
  expect(await snapshot(r)).to.deep.equal(await snapshot(m));
}

/** Nodes and clients a describe block starts, stopped (and their folders removed) after its tests. */
function stopAfterAll(): { nodes: Node[]; clients: Redis[] } {
  const nodes: Node[] = [];
  const clients: Redis[] = [];
  after(async () => {
    for (const c of clients) c.disconnect();
    for (const n of nodes.reverse()) { await n.stop(); removeDir(n.dir); }
  });
  return { nodes, clients };
}

describe('interop: real redis-server replica of a reference master', function () {
  this.timeout(60000);
  const { nodes, clients } = stopAfterAll();

  it('full sync of every type, the live stream, then a partial resync after the link is cut', async () => {
    const master = await startRef(16410, ['--requirepass', PASS]);
    nodes.push(master);
    const m = client(16410, PASS);
    clients.push(m);
    await populate(m, 'pre');
    const replica = await startReal(16411, ['--replicaof', '127.0.0.1', '16410', '--masterauth', PASS, '--requirepass', PASS]);
    nodes.push(replica);
    const r = client(16411, PASS);
    clients.push(r);
    await waitInSync(m, r);
    expect(await snapshot(r)).to.deep.equal(await snapshot(m));

    await liveWrites(m, 'live');
    await waitInSync(m, r);
    expect(await snapshot(r)).to.deep.equal(await snapshot(m));
    // Our WAIT asks the real replica for an ACK (REPLCONF GETACK * in the stream).
    await m.set('waited', '1');
    expect(await m.call('WAIT', '1', '5000')).to.equal(1);

    await expectPartialResyncAfterLinkKill(m, r);

    const ri = await info(r, 'replication');
    const mi = await info(m, 'replication');
    expect(ri.get('role')).to.equal('slave');
    expect(mi.get('connected_slaves')).to.equal('1');
    expect(mi.get('slave0')).to.match(/^ip=127\.0\.0\.1,port=16411,state=online,offset=\d+,lag=\d+$/);
    expect(ri.get('master_replid')).to.equal(mi.get('master_replid'));
    fieldNames.realReplica = [...ri.keys()];
    fieldNames.refMaster = [...mi.keys()];
  });
});

describe('interop: reference replica of a real redis-server master', function () {
  this.timeout(60000);
  const { nodes, clients } = stopAfterAll();

  it('full sync (diskless EOF payload), the live stream, then a partial resync after CLIENT KILL TYPE master', async () => {
    const master = await startReal(16412, ['--requirepass', PASS, '--repl-diskless-sync-delay', '0']);
    nodes.push(master);
    const m = client(16412, PASS);
    clients.push(m);
    await populate(m, 'pre');
    const replica = await startRef(16413, ['--replicaof', '127.0.0.1', '16412', '--masterauth', PASS, '--requirepass', PASS], tempDir('ref'));
    nodes.push(replica);
    const r = client(16413, PASS);
    clients.push(r);
    await waitInSync(m, r);
    expect(await snapshot(r)).to.deep.equal(await snapshot(m));

    await liveWrites(m, 'live');
    await waitInSync(m, r);
    expect(await snapshot(r)).to.deep.equal(await snapshot(m));
    await waitFor('real master sees the ACKed offset', async () => {
      const s0 = (await info(m, 'replication')).get('slave0') ?? '';
      return s0.includes(`offset=${(await info(m, 'replication')).get('master_repl_offset')}`);
    });

    // The real master's WAIT sends REPLCONF GETACK through the stream; our replica must answer with its offset.
    await m.set('waited', '1');
    expect(await m.call('WAIT', '1', '5000')).to.equal(1);

    await expectPartialResyncAfterLinkKill(m, r);

    const ri = await info(r, 'replication');
    const mi = await info(m, 'replication');
    fieldNames.refReplica = [...ri.keys()];
    fieldNames.realMaster = [...mi.keys()];
    expect(ri.get('master_replid')).to.equal(mi.get('master_replid'));
    const err = await r.set('x', '1').catch((e: Error) => e.message);
    expect(err).to.equal("READONLY You can't write against a read only replica.");
  });

  it('INFO replication has the same fields, in the same order, on reference and real servers', () => {
    expect(fieldNames.refReplica).to.have.length.greaterThan(10);
    expect(fieldNames.refReplica).to.deep.equal(fieldNames.realReplica);
    expect(fieldNames.refMaster).to.deep.equal(fieldNames.realMaster);
  });
});

describe('interop: redis-cli --rdb from a reference server', function () {
  this.timeout(60000);
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

  it('takes the streamed payload (EOF mark), and redis-check-rdb accepts the file', async () => {
    const port = await freePort();
    const master = await startRef(port);
    cleanups.push(async () => { await master.stop(); removeDir(master.dir); });
    const m = client(port);
    cleanups.push(() => { m.disconnect(); });
    await populate(m, 'cli');
    let keys = 0;
    for (const v of (await info(m, 'keyspace')).values()) keys += Number(/keys=(\d+)/.exec(v)?.[1] ?? 0);
    const file = join(master.dir, 'cli.rdb');
    // Asynchronously: the server runs in this process and must keep serving while redis-cli reads.
    const cli = await execFileAsync('redis-cli', ['-p', String(port), '--rdb', file], { timeout: 30000 });
    expect(cli.stdout + cli.stderr).to.match(/until EOF marker[\s\S]*Transfer finished with success/);
    const check = await execFileAsync('redis-check-rdb', [file], { timeout: 30000 });
    expect(keys).to.be.greaterThan(10);
    expect(check.stdout).to.include(`[info] ${keys} keys read`);
    expect(check.stdout).to.include('RDB looks OK');
  });
});
