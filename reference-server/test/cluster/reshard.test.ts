/**
 * redis-cli --cluster reshard and rebalance move keys with MIGRATE: on a cluster of reference nodes, and on a mixed
 * one (3 redis-server + 3 reference masters, made by redis-cli --cluster create) where slots move reference ->
 * redis-server, redis-server -> reference and reference -> reference. Every key written before is read back from
 * its new owner with its value (and TTL), and redis-cli --cluster check is clean after each step. The same steps on
 * three redis-server masters are the baseline.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { stopChild } from '../util/servers.js';
import { pipeline, redisCli as cli, slotOwners, startClusterNodes, waitCheckClean, type ClusterProcess as Node } from '../fixtures/cluster-kit.js';
import { waitUntil } from './engine-util.js';

/** One key of each kind per index: its write, the read that checks it, and the reply expected. */
function dataset(n: number): Array<{ key: string; write: string[]; read: string[]; expect: string }> {
  const out: Array<{ key: string; write: string[]; read: string[]; expect: string }> = [];
  for (let i = 0; i < n; i++) {
    const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
    switch (i % 6) {
      case 0: out.push({ key: `s:${i}`, write: ['SET', `s:${i}`, `v${i}`], read: ['GET', `s:${i}`], expect: bulk(`v${i}`) }); break;
      case 1: out.push({ key: `h:${i}`, write: ['HSET', `h:${i}`, 'a', '1', 'b', `x${i}`], read: ['HGET', `h:${i}`, 'b'], expect: bulk(`x${i}`) }); break;
      case 2: out.push({ key: `l:${i}`, write: ['RPUSH', `l:${i}`, 'p', `q${i}`, 'r'], read: ['LINDEX', `l:${i}`, '1'], expect: bulk(`q${i}`) }); break;
      case 3: out.push({ key: `z:${i}`, write: ['ZADD', `z:${i}`, String(i), 'm', '0.5', 'n'], read: ['ZSCORE', `z:${i}`, 'm'], expect: bulk(String(i)) }); break;
      case 4: out.push({ key: `set:${i}`, write: ['SADD', `set:${i}`, 'a', 'b', String(i)], read: ['SCARD', `set:${i}`], expect: ':3\r\n' }); break;
      default: out.push({ key: `t:${i}`, write: ['SET', `t:${i}`, `ttl${i}`, 'EX', '100000'], read: ['GET', `t:${i}`], expect: bulk(`ttl${i}`) }); break;
    }
  }
  // Many keys in the first slot of each initial master (the first a reshard from it moves): MIGRATE moves them in
  // batches (redis-cli sends 10 keys per MIGRATE ... KEYS).
  for (const slot of [0, 2731, 5461, 8192, 10923, 13653]) {
    let tag = '';
    for (let t = 0; tag === ''; t++) if (keyHashSlot(`tag${t}`) === slot) tag = `tag${t}`;
    for (let i = 0; i < 150; i++) {
      const key = `{${tag}}:${i}`;
      out.push({ key, write: ['SET', key, `hot${i}`], read: ['GET', key], expect: `$${`hot${i}`.length}\r\nhot${i}\r\n` });
    }
  }
  return out;
}

function byOwner<T extends { key: string }>(items: T[], owners: Map<number, number>): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const it of items) {
    const p = owners.get(keyHashSlot(it.key))!;
    if (!groups.has(p)) groups.set(p, []);
    groups.get(p)!.push(it);
  }
  return groups;
}

