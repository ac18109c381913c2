/** Redis Cluster scenarios (the seed's second half). */
import { execFile } from 'node:child_process';
import { Redis } from 'ioredis';
import type { HistoryEvent, ReshardRun, RoleObservation } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { ExpectationNotMet } from '../results/expectation.js';
import type { Topology } from '../topology/model.js';
import { dataPassword } from '../clients/index.js';
import { asCheck, checkClusterState, checkFailback, checkPromotion, checkRedirectsFollowed, checkReshardRuns, checkSlotCoverage, ops } from '../checkers/index.js';
import { delay, scaled } from '../support/time.js';
import type { Workload } from '../workload/workload.js';
import { expectWithin, markWorkloadEnd, markWorkloadStart, promotionHint, SCENARIO_RATE, standardChecks } from './common.js';
import type { CheckOutput, Scenario, ScenarioContext, ScenarioFacts } from './types.js';
import { checkMinorityStopped, checkShardedWrites, inSlotRanges, keySlot, writesToShardDuring } from '../checkers/sharded.js';

export { checkMinorityStopped, checkShardedWrites, inSlotRanges, keySlot, writesToShardDuring };



/** Keys in the failed shard's slots, for failover time and unavailability of that shard. */
function shardFilter(facts: ScenarioFacts): ((key: string) => boolean) | undefined {
  const ranges = facts['victimSlots'];
  return typeof ranges === 'string' && ranges !== '' ? (key) => inSlotRanges(ranges, keySlot(key)) : undefined;
}


const LOSS =
  'writes a master acknowledged during node-timeout before its replica took over were not replicated; Redis Cluster documents this window';

function clusterWait(t: Topology): number {
  return Math.max((t.cluster?.nodeTimeoutMs ?? 15_000) * 3, t.budgets.failoverMs * 2, 20_000);
}

/** Waits for cluster_state:ok and full slot coverage on the given (default: all) nodes. */
async function waitClusterOk(ctx: ScenarioContext, nodes?: string[], timeoutMs = 60_000, since?: string, check = 'cluster-state'): Promise<void> {
  const names = nodes ?? ctx.topology.redis.map((r) => r.name);
  const hint = `check cluster-node-timeout (${ctx.topology.cluster?.nodeTimeoutMs ?? 15_000} ms here), cluster-require-full-coverage and that every node reaches the others' bus ports`;
  await expectWithin(
    { check, failure: `the cluster did not report cluster_state:ok with all 16384 slots on ${names.join(', ')}`, ...(since ? { since } : {}), hint },
    () =>
      names.every((n) => {
        const s = ctx.observer.current.get(n);
        return s !== undefined && s.role !== 'down' && s.detail['cluster_state'] === 'ok' && s.detail['cluster_slots_ok'] === 16384;
      }),
    timeoutMs,
  );
}

function masters(ctx: ScenarioContext): string[] {
  return [...ctx.observer.current].filter(([, s]) => s.role === 'master').map(([n]) => n).sort();
}

/** The replica currently following `master` (by its internal address). */
function replicaOf(ctx: ScenarioContext, master: string): string | undefined {
  const addr = ctx.addressOf(master);
  return [...ctx.observer.current].find(([, s]) => s.role === 'replica' && s.master === addr)?.[0];
}

async function startClusterWorkload(ctx: ScenarioContext): Promise<Workload> {
  const a: Record<string, string> = {};
  for (const r of ctx.topology.redis) a[r.name] = ctx.addressOf(r.name);
  ctx.note('addresses', a);
  const wl = await ctx.startWorkload({ kind: 'set', path: { kind: 'cluster' }, processes: 16, rate: SCENARIO_RATE, setKeys: 32 });
  markWorkloadStart(ctx, wl.via);
  return wl;
}

/** Picks a master whose replica lives on another host; that master's host is what fails. */
function victimHost(ctx: ScenarioContext): { host: string; master: string; replica: string; onHost: string[] } {
  const hostOf = (n: string): string => ctx.topology.redis.find((r) => r.name === n)!.host;
  const options = masters(ctx)
    .map((m) => ({ master: m, replica: replicaOf(ctx, m) }))
    .filter((x): x is { master: string; replica: string } => x.replica !== undefined && hostOf(x.replica) !== hostOf(x.master));
  if (options.length === 0) throw new ExpectationNotMet('replication', 'no master has a replica on another host, so losing a host loses a shard (see cluster-shard-loss): check how replicas are spread over hosts');
  const { master, replica } = ctx.rng.pick(options);
  const host = hostOf(master);
  const onHost = ctx.topology.redis.filter((r) => r.host === host).map((r) => r.name);
  return { host, master, replica, onHost };
}

