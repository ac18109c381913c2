/**
 * redis-cli's cluster administration beyond create and reshard: add-node (as an empty master, and as a replica with
 * --cluster-slave), rebalance onto the empty master (--cluster-use-empty-masters), check finding an open slot and an
 * uncovered one, fix repairing both, and del-node of the replica and then of the emptied master. The same steps run
 * on redis-server nodes first; the reference-only and mixed clusters must give the same result and the same output
 * shape (each step's distinct lines, with ids, addresses and numbers masked) as that baseline.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { stopChild } from '../util/servers.js';
import { waitUntil } from '../util/wait.js';
import { bulkText, pipeline, redisCli, slotOwners, startClusterNodes, waitCheckClean, type ClusterNodeKind, type ClusterProcess } from '../fixtures/cluster-kit.js';

/**
 * An output's shape: its distinct lines, sorted (redis-cli lists nodes in the order CLUSTER NODES gives them, which
 * differs from run to run), with node ids (whole or cut to 8 characters), addresses, slot lists and numbers masked.
 */
function outputShape(out: string): string[] {
  const lines = out.split('\n')
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')
      .replace(/[0-9a-f]{40}|\b[0-9a-f]{8}(?=\.\.\.)/g, '<id>')
      .replace(/127\.0\.0\.1:\d+(@\d+)?/g, '<addr>')
      .replace(/slots:\S*/g, 'slots:<slots>')
      .replace(/\d+/g, '<n>')
      // redis-cli prints a dot per wait turn: how many is timing.
      .replace(/\.{2,}$/, '...')
      .trimEnd())
    .filter((l) => l !== '' && !/^\.+$/.test(l));
  return [...new Set(lines)].sort();
}

const MASTERS = 3;
const KEYS = 1200;

interface Step {
  code: number;
  shape: string[];
}

/** Each step's exit code and output shape on the baseline, for the other clusters to match. */
const baseline = new Map<string, Step>();

