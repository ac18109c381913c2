import { expect } from 'chai';
import { MemoryLimit, type EvictionHost, type EvictionPolicy } from '../server/maxmemory.js';
import type { Db, Value } from '../store/types.js';
import { KeyspaceDb } from '../store/db.js';
import { RespClient } from './util/resp-client.js';
import { useBothServers } from './util/servers.js';

/** Dbs with a fixed clock and a host that records evictions; each key is "worth" 1000 bytes. */
function fixture(now: number): { dbs: KeyspaceDb[]; host: EvictionHost; evicted: string[] } {
  const evicted: string[] = [];
  const hooks = { now: () => now, isReplica: () => false, onExpired: () => {}, onModified: () => {} };
  const dbs = [new KeyspaceDb(0, hooks), new KeyspaceDb(1, hooks)];
  const host: EvictionHost = {
    dbs,
    ignoresMaxmemory: () => false,
    evictKey: (db: Db, key: string) => {
      db.delete(key);
      evicted.push(`${db.index}:${key}`);
    },
    sizeOf: (_key: string, _v: Value) => 1000,
  };
  return { dbs, host, evicted };
}

function limitWith(host: EvictionHost, used: { bytes: number }, policy: EvictionPolicy, limit: number): MemoryLimit {
  const m = new MemoryLimit(host, () => used.bytes);
  m.configure(limit, policy, 5);
  return m;
}

describe('maxmemory: eviction policies', () => {
  it('noeviction refuses (false) over the limit and evicts nothing', () => {
    const { dbs, host, evicted } = fixture(1_000_000);
    dbs[0]!.set('a', 'x');
    const m = limitWith(host, { bytes: 5000 }, 'noeviction', 4000);
    expect(m.ensure()).to.equal(false);
    expect(evicted).to.deep.equal([]);
    m.configure(6000, 'noeviction', 5);
    expect(m.ensure()).to.equal(true);
    m.close();
  });

  it('allkeys-random evicts just enough keys, across dbs, and fails once nothing is left', () => {
    const { dbs, host, evicted } = fixture(1_000_000);
    for (let i = 0; i < 10; i++) dbs[i % 2]!.set(`k${i}`, 'v');
    const used = { bytes: 13_500 };
    const m = limitWith(host, used, 'allkeys-random', 10_000);
    expect(m.ensure()).to.equal(true);
    // 3,500 bytes over at 1,000 per key: four keys.
    expect(evicted).to.have.length(4);
    expect(dbs[0]!.size() + dbs[1]!.size()).to.equal(6);
    used.bytes = 100_000;
    m.sample();
    expect(m.ensure()).to.equal(false);
    expect(dbs[0]!.size() + dbs[1]!.size()).to.equal(0);
    m.close();
  });

  it('a new sample subtracts what was evicted since the last full collection (V8 frees it only then)', () => {
    const { dbs, host, evicted } = fixture(1_000_000);
    for (let i = 0; i < 10; i++) dbs[0]!.set(`k${i}`, 'v');
    const used = { bytes: 12_000 };
    const m = limitWith(host, used, 'allkeys-random', 10_000);
    expect(m.ensure()).to.equal(true);
    expect(evicted).to.have.length(2);
    // The heap still holds the two evicted keys: sampling again must not evict two more.
    m.sample();
    expect(m.used).to.equal(10_000);
    expect(m.ensure()).to.equal(true);
    expect(evicted).to.have.length(2);
    m.close();
  });

  it('volatile policies evict only keys with a TTL; volatile-ttl the soonest to expire', () => {
    const now = 1_000_000;
    const { dbs, host, evicted } = fixture(now);
    const db = dbs[0]!;
    for (let i = 0; i < 20; i++) db.set(`plain${i}`, 'v');
    db.set('late', 'v');
    db.setExpire('late', now + 900_000);
    db.set('soon', 'v');
    db.setExpire('soon', now + 1_000);
    const used = { bytes: 10_500 };
    const m = limitWith(host, used, 'volatile-ttl', 10_000);
    m.samples = 64;
    expect(m.ensure()).to.equal(true);
    expect(evicted).to.deep.equal(['0:soon']);
    used.bytes = 20_000;
    m.configure(10_000, 'volatile-random', 5);
    expect(m.ensure()).to.equal(false);
    expect(evicted).to.deep.equal(['0:soon', '0:late']);
    expect(db.size()).to.equal(20);
    m.close();
  });

  it('allkeys-lru evicts the least recently used of its sample', () => {
    let now = 1_000_000;
    const evicted: string[] = [];
    const hooks = { now: () => now, isReplica: () => false, onExpired: () => {}, onModified: () => {} };
    const db = new KeyspaceDb(0, hooks);
    const host: EvictionHost = {
      dbs: [db], ignoresMaxmemory: () => false, sizeOf: () => 1000,
      evictKey: (d, key) => { d.delete(key); evicted.push(key); },
    };
    db.set('old', 'v');
    now += 3_600_000;
    db.set('new1', 'v');
    db.set('new2', 'v');
    const m = new MemoryLimit(host, () => 10_500);
    // Sampling 64 random keys of 3 sees 'old' for sure.
    m.configure(10_000, 'allkeys-lru', 64);
    expect(m.ensure()).to.equal(true);
    expect(evicted).to.deep.equal(['old']);
    m.close();
  });
});

describe('maxmemory: OOM replies as redis-server gives them', function () {
  this.timeout(20000);
  const servers = useBothServers();

  it('maxmemory 1 (noeviction): denyoom commands, MULTI queuing and EXEC answered byte for byte; reads, DEL and DISCARD pass', async () => {
    const script: string[][] = [
      ['SET', 'a', '1'], ['CONFIG', 'SET', 'maxmemory', '1'], ['SET', 'b', '1'], ['GET', 'a'], ['INCR', 'a'], ['LPUSH', 'l', 'x'],
      ['MULTI'], ['GET', 'a'], ['EXEC'],
      ['MULTI'], ['SET', 'x', '1'], ['EXEC'],
      ['MULTI'], ['PING'], ['DISCARD'],
      ['CONFIG', 'SET', 'maxmemory', '0'], ['MULTI'], ['SET', 'y', '1'], ['GET', 'a'], ['CONFIG', 'SET', 'maxmemory', '1', 'MULTI_SENTINEL'],
      ['DEL', 'a'], ['CONFIG', 'SET', 'maxmemory', '0'], ['SET', 'c', '1'],
    ];
    const transcript = async (port: number): Promise<string[]> => {
      const c = await RespClient.connect(port);
      const other = await RespClient.connect(port);
      try {
        const out: string[] = [];
        for (const argv of script) {
          // A limit set from another connection while this one is inside MULTI: EXEC then aborts on the queued SET.
          if (argv[4] === 'MULTI_SENTINEL') {
            out.push((await other.call(argv.slice(0, 4))) ?? 'timeout');
            out.push((await c.call(['EXEC'])) ?? 'timeout');
            continue;
          }
          out.push((await c.call(argv)) ?? 'timeout');
        }
        return out;
      } finally {
        c.close();
        other.close();
      }
    };
    const fromReal = await transcript(servers.real.port);
    const fromRef = await transcript(servers.ref.port);
    expect(fromReal.filter((r) => r.startsWith('-OOM')).length).to.be.greaterThan(3);
    expect(fromRef).to.deep.equal(fromReal);
  });
});