/** Notes the victim shard's slots and its replica before the fault. */
function noteVictim(ctx: ScenarioContext, master: string, replica: string): void {
  ctx.note('oldMaster', master);
  ctx.note('replica', replica);
  ctx.note('victimSlots', String(ctx.observer.current.get(master)?.detail['slots'] ?? ''));
}

async function waitShardPromoted(ctx: ScenarioContext, replica: string, since: string): Promise<void> {
  await expectWithin({ check: 'promotion', failure: `${replica} was not promoted to master`, since, hint: promotionHint(ctx.topology) }, () => ctx.observer.current.get(replica)?.role === 'master', clusterWait(ctx.topology));
  ctx.note('promotedAt', ctx.history.now());
  ctx.log(`${replica} promoted`);
}

async function hostFailure(ctx: ScenarioContext, recover: boolean): Promise<void> {
  await waitClusterOk(ctx);
  const wl = await startClusterWorkload(ctx);
  await delay(scaled(1000));
  const { host, master, replica, onHost } = victimHost(ctx);
  const survivors = ctx.topology.redis.map((r) => r.name).filter((n) => !onHost.includes(n));
  noteVictim(ctx, master, replica);
  ctx.note('host', host);
  ctx.note('survivors', survivors);
  ctx.log(`stop host ${host} (${onHost.join(', ')}; master ${master}, its replica ${replica})`);
  // The fault counts from when the host was told to stop.
  const faultAt = ctx.history.now();
  await ctx.nemesis.apply({ at: 0, fault: 'stop-host', targets: [host], duration: 0 });
  ctx.note('faultAt', faultAt);
  ctx.history.mark('fault', `stop-host ${host}`);
  await waitShardPromoted(ctx, replica, `stopping host ${host}`);
  await waitClusterOk(ctx, survivors, clusterWait(ctx.topology), `stopping host ${host}`, 'cluster-state-survivors');
  await expectWithin({ check: 'failover-time', failure: 'no write through the Cluster client was acknowledged', since: `${replica}'s promotion`, hint: 'check that the client reaches the promoted node' }, () => wl.lastOkInvokedAt >= Number(ctx.facts['promotedAt']), clusterWait(ctx.topology));
  ctx.note('coverageAt', ctx.history.now());
  if (recover) {
    await delay(scaled(1000));
    // Marked before the restart: the returning node can be seen rejoined before the restart call returns.
    ctx.note('healAt', ctx.history.mark('heal', `start-host ${host}`).time);
    await ctx.nemesis.healAll();
    // The returning master must rejoin as a replica of its promoted former replica.
    await expectWithin({ check: 'failback', failure: `${master} did not rejoin as a replica of ${replica} with its link up`, since: `starting host ${host} again`, hint: 'check that the returning node reaches the others\' bus ports and keeps its nodes.conf' }, () => {
      const s = ctx.observer.current.get(master);
      return s?.role === 'replica' && s.master === ctx.addressOf(replica) && s.linkUp === true;
    }, clusterWait(ctx.topology));
    await waitClusterOk(ctx, undefined, clusterWait(ctx.topology), `starting host ${host} again`);
  }
  await delay(scaled(1000));
  await wl.stop();
  markWorkloadEnd(ctx);
  await wl.finalRead();
}