function adminSuite(title: string, kinds: ClusterNodeKind[], isBaseline: boolean): void {
  describe(title, function () {
    this.timeout(300000);
    const nodes: ClusterProcess[] = [];
    let root = '';
    const masters = (): ClusterProcess[] => nodes.slice(0, MASTERS);
    const newMaster = (): ClusterProcess => nodes[MASTERS]!;
    const newReplica = (): ClusterProcess => nodes[MASTERS + 1]!;
    const at = (n: ClusterProcess): string => `127.0.0.1:${n.port}`;
    /** The nodes in the cluster now: create and add-node put them in, del-node takes them out. */
    const joined = new Set<ClusterProcess>();
    const members = (): ClusterProcess[] => [...joined];
    const keys = Array.from({ length: KEYS }, (_, i) => `admin:${i}`);

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'rr-cli-admin-'));
      // Each node is ours to stop as soon as it is spawned, even if a later one never answers.
      await startClusterNodes(kinds, root, { nodeTimeoutMs: 5000 }, (n) => nodes.push(n));
    });

    after(async () => {
      await Promise.all(nodes.map((n) => stopChild(n.child)));
      rmSync(root, { recursive: true, force: true });
    });

    /** Runs redis-cli; on the baseline records the step, elsewhere expects the baseline's exit code and shape. */
    const step = async (name: string, args: string[], input = ''): Promise<string> => {
      const r = await redisCli(args, 120000, input);
      const got: Step = { code: r.code, shape: outputShape(r.out) };
      if (isBaseline) baseline.set(name, got);
      else {
        const want = baseline.get(name);
        expect(want, `the baseline ran ${name}`).to.not.equal(undefined);
        expect(got.code, `${name} exit code\n${r.out.slice(-2000)}`).to.equal(want!.code);
        expect(got.shape, `${name} output shape (masked lines) against redis-server's\n${r.out.slice(-3000)}`).to.deep.equal(want!.shape);
      }
      return r.out;
    };

    const cleanCheck = (masters: number): Promise<void> => waitCheckClean(nodes[0]!.port, { masters, members: members() });

    /** Every key reads back from the master that owns its slot now. */
    const readBack = async (): Promise<void> => {
      const owners = await slotOwners(nodes[0]!.port);
      const byPort = new Map<number, string[]>();
      for (const k of keys) {
        const p = owners.get(keyHashSlot(k))!;
        byPort.set(p, [...(byPort.get(p) ?? []), k]);
      }
      let total = 0;
      for (const [port, ks] of byPort) {
        const got = await pipeline(port, ks.map((k) => ['GET', k]));
        ks.forEach((k, i) => expect(got[i], `GET ${k} on ${port}`).to.equal(`$${`v-${k}`.length}\r\nv-${k}\r\n`));
        total += ks.length;
      }
      expect(total).to.equal(KEYS);
    };

    const knownNodes = async (n: ClusterProcess): Promise<string[]> =>
      bulkText((await pipeline(n.port, [['CLUSTER', 'NODES']]))[0]!).split('\n').filter(Boolean);

    it(`create of ${MASTERS} masters (${kinds.slice(0, MASTERS).join(', ')}) and ${KEYS} keys`, async () => {
      const out = await step('create', ['--cluster', 'create', ...masters().map(at), '--cluster-replicas', '0', '--cluster-yes']);
      expect(out).to.include('[OK] All 16384 slots covered.');
      for (const m of masters()) joined.add(m);
      await cleanCheck(MASTERS);
      const owners = await slotOwners(nodes[0]!.port);
      for (const m of masters()) {
        const mine = keys.filter((k) => owners.get(keyHashSlot(k)) === m.port);
        const replies = await pipeline(m.port, mine.map((k) => ['SET', k, `v-${k}`]));
        for (const r of replies) expect(r).to.equal('+OK\r\n');
      }
      await readBack();
    });

    it(`add-node: a ${kinds[MASTERS]} node joins as an empty master`, async () => {
      const out = await step('add-node', ['--cluster', 'add-node', at(newMaster()), at(nodes[0]!)]);
      expect(out).to.include('[OK] New node added correctly.');
      joined.add(newMaster());
      await cleanCheck(MASTERS + 1);
      for (const n of nodes.slice(0, MASTERS + 1)) expect(await knownNodes(n), `CLUSTER NODES on ${n.port}`).to.have.length(MASTERS + 1);
    });

    it(`add-node --cluster-slave --cluster-master-id: a ${kinds[MASTERS + 1]} node joins as the new master's replica`, async () => {
      const out = await step('add-node-replica', ['--cluster', 'add-node', at(newReplica()), at(nodes[0]!), '--cluster-slave', '--cluster-master-id', newMaster().id]);
      expect(out).to.include('[OK] New node added correctly.');
      joined.add(newReplica());
      await waitUntil('the replica linked to the new master', async () => {
        const info = bulkText((await pipeline(newReplica().port, [['INFO', 'replication']]))[0]!);
        return info.includes('role:slave') && info.includes(`master_port:${newMaster().port}`) && info.includes('master_link_status:up');
      }, 60000);
      await cleanCheck(MASTERS + 1);
    });

    it('rebalance --cluster-use-empty-masters moves slots and their keys onto the new master', async () => {
      const out = await step('rebalance', ['--cluster', 'rebalance', at(nodes[0]!), '--cluster-use-empty-masters', '--cluster-threshold', '1']);
      expect(out).to.include('Rebalancing across 4 nodes.');
      const owners = await slotOwners(nodes[0]!.port);
      const gained = [...owners.values()].filter((p) => p === newMaster().port).length;
      expect(gained, 'the new master took its share').to.be.within(4096 - 100, 4096 + 100);
      await cleanCheck(MASTERS + 1);
      await readBack();
    });

    it('check reports a slot left migrating/importing; fix closes it and the slot keeps its keys', async () => {
      // A reshard stopped half way: the slot of admin:0 open on its owner and on another master, its keys still home.
      const slot = keyHashSlot(keys[0]!);
      const owners = await slotOwners(nodes[0]!.port);
      const owner = nodes.find((n) => n.port === owners.get(slot))!;
      const other = masters().find((n) => n !== owner)!;
      expect(await pipeline(other.port, [['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', owner.id]])).to.deep.equal(['+OK\r\n']);
      expect(await pipeline(owner.port, [['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', other.id]])).to.deep.equal(['+OK\r\n']);
      const check = await step('check-open-slot', ['--cluster', 'check', at(nodes[0]!)]);
      expect(check).to.match(/\[WARNING\] Node 127\.0\.0\.1:\d+ has slots in (migrating|importing) state/);
      const fix = await step('fix-open-slot', ['--cluster', 'fix', at(nodes[0]!), '--cluster-yes']);
      expect(fix).to.include('Fixing open slot');
      await cleanCheck(MASTERS + 1);
      await readBack();
    });

    it('check reports an uncovered slot; fix gives it to a master', async () => {
      // A slot with no key, forgotten by every node (DELSLOTS everywhere), as after an operator's mistake.
      const owners = await slotOwners(nodes[0]!.port);
      const used = new Set(keys.map(keyHashSlot));
      let slot = 100;
      while (used.has(slot)) slot++;
      for (const n of members()) expect(await pipeline(n.port, [['CLUSTER', 'DELSLOTS', String(slot)]]), `DELSLOTS on ${n.port}`).to.deep.equal(['+OK\r\n']);
      expect(owners.has(slot)).to.equal(true);
      await waitUntil('every node sees the slot unassigned', async () => (await Promise.all(members().map((n) => slotOwners(n.port)))).every((o) => !o.has(slot)), 30000);
      const check = await step('check-uncovered', ['--cluster', 'check', at(nodes[0]!)]);
      expect(check).to.include('[ERR] Not all 16384 slots are covered by nodes.');
      // fix asks before covering slots even with --cluster-yes (confirmWithYes ignores it there).
      const fix = await step('fix-uncovered', ['--cluster', 'fix', at(nodes[0]!), '--cluster-yes'], 'yes\n');
      expect(fix).to.include('Fix these slots by covering with a random node?');
      expect(fix).to.include('Fixing slots coverage');
      await cleanCheck(MASTERS + 1);
      expect((await slotOwners(nodes[0]!.port)).has(slot)).to.equal(true);
      await readBack();
    });

    it('del-node removes the replica: forgotten by the cluster, reset itself', async () => {
      const out = await step('del-node-replica', ['--cluster', 'del-node', at(nodes[0]!), newReplica().id]);
      expect(out).to.include('>>> Sending CLUSTER RESET SOFT to the deleted node.');
      joined.delete(newReplica());
      await cleanCheck(MASTERS + 1);
      for (const n of nodes.slice(0, MASTERS + 1)) {
        expect((await knownNodes(n)).some((l) => l.startsWith(newReplica().id)), `${n.port} forgot the replica`).to.equal(false);
      }
      const self = await knownNodes(newReplica());
      expect(self, 'the deleted node knows only itself, a master again').to.have.length(1);
      expect(self[0]).to.match(/ myself,master /);
    });

    it('reshard empties the new master, which turns replica of the node that took its slots; del-node removes it; every key is still served', async () => {
      const owners = await slotOwners(nodes[0]!.port);
      const held = [...owners.values()].filter((p) => p === newMaster().port).length;
      const r = await redisCli(['--cluster', 'reshard', at(nodes[0]!), '--cluster-from', newMaster().id, '--cluster-to', nodes[0]!.id,
        '--cluster-slots', String(held), '--cluster-yes']);
      expect(r.code, r.out.slice(-2000)).to.equal(0);
      // Redis 7.0: a master that lost its last slot turns replica of the node that took it (replica migration).
      await waitUntil('the emptied master is a replica of the node that took its slots', async () => {
        const info = bulkText((await pipeline(newMaster().port, [['INFO', 'replication']]))[0]!);
        return info.includes('role:slave') && info.includes(`master_port:${nodes[0]!.port}`);
      }, 60000);
      await cleanCheck(MASTERS);
      const out = await step('del-node-master', ['--cluster', 'del-node', at(nodes[0]!), newMaster().id]);
      expect(out).to.include('>>> Sending CLUSTER RESET SOFT to the deleted node.');
      joined.delete(newMaster());
      await cleanCheck(MASTERS);
      for (const n of masters()) expect(await knownNodes(n), `CLUSTER NODES on ${n.port}`).to.have.length(MASTERS);
      await readBack();
    });
  });
}

describe('redis-cli --cluster add-node / del-node / check / fix', function () {
  adminSuite('redis-server nodes (the baseline)', ['real', 'real', 'real', 'real', 'real'], true);
  adminSuite('reference nodes: same results, same output shape', ['ref', 'ref', 'ref', 'ref', 'ref'], false);
  adminSuite('a mixed cluster (a reference master with a redis-server replica joins): same results, same output shape', ['real', 'ref', 'real', 'ref', 'real'], false);
});