function clusterSuite(title: string, kinds: Array<'real' | 'ref'>, moves: Array<[number, number, number]>): void {
  describe(title, function () {
    this.timeout(600000);
    const nodes: Node[] = [];
    let root = '';
    const data = dataset(3000);

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'rr-reshard-'));
      // Each node is ours to stop as soon as it is spawned, even if a later one never answers.
      await startClusterNodes(kinds, root, {}, (n) => nodes.push(n));
    });

    after(async () => {
      await Promise.all(nodes.map((n) => stopChild(n.child)));
      rmSync(root, { recursive: true, force: true });
    });

    // The nodes agree once the last SETSLOT's epoch spread; check reports every disagreement it sees.
    const check = (): Promise<void> => waitCheckClean(nodes[0]!.port);

    /** Every key is on the master that owns its slot now, with its value; the masters hold nothing else. */
    const readBack = async (): Promise<void> => {
      const owners = await slotOwners(nodes[0]!.port);
      let total = 0;
      for (const [port, items] of byOwner(data, owners)) {
        const got = await pipeline(port, items.map((it) => it.read));
        items.forEach((it, i) => expect(got[i], `${it.read.join(' ')} on ${port}`).to.equal(it.expect));
        const ttls = items.filter((it) => it.key.startsWith('t:'));
        const pttl = await pipeline(port, ttls.map((it) => ['TTL', it.key]));
        pttl.forEach((r, i) => expect(Number(r.slice(1)), `TTL ${ttls[i]!.key}`).to.be.within(99000, 100000));
        total += Number((await pipeline(port, [['DBSIZE']]))[0]!.slice(1));
      }
      expect(total).to.equal(data.length);
    };

    it(`redis-cli --cluster create of ${kinds.length} masters (${kinds.join(', ')}), then ${data.length} keys of six kinds written to their owners`, async () => {
      const create = await cli(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
      expect(create.out).to.include('[OK] All 16384 slots covered.');
      expect(create.code).to.equal(0);
      await waitUntil('cluster_state:ok everywhere', async () => {
        const infos = await Promise.all(nodes.map((n) => pipeline(n.port, [['CLUSTER', 'INFO']])));
        return infos.every((i) => i[0]!.includes('cluster_state:ok'));
      }, 60000);
      await check();
      const owners = await slotOwners(nodes[0]!.port);
      for (const [port, items] of byOwner(data, owners)) {
        const replies = await pipeline(port, items.map((it) => it.write));
        for (const r of replies) expect(r).to.match(/^(\+OK|:\d+)\r\n$/);
      }
      await readBack();
    });

    for (const [from, to, slots] of moves) {
      it(`reshard ${slots} slots ${kinds[from]} #${from} -> ${kinds[to]} #${to}: keys move with their slots, check clean`, async () => {
        const before = await slotOwners(nodes[0]!.port);
        const src = nodes[from]!;
        const dst = nodes[to]!;
        const srcSlots = [...before].filter(([, p]) => p === src.port).length;
        const t0 = Date.now();
        const r = await cli(['--cluster', 'reshard', `127.0.0.1:${nodes[0]!.port}`, '--cluster-from', src.id, '--cluster-to', dst.id,
          '--cluster-slots', String(slots), '--cluster-yes']);
        const ms = Date.now() - t0;
        expect(r.code, r.out.slice(-2000)).to.equal(0);
        expect(r.out).to.not.match(/\[ERR\]|IOERR|Target instance replied/);
        const after = await slotOwners(nodes[0]!.port);
        const moved = [...before].filter(([s, p]) => p === src.port && after.get(s) === dst.port).map(([s]) => s);
        expect(moved.length).to.equal(slots);
        expect([...after].filter(([, p]) => p === src.port).length).to.equal(srcSlots - slots);
        const movedSet = new Set(moved);
        const keysMoved = data.filter((d) => movedSet.has(keyHashSlot(d.key))).length;
        expect(keysMoved).to.be.greaterThan(150);
        await check();
        await readBack();
        console.log(`      (${slots} slots, ${keysMoved} keys ${src.kind} -> ${dst.kind}: ${ms} ms)`);
      });
    }

    it('redis-cli --cluster rebalance evens the masters out; every key follows, check clean', async () => {
      const before = await slotOwners(nodes[0]!.port);
      const t0 = Date.now();
      const r = await cli(['--cluster', 'rebalance', `127.0.0.1:${nodes[0]!.port}`, '--cluster-threshold', '1']);
      const ms = Date.now() - t0;
      expect(r.code, r.out.slice(-2000)).to.equal(0);
      expect(r.out).to.include('Rebalancing across');
      expect(r.out).to.not.match(/\[ERR\]|IOERR|Target instance replied/);
      const after = await slotOwners(nodes[0]!.port);
      const movedSlots = new Set([...before].filter(([s, p]) => after.get(s) !== p).map(([s]) => s));
      expect(movedSlots.size).to.be.greaterThan(0);
      const counts = nodes.map((n) => [...after.values()].filter((p) => p === n.port).length);
      const even = 16384 / nodes.length;
      // redis-cli leaves each master within its threshold (1%) of the even share.
      for (const c of counts) expect(Math.abs(c - even)).to.be.below(even * 0.02 + 2);
      await check();
      await readBack();
      const keysMoved = data.filter((d) => movedSlots.has(keyHashSlot(d.key))).length;
      console.log(`      (rebalance: ${movedSlots.size} slots, ${keysMoved} keys, ${ms} ms; slots per master ${counts.join(' ')})`);
    });
  });
}

describe('redis-cli --cluster reshard / rebalance with MIGRATE', function () {
  // The same steps on redis-server alone: the baseline for the times printed, and proof the test passes on Redis.
  clusterSuite('a cluster of three redis-server masters (baseline)', ['real', 'real', 'real'], [[0, 1, 600], [1, 2, 400]]);
  clusterSuite('a cluster of three reference masters', ['ref', 'ref', 'ref'], [[0, 1, 600], [1, 2, 400]]);
  clusterSuite('a mixed cluster: 3 redis-server + 3 reference masters', ['real', 'ref', 'real', 'ref', 'real', 'ref'],
    [[1, 0, 400], [2, 3, 400], [3, 5, 300]]);
});