function hostFailureChecks(events: HistoryEvent[], facts: ScenarioFacts, t: Topology, recover: boolean, maxInShard = 100, rationale = LOSS): CheckOutput {
  const filter = shardFilter(facts);
  const out = standardChecks(events, facts, t, { maxLost: Number.POSITIVE_INFINITY, ...(filter ? { keyFilter: filter } : {}) });
  const w = checkShardedWrites(events, out, facts['victimSlots'] as string | undefined, maxInShard, rationale);
  out.checks = out.checks.map((c) => (c.name === 'acknowledged-writes' ? w : c));
  const survivors = (facts['survivors'] as string[] | undefined) ?? [];
  const replica = facts['replica'] as string | undefined;
  out.checks.push(asCheck(checkPromotion(events, { oldMaster: String(facts.oldMaster), faultAt: facts.faultAt ?? 0, withinMs: t.budgets.failoverMs, ...(replica ? { candidates: [replica] } : {}) })));
  const at = facts['coverageAt'] as number | undefined;
  out.checks.push({ ...checkSlotCoverage(events, { expectFull: true, ...(at !== undefined ? { at } : {}) }), name: 'slot-coverage-after-failover' });
  out.checks.push({ ...checkClusterState(events, { expect: 'ok', nodes: survivors, ...(at !== undefined ? { at } : {}) }), name: 'cluster-state-survivors' });
  if (recover) {
    out.checks.push(checkSlotCoverage(events, { expectFull: true }));
    out.checks.push(checkClusterState(events, { expect: 'ok', nodes: t.redis.map((r) => r.name) }));
    const addresses = facts['addresses'] as Record<string, string> | undefined;
    if (replica && addresses?.[replica]) {
      out.checks.push(asCheck(checkFailback(events, { oldMaster: String(facts.oldMaster), newMaster: replica, newMasterAddress: addresses[replica]!, after: facts.healAt ?? 0 })));
    } else {
      out.checks.push({ name: 'failback', verdict: 'fail', detail: 'the scenario did not get as far as bringing the host back' });
    }
  }
  return out;
}

export const clusterHostFailure: Scenario = {
  name: 'cluster-host-failure',
  description: 'Stop a host that holds a master (and a replica of another shard): its replica is promoted, the survivors report cluster_state:ok with all 16384 slots, and writes through the Cluster client resume within the budget.',
  topologyKinds: ['cluster'],
  requires: ['replicas'],
  unsupported: (t) => ((t.cluster?.replicasPerMaster ?? 0) < 1 ? 'needs replicas per master' : t.hosts.length < 2 ? 'needs at least two hosts' : undefined),
  run: (ctx) => hostFailure(ctx, false),
  check: (events, facts, t) => hostFailureChecks(events, facts, t, false),
};

export const clusterHostRecovery: Scenario = {
  name: 'cluster-host-recovery',
  description: 'The seed\'s recovery: stop a master\'s host, then start it again; the old master rejoins as a replica of its promoted replica and every node reports cluster_state:ok with full coverage.',
  topologyKinds: ['cluster'],
  requires: ['replicas'],
  unsupported: clusterHostFailure.unsupported!,
  run: (ctx) => hostFailure(ctx, true),
  check: (events, facts, t) => hostFailureChecks(events, facts, t, true),
};

export const ROUTING_KEYS: Record<string, number> = { key1: 9189, key2: 4998, key3: 935 };

