/**
 * Full sync as Redis 7.0 schedules it: replicas wait_bgsave for a BGSAVE they share (diskless delay, a disk BGSAVE
 * joined while it runs), rdb-key-save-delay pacing the save, a useless save killed, and the replica's loading state.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { client, info, removeDir, startReal, startRef, waitFor, type Node } from './fixtures/repl-kit.js';
import { freePort } from './util/servers.js';

describe('replication: full sync scheduling and replica loading', function () {
  this.timeout(60000);
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function node(kind: 'ref' | 'real', args: string[] = []): Promise<[Node, Redis]> {
    const port = await freePort();
    const n = kind === 'ref' ? await startRef(port, args) : await startReal(port, args);
    cleanups.push(async () => { await n.stop(); removeDir(n.dir); });
    const c = client(port);
    cleanups.push(() => { c.disconnect(); });
    return [n, c];
  }

  const logOf = (n: Node): string => readFileSync(join(n.dir, `${'server' in n ? 'ref' : 'redis'}-${n.port}.log`), 'latin1');
  const count = (text: string, s: string): number => text.split(s).length - 1;
  const replicaStates = async (m: Redis): Promise<string[]> =>
    [...(await info(m, 'replication')).entries()].filter(([k]) => /^slave\d+$/.test(k)).map(([, v]) => /state=([a-z_]+)/.exec(v)![1]!);

  it('diskless: replicas arriving within repl-diskless-sync-delay wait_bgsave and share one transfer', async () => {
    const [mn, m] = await node('ref', ['--repl-diskless-sync-delay', '2']);
    await m.set('k', 'v');
    const [, a] = await node('real');
    const [, b] = await node('ref');
    await a.replicaof('127.0.0.1', String(mn.port));
    await b.replicaof('127.0.0.1', String(mn.port));
    await waitFor('both replicas waiting', async () => { const s = await replicaStates(m); return s.length === 2 && s.every((x) => x === 'wait_bgsave'); });
    expect((await info(m, 'persistence')).get('rdb_bgsave_in_progress')).to.equal('0');
    await waitFor('both online', async () => { const s = await replicaStates(m); return s.length === 2 && s.every((x) => x === 'online'); });
    expect(await a.get('k')).to.equal('v');
    await waitFor('b has k', async () => (await b.get('k')) === 'v');
    const log = logOf(mn);
    expect(count(log, 'Delay next BGSAVE for diskless SYNC')).to.equal(2);
    expect(count(log, 'Starting BGSAVE for SYNC with target: replicas sockets')).to.equal(1);
    expect((await info(m, 'stats')).get('sync_full')).to.equal('2');
  });

  it('disk target: a replica joins the running BGSAVE, paced by rdb-key-save-delay; a BGSAVE nobody needs is killed', async () => {
    const [mn, m] = await node('ref', ['--repl-diskless-sync', 'no']);
    for (let i = 0; i < 10; i++) await m.set(`k${i}`, String(i));
    // 150 ms a key: 1.5 s for the 10 keys.
    await m.config('SET', 'rdb-key-save-delay', '150000');
    const [, a] = await node('ref');
    const [, b] = await node('real');
    const started = Date.now();
    await a.replicaof('127.0.0.1', String(mn.port));
    await waitFor('BGSAVE running for a', async () => (await info(m, 'persistence')).get('rdb_bgsave_in_progress') === '1');
    await b.replicaof('127.0.0.1', String(mn.port));
    await waitFor('b attached', () => logOf(mn).includes('Waiting for end of BGSAVE for SYNC'));
    expect(await replicaStates(m)).to.deep.equal(['wait_bgsave', 'wait_bgsave']);
    await m.set('during', 'x');
    await waitFor('both online', async () => { const s = await replicaStates(m); return s.length === 2 && s.every((x) => x === 'online'); });
    expect(Date.now() - started).to.be.greaterThan(1200);
    expect(count(logOf(mn), 'Starting BGSAVE for SYNC with target: disk')).to.equal(1);
    for (const r of [a, b]) await waitFor('replica has every key', async () => (await r.dbsize()) === 11 && (await r.get('during')) === 'x');

    // One key a second: the save outlives both replicas leaving, so it is killed (no save point wants it).
    await m.config('SET', 'rdb-key-save-delay', '1000000');
    await a.replicaof('NO', 'ONE');
    await b.replicaof('NO', 'ONE');
    await a.replicaof('127.0.0.1', String(mn.port));
    await b.replicaof('127.0.0.1', String(mn.port));
    await waitFor('BGSAVE for both', async () => (await info(m, 'persistence')).get('rdb_bgsave_in_progress') === '1' && (await replicaStates(m)).length === 2);
    await a.replicaof('NO', 'ONE');
    await new Promise((r) => setTimeout(r, 300));
    expect((await info(m, 'persistence')).get('rdb_bgsave_in_progress')).to.equal('1');
    await b.replicaof('NO', 'ONE');
    await waitFor('BGSAVE killed', async () => (await info(m, 'persistence')).get('rdb_bgsave_in_progress') === '0', 2000, 10);
  });

  it('diskless load (swapdb): loading:1 and -LOADING while the payload arrives; a failed transfer keeps the old data', async () => {
    const [mn, m] = await node('ref', ['--repl-diskless-sync-delay', '0', '--enable-debug-command', 'yes']);
    await m.call('DEBUG', 'POPULATE', '300', 'master', '100');
    // 10 ms a key: the transfer takes 3 s.
    await m.config('SET', 'rdb-key-save-delay', '10000');
    const [rn, r] = await node('ref', ['--repl-diskless-load', 'swapdb']);
    await r.set('mine', 'old');
    await r.replicaof('127.0.0.1', String(mn.port));
    await waitFor('replica loading', async () => (await info(r, 'persistence')).get('loading') === '1');
    expect(await r.get('mine').catch((e: Error) => e.message)).to.equal('LOADING Redis is loading the dataset in memory');
    expect((await info(r, 'persistence')).get('loading_start_time')).to.match(/^\d+$/);
    await m.config('SET', 'repl-diskless-sync-delay', '5');
    await m.call('CLIENT', 'KILL', 'TYPE', 'replica');
    await waitFor('loading over', async () => (await info(r, 'persistence')).get('loading') === '0');
    expect(await r.get('mine')).to.equal('old');
    expect(await r.dbsize()).to.equal(1);
    expect(logOf(rn)).to.include('MASTER <-> REPLICA sync: Discarding temporary DB in background');
    await m.config('SET', 'rdb-key-save-delay', '0');
    await m.config('SET', 'repl-diskless-sync-delay', '0');
    await waitFor('synced', async () => (await info(r, 'replication')).get('master_link_status') === 'up', 15000);
    expect(await r.dbsize()).to.equal(300);
    expect(await r.get('mine')).to.equal(null);
    const log = logOf(rn);
    expect(log).to.include('MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to parser');
    expect(log).to.include('MASTER <-> REPLICA sync: Swapping active DB with loaded DB');
  });

  it('a real replica loading diskless (on-empty-db) from a paced reference master reports loading:1', async () => {
    const [mn, m] = await node('ref', ['--repl-diskless-sync-delay', '0', '--enable-debug-command', 'yes']);
    // Redis answers clients while loading only every 2 MB read: large uncompressed values, 40 ms a key.
    await m.call('DEBUG', 'POPULATE', '60', 'k', '100000');
    await m.config('SET', 'rdbcompression', 'no');
    await m.config('SET', 'rdb-key-save-delay', '40000');
    const [, r] = await node('real', ['--repl-diskless-load', 'on-empty-db']);
    await r.replicaof('127.0.0.1', String(mn.port));
    await waitFor('real replica loading', async () => (await info(r, 'persistence')).get('loading') === '1');
    await waitFor('synced', async () => (await info(r, 'replication')).get('master_link_status') === 'up', 15000);
    expect(await r.dbsize()).to.equal(60);
  });

  it('a running BGSAVE has a child process: killing it fails the transfer, FLUSHALL kills the save, the replica gets the next one', async () => {
    const [mn, m] = await node('ref', ['--repl-diskless-sync-delay', '0', '--enable-debug-command', 'yes']);
    await m.call('DEBUG', 'POPULATE', '400', 'k', '10');
    await m.config('SET', 'rdb-key-save-delay', '20000');
    const [, r] = await node('ref', ['--repl-diskless-load', 'swapdb']);
    await r.replicaof('127.0.0.1', String(mn.port));
    const childPid = async (nth: number): Promise<number> => waitFor(`child #${nth}`, () => {
      const pids = [...logOf(mn).matchAll(/Background RDB transfer started by pid (\d+)/g)].map((x) => Number(x[1]));
      return pids.length >= nth ? pids[nth - 1] : undefined;
    });
    const first = await childPid(1);
    expect(first).to.not.equal(process.pid);
    process.kill(first, 'SIGKILL');
    await waitFor('transfer failed', () => logOf(mn).includes('Background transfer terminated by signal 9'));
    const second = await childPid(2);
    expect(second).to.not.equal(first);
    await m.flushall();
    await waitFor('save killed by FLUSHALL', () => logOf(mn).includes('Background transfer terminated by signal 10'));
    await childPid(3);
    await waitFor('synced to the empty dataset', async () => (await info(r, 'replication')).get('master_link_status') === 'up');
    expect(await r.dbsize()).to.equal(0);
    await waitFor('the child process is gone', () => { try { process.kill(second, 0); return false; } catch { return true; } });
  });

  it('diskless transfer: a stopped replica is dropped after repl-timeout (full sync) and the other one completes', async () => {
    const [mn, m] = await node('ref', ['--repl-diskless-sync-delay', '0', '--repl-diskless-sync-max-replicas', '2', '--enable-debug-command', 'yes']);
    // 40 MB, more than socket buffers hold, so the stopped replica's socket fills up.
    await m.call('DEBUG', 'POPULATE', '4000', 'k', '10000');
    await m.config('SET', 'rdbcompression', 'no');
    await m.config('SET', 'repl-diskless-sync-delay', '5');
    const [sn, slow] = await node('real');
    const [, fast] = await node('real');
    await slow.replicaof('127.0.0.1', String(mn.port));
    await fast.replicaof('127.0.0.1', String(mn.port));
    await waitFor('transfer started', () => logOf(mn).includes('Starting BGSAVE for SYNC with target: replicas sockets'));
    (sn as unknown as { child: { kill(s: string): void } }).child.kill('SIGSTOP');
    cleanups.push(() => { (sn as unknown as { child: { kill(s: string): void } }).child.kill('SIGCONT'); });
    await m.config('SET', 'repl-timeout', '2');
    await waitFor('slow replica dropped', () => logOf(mn).includes('Disconnecting timedout replica (full sync)'), 20000);
    await waitFor('pipe done', () => logOf(mn).includes('Diskless rdb transfer, done reading from pipe, 1 replicas still up.'), 20000);
    await waitFor('fast replica synced', async () => (await info(fast, 'replication')).get('master_link_status') === 'up', 20000);
    expect(await fast.dbsize()).to.equal(4000);
    await waitFor('no BGSAVE left', async () => (await info(m, 'persistence')).get('rdb_bgsave_in_progress') === '0');
  });
});