export const clusterRouting: Scenario = {
  name: 'cluster-routing',
  description: 'The seed\'s keys key1/key2/key3 land in slots 9189/4998/935: a plain client gets MOVED to the owning master, the Cluster client follows redirects, and every key written through it reads back.',
  topologyKinds: ['cluster'],
  async run(ctx) {
    await waitClusterOk(ctx);
    const pass = dataPassword(ctx.dep);
    const routing: { key: string; node: string; reply: string }[] = [];
    for (const name of masters(ctx)) {
      const ep = ctx.endpoint(name);
      const c = new Redis({ host: ep.host, port: ep.port, ...(pass ? { password: pass } : {}), lazyConnect: true, maxRetriesPerRequest: 0, commandTimeout: scaled(1000) });
      c.on('error', () => undefined);
      try {
        await c.connect();
        for (const key of Object.keys(ROUTING_KEYS)) {
          const via = `direct:${name}`;
          ctx.history.op({ process: -1, f: 'route', via, phase: 'invoke', key, value: 'v' });
          try {
            const r = await c.set(key, 'v');
            routing.push({ key, node: name, reply: String(r) });
            ctx.history.op({ process: -1, f: 'route', via, phase: 'ok', key, value: r });
          } catch (e) {
            const msg = e instanceof Error ? e.message : String(e);
            routing.push({ key, node: name, reply: msg });
            ctx.history.op({ process: -1, f: 'route', via, phase: 'fail', key, error: msg });
          }
        }
      } finally {
        c.disconnect();
      }
    }
    const addresses: Record<string, string> = {};
    for (const r of ctx.topology.redis) addresses[ctx.addressOf(r.name)] = r.name;
    const slotOwner: Record<string, string> = {};
    for (const [name, s] of ctx.observer.current) {
      if (s.role !== 'master' || typeof s.detail['slots'] !== 'string') continue;
      for (const key of Object.keys(ROUTING_KEYS)) {
        const slot = keySlot(key);
        for (const part of (s.detail['slots'] as string).split(',')) {
          const [a, b] = part.split('-').map(Number);
          if (a !== undefined && slot >= a && slot <= (b ?? a)) slotOwner[key] = name;
        }
      }
    }
    ctx.note('routing', routing);
    ctx.note('nodeByAddress', addresses);
    ctx.note('slotOwner', slotOwner);
    const wl = await ctx.startWorkload({ kind: 'keys', path: { kind: 'cluster' }, processes: 8, rate: SCENARIO_RATE });
    markWorkloadStart(ctx, wl.via);
    await delay(scaled(2000));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, facts, t): CheckOutput {
    // Routing injects no fault; the Cluster client's writes must still be acknowledged and read back.
    const out = standardChecks(events, facts, t, { noFailover: true, noFault: true });
    out.checks.push(checkSlotCoverage(events, { expectFull: true }), checkClusterState(events, { expect: 'ok' }));
    const routing = (facts['routing'] as { key: string; node: string; reply: string }[] | undefined) ?? [];
    const addresses = facts.nodeByAddress ?? {};
    const owner = (facts['slotOwner'] as Record<string, string> | undefined) ?? {};
    const problems: string[] = [];
    const slotsSeen: string[] = [];
    for (const key of Object.keys(ROUTING_KEYS)) {
      const expectSlot = ROUTING_KEYS[key]!;
      if (keySlot(key) !== expectSlot) problems.push(`${key} hashes to ${keySlot(key)}, not ${expectSlot}`);
      for (const r of routing.filter((x) => x.key === key)) {
        if (r.node === owner[key]) {
          if (r.reply !== 'OK') problems.push(`${r.node} owns slot ${expectSlot} but answered ${r.reply}`);
          continue;
        }
        const m = /^MOVED (\d+) (\S+)$/.exec(r.reply);
        if (!m) {
          problems.push(`${r.node} answered "${r.reply}" for ${key} (expected MOVED)`);
          continue;
        }
        slotsSeen.push(`${key}:${m[1]}`);
        if (Number(m[1]) !== expectSlot) problems.push(`MOVED for ${key} names slot ${m[1]}, expected ${expectSlot}`);
        if (addresses[m[2]!] !== owner[key]) problems.push(`MOVED for ${key} points at ${m[2]} (${addresses[m[2]!] ?? 'unknown'}), but ${owner[key] ?? 'nobody'} owns the slot`);
      }
    }
    const redirects: CheckResult = {
      name: 'moved-redirects',
      verdict: problems.length || routing.length === 0 ? 'fail' : 'pass',
      detail: problems.length ? problems.join('; ') : routing.length === 0 ? 'no routing probe ran' : `key1/key2/key3 in slots 9189/4998/935; ${routing.length} probes, every non-owner answered MOVED to the owner`,
      data: { probes: routing.length },
    };
    out.checks.push(redirects);
    return out;
  },
};

export const clusterShardLoss: Scenario = {
  name: 'cluster-shard-loss',
  description: 'Kill a master and its replica, losing a whole shard: with cluster-require-full-coverage yes every node reports cluster_state:fail; with no, the other shards keep serving. Then restart both and full coverage returns.',
  topologyKinds: ['cluster'],
  requires: ['replicas'],
  unsupported: clusterHostFailure.unsupported!,
  async run(ctx) {
    await waitClusterOk(ctx);
    const wl = await startClusterWorkload(ctx);
    await delay(scaled(1000));
    const master = ctx.rng.pick(masters(ctx));
    const replica = replicaOf(ctx, master);
    if (!replica) throw new ExpectationNotMet('replication', `no replica follows ${master}, so there is no shard of two to lose`);
    const victims = [master, replica];
    noteVictim(ctx, master, replica);
    ctx.note('victims', victims);
    await ctx.nemesis.apply({ at: 0, fault: 'kill', targets: victims, duration: 0 });
    ctx.note('faultAt', ctx.history.now());
    ctx.history.mark('fault', `kill ${victims.join(', ')}`);
    const survivors = ctx.topology.redis.map((r) => r.name).filter((n) => !victims.includes(n));
    const expectState = ctx.topology.cluster?.requireFullCoverage === false ? 'ok' : 'fail';
    await expectWithin(
      { check: `cluster-state-with-full-coverage-${expectState === 'fail' ? 'yes' : 'no'}`, failure: `the survivors did not mark the shard failed (cluster_state:${expectState}, 2 failed nodes)`, since: `killing ${victims.join(' and ')}`, hint: promotionHint(ctx.topology) },
      () => survivors.every((n) => ctx.observer.current.get(n)?.detail['cluster_state'] === expectState && Number(ctx.observer.current.get(n)?.detail['failed_nodes'] ?? 0) >= 2),
      clusterWait(ctx.topology),
    );
    // Hold the shard loss long enough for the Cluster client to serve the other shards (or be refused) on a loaded machine.
    await delay(scaled(3000));
    ctx.note('degradedAt', ctx.history.now());
    ctx.note('survivors', survivors);
    await ctx.nemesis.healAll();
    ctx.note('healAt', ctx.history.mark('heal', `start ${victims.join(', ')}`).time);
    await waitClusterOk(ctx, undefined, clusterWait(ctx.topology), `starting ${victims.join(' and ')} again`);
    await delay(scaled(1000));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, facts, t): CheckOutput {
    const full = t.cluster?.requireFullCoverage !== false;
    const out = standardChecks(events, facts, t, { maxLost: Number.POSITIVE_INFINITY, noFailover: true });
    const w = checkShardedWrites(events, out, facts['victimSlots'] as string | undefined, Number.POSITIVE_INFINITY, 'both copies of the shard were killed; what survives depends on its persistence settings');
    out.checks = out.checks.map((c) => (c.name === 'acknowledged-writes' ? w : c));
    // A lost shard is unavailability by design; the budget applies to the other checks only.
    out.checks = out.checks.filter((c) => c.name !== 'unavailability' && c.name !== 'budgets');
    const at = facts['degradedAt'] as number | undefined;
    const survivors = (facts['survivors'] as string[] | undefined) ?? [];
    out.checks.push({ ...checkSlotCoverage(events, { expectFull: false, ...(at !== undefined ? { at } : {}) }), name: 'coverage-while-shard-lost' });
    out.checks.push({ ...checkClusterState(events, { expect: full ? 'fail' : 'ok', nodes: survivors, ...(at !== undefined ? { at } : {}) }), name: `cluster-state-with-full-coverage-${full ? 'yes' : 'no'}` });
    if (!full && at !== undefined && facts.faultAt !== undefined) {
      const served = ops(events, (o) => o.phase === 'ok' && o.f === 'add' && o.time > facts.faultAt! && o.time < at).length;
      out.checks.push({ name: 'other-shards-serve', verdict: served > 0 ? 'pass' : 'fail', detail: `${served} writes to the remaining shards were acknowledged while the shard was lost` });
    }
    out.checks.push(checkSlotCoverage(events, { expectFull: true }), checkClusterState(events, { expect: 'ok' }));
    return out;
  },
};

export const clusterMinorityPartition: Scenario = {
  name: 'cluster-minority-partition',
  description: 'Isolate the host of one master (a minority): after node-timeout the majority promotes its replica and the isolated master stops accepting writes; on heal it rejoins as a replica. Writes it took during node-timeout may be lost (reported, bounded).',
  topologyKinds: ['cluster'],
  requires: ['partition', 'replicas'],
  unsupported: (t) => ((t.cluster?.replicasPerMaster ?? 0) < 1 ? 'needs replicas per master' : t.hosts.length < 3 ? 'needs at least three hosts' : undefined),
  async run(ctx) {
    await waitClusterOk(ctx);
    const wl = await startClusterWorkload(ctx);
    await delay(scaled(1000));
    const { host, master, replica, onHost } = victimHost(ctx);
    const majority = ctx.topology.redis.map((r) => r.name).filter((n) => !onHost.includes(n));
    noteVictim(ctx, master, replica);
    ctx.note('survivors', majority);
    await ctx.nemesis.apply({ at: 0, fault: 'partition-isolate', targets: [host], duration: 0 });
    ctx.note('faultAt', ctx.history.now());
    ctx.history.mark('fault', `isolate ${host}`);
    await waitShardPromoted(ctx, replica, `isolating host ${host}`);
    await waitClusterOk(ctx, majority, clusterWait(ctx.topology), `isolating host ${host}`, 'cluster-state-survivors');
    await expectWithin({ check: 'failover-time', failure: 'no write through the Cluster client was acknowledged', since: `${replica}'s promotion`, hint: 'check that the client reaches the promoted node' }, () => wl.lastOkInvokedAt >= Number(ctx.facts['promotedAt']), clusterWait(ctx.topology));
    ctx.note('coverageAt', ctx.history.now());
    await delay(scaled(1000));
    await ctx.nemesis.healAll();
    ctx.note('healAt', ctx.history.mark('heal').time);
    await waitClusterOk(ctx, undefined, clusterWait(ctx.topology), `healing the partition of ${host}`);
    await delay(scaled(1000));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check: (events, facts, t) => {
    // Only writes the isolated shard acknowledged while cut off can be lost: the budget is what was routed there.
    const nodeTimeoutS = (t.cluster?.nodeTimeoutMs ?? 15_000) / 1000;
    const budget = writesToShardDuring(events, facts.victimSlots, facts.faultAt, facts.healAt);
    const out = hostFailureChecks(events, facts, t, false, budget, `the isolated master acknowledges its shard's writes for up to cluster-node-timeout (${nodeTimeoutS} s) before it stops; at most the ${budget} writes its shard acknowledged during the partition can be lost`);
    out.checks.push(checkMinorityStopped(events, String(facts.oldMaster), facts.faultAt, facts.healAt, t.cluster?.nodeTimeoutMs ?? 15_000));
    const replica = facts.replica;
    const addr = replica ? facts.addresses?.[replica] : undefined;
    out.checks.push(
      replica && addr && facts.healAt !== undefined
        ? asCheck(checkFailback(events, { oldMaster: String(facts.oldMaster), newMaster: replica, newMasterAddress: addr, after: facts.healAt }))
        : { name: 'failback', verdict: 'fail', detail: 'the scenario did not get as far as healing the partition' },
    );
    return out;
  },
};



/** redis-cli with the deployment's password, if any; resolves its exit code and output (never rejects). */
function redisCli(ctx: ScenarioContext, args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  const pass = dataPassword(ctx.dep);
  const auth = pass ? ['-a', pass, '--no-auth-warning'] : [];
  return new Promise((resolve) => {
    execFile('redis-cli', [...auth, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

/** Node id -> { name, slots } of every master, from one master's CLUSTER NODES. */
async function clusterMasters(ctx: ScenarioContext, via: string): Promise<Map<string, { name: string; slots: Set<number> }>> {
  const ep = ctx.endpoint(via);
  const pass = dataPassword(ctx.dep);
  const c = new Redis({ host: ep.host, port: ep.port, ...(pass ? { password: pass } : {}), lazyConnect: true, maxRetriesPerRequest: 0, commandTimeout: scaled(5000) });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const text = String(await c.call('CLUSTER', 'NODES'));
    const out = new Map<string, { name: string; slots: Set<number> }>();
    for (const line of text.split('\n')) {
      const f = line.split(' ');
      if (!f[2]?.includes('master') || f[2].includes('fail')) continue;
      const addr = f[1]!.split('@')[0]!.split(',')[0]!;
      const slots = new Set<number>();
      for (const r of f.slice(8)) {
        if (r.startsWith('[')) continue;
        const [a, b] = r.split('-').map(Number);
        for (let s = a!; s <= (b ?? a)!; s++) slots.add(s);
      }
      out.set(f[0]!, { name: ctx.nameOfAddress(addr) ?? addr, slots });
    }
    return out;
  } finally {
    c.disconnect();
  }
}

const RESHARD_SLOTS = 200;

/** Slot 0 and a hash tag that maps to it: the workload's keys all go there, and redis-cli reshards a source's lowest slots first. */
export function hotSlotTag(): { hotSlot: number; tag: string } {
  const hotSlot = 0;
  let tag = '';
  for (let i = 0; tag === ''; i++) if (keySlot(`{hot${i}}`) === hotSlot) tag = `{hot${i}}`;
  return { hotSlot, tag };
}

/**
 * redis-cli --cluster reshard moves RESHARD_SLOTS slots (the hot one first) from the master owning it to another
 * master and back, then --cluster check; each run and the check are noted (reshards, clusterCheck) for checkReshardRuns.
 */
export async function reshardAwayAndBack(ctx: ScenarioContext, hotSlot: number): Promise<void> {
  const first = masters(ctx)[0]!;
  const before = await clusterMasters(ctx, first);
  // The master owning slot 0 gives its lowest slots first (redis-cli takes a source's slots in order); it and another master trade them.
  const [fromId, from] = [...before].find(([, m]) => m.slots.has(0))!;
  // A master with slots: a node about to become a replica is briefly a master without any.
  const [toId, to] = ctx.rng.pick([...before].filter(([id, m]) => id !== fromId && m.slots.size > 0));
  const ep = ctx.endpoint(first);
  const runs: ReshardRun[] = [];
  for (const [srcId, src, dstId, dst] of [[fromId, from, toId, to], [toId, to, fromId, from]] as const) {
    const owners = await clusterMasters(ctx, first);
    const startAt = ctx.history.mark('reshard-start', `${src.name} -> ${dst.name}`).time;
    const r = await redisCli(ctx, ['--cluster', 'reshard', `${ep.host}:${ep.port}`, '--cluster-from', srcId, '--cluster-to', dstId,
      '--cluster-slots', String(RESHARD_SLOTS), '--cluster-yes'], scaled(300_000));
    const endAt = ctx.history.mark('reshard-end', `${src.name} -> ${dst.name}: exit ${r.code}`).time;
    const after = await clusterMasters(ctx, first);
    const srcBefore = owners.get(srcId)?.slots ?? new Set<number>();
    const moved = [...srcBefore].filter((s) => after.get(dstId)?.slots.has(s));
    runs.push({ from: src.name, to: dst.name, slots: RESHARD_SLOTS, exitCode: r.code, startAt, endAt, movedSlots: moved.length, hotSlotMoved: moved.includes(hotSlot), tail: r.out.slice(-400) });
    ctx.log(`reshard ${RESHARD_SLOTS} slots ${src.name} -> ${dst.name}: exit ${r.code}, ${moved.length} moved, ${Math.round(endAt - startAt)} ms`);
    await delay(scaled(500));
  }
  ctx.note('reshards', runs);
  await waitClusterOk(ctx, undefined, clusterWait(ctx.topology));
  const chk = await redisCli(ctx, ['--cluster', 'check', `${ep.host}:${ep.port}`], scaled(60_000));
  const clean = chk.code === 0 && chk.out.includes('[OK] All nodes agree about slots configuration.') && chk.out.includes('[OK] All 16384 slots covered.') && !/\[(ERR|WARNING)\]/.test(chk.out);
  ctx.note('clusterCheck', { exitCode: chk.code, clean, tail: chk.out.slice(-400) });
}

export const clusterLiveReshard: Scenario = {
  name: 'cluster-live-reshard',
  description: `While the Cluster client writes a new key every op, all into one hot slot, redis-cli --cluster reshard moves ${RESHARD_SLOTS} slots (the hot one first) from one master to another and back: no acknowledged write is lost, every key reads back, the client follows ASK while the slot migrates and MOVED after, and redis-cli --cluster check is clean.`,
  topologyKinds: ['cluster'],
  async run(ctx) {
    await waitClusterOk(ctx);
    const { hotSlot, tag } = hotSlotTag();
    ctx.note('hotSlot', hotSlot);
    const wl = await ctx.startWorkload({ kind: 'keys', path: { kind: 'cluster' }, processes: 8, rate: SCENARIO_RATE, keyPrefix: `chaos${tag}`, recordRedirects: true });
    markWorkloadStart(ctx, wl.via);
    await delay(scaled(1000));
    await reshardAwayAndBack(ctx, hotSlot);
    await delay(scaled(500));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, facts, t): CheckOutput {
    // Resharding is no fault: nothing may be lost and writes must keep flowing.
    const out = standardChecks(events, facts, t, { noFailover: true, noFault: true, maxLost: 0 });
    out.checks.push(checkReshardRuns(facts, 2), checkRedirectsFollowed(events, facts));
    out.checks.push(checkSlotCoverage(events, { expectFull: true }), checkClusterState(events, { expect: 'ok' }));
    return out;
  },
};
