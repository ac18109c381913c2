/**
 * The seeds' Redis Cluster walk-through: create and inspect the cluster (CLUSTER INFO, anti-affinity), write
 * key1/key2/key3 and read them from every node, lose the first node's whole host, inspect CLUSTER NODES and the
 * promoted replica, flag the broken anti-affinity (seed 004's warning), then bring the host back.
 */
import { Cluster, Redis } from 'ioredis';
import type { CheckResult } from '../results/types.js';
import { ExpectationNotMet } from '../results/expectation.js';
import type { Topology } from '../topology/model.js';
import { dataPassword, natMapFor } from '../clients/index.js';
import { asCheck, checkClusterState, checkFailback, checkPromotion, checkSlotCoverage } from '../checkers/index.js';
import { delay, scaled, waitFor } from '../support/time.js';
import { parseInfo } from '../observer/observer.js';
import { checkShardedWrites, clusterShardLoss, inSlotRanges, keySlot, ROUTING_KEYS } from './cluster.js';
import { expectWithin, markWorkloadEnd, markWorkloadStart, promotionHint, SCENARIO_RATE, standardChecks } from './common.js';
import { observationChecks, observe, probeClient } from './seed-sentinel.js';
import type { CheckOutput, Scenario, ScenarioContext } from './types.js';

function clusterWait(t: Topology): number {
  return Math.max((t.cluster?.nodeTimeoutMs ?? 15_000) * 3, t.budgets.failoverMs * 2, 20_000);
}

async function nodeCommand(ctx: ScenarioContext, name: string, ...args: string[]): Promise<string> {
  const c = probeClient(ctx, name, dataPassword(ctx.dep));
  try {
    await c.connect();
    return String(await c.call(args[0]!, ...args.slice(1)));
  } finally {
    c.disconnect();
  }
}

/** A Cluster-aware client whose only startup node is `name`, as `redis-cli -c -h <that node>`. */
function clusterClientFrom(ctx: ScenarioContext, name: string): Cluster {
  const pass = dataPassword(ctx.dep);
  const nat = natMapFor(ctx.dep);
  const c = new Cluster([ctx.endpoint(name)], {
    redisOptions: { ...(pass !== undefined ? { password: pass } : {}), connectTimeout: scaled(1000), commandTimeout: scaled(1500), maxRetriesPerRequest: 0 },
    lazyConnect: true,
    enableOfflineQueue: true,
    maxRedirections: 4,
    retryDelayOnFailover: scaled(100),
    retryDelayOnClusterDown: scaled(100),
    clusterRetryStrategy: () => null,
    ...(nat ? { natMap: nat } : {}),
  });
  c.on('error', () => undefined);
  return c;
}

interface NodeLine {
  id: string;
  addr: string;
  flags: string[];
  masterId: string;
  slots: string;
}

/** CLUSTER NODES lines: id, "host:port@bus", flags, master id, ..., slot ranges. */
export function parseClusterNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      return { id: f[0]!, addr: (f[1] ?? '').split('@')[0]!, flags: (f[2] ?? '').split(','), masterId: f[3] ?? '-', slots: f.slice(8).filter((s) => !s.startsWith('[')).join(',') };
    });
}

/** Hosts holding more than one master (one host loss would take several shards' masters), from the live roles. */
export function hostsWithSeveralMasters(t: Topology, roles: Map<string, { role: string }>): Record<string, string[]> {
  const byHost: Record<string, string[]> = {};
  for (const r of t.redis) if (roles.get(r.name)?.role === 'master') (byHost[r.host] ??= []).push(r.name);
  return Object.fromEntries(Object.entries(byHost).filter(([, ms]) => ms.length > 1));
}

function masterNames(ctx: ScenarioContext): string[] {
  return [...ctx.observer.current].filter(([, s]) => s.role === 'master').map(([n]) => n).sort();
}

async function waitClusterOk(ctx: ScenarioContext, names: string[], timeoutMs: number, since?: string, check = 'cluster-state'): Promise<void> {
  const hint = `check cluster-node-timeout (${ctx.topology.cluster?.nodeTimeoutMs ?? 15_000} ms here), cluster-require-full-coverage and that every node reaches the others' bus ports`;
  await expectWithin(
    { check, failure: `the cluster did not report cluster_state:ok with all 16384 slots on ${names.join(', ')}`, ...(since ? { since } : {}), hint },
    () => names.every((n) => {
      const s = ctx.observer.current.get(n);
      return s !== undefined && s.role !== 'down' && s.detail['cluster_state'] === 'ok' && s.detail['cluster_slots_ok'] === 16384;
    }),
    timeoutMs,
  );
}

/** Writes the seed's keys through a Cluster client started on the first node. */
async function writeSeedKeys(ctx: ScenarioContext): Promise<void> {
  const first = ctx.topology.cluster!.nodes[0]!;
  const c = clusterClientFrom(ctx, first);
  try {
    await within(scaled(10_000), `a Cluster client connecting through ${first}`, c.connect());
    for (const [i, k] of Object.keys(ROUTING_KEYS).entries()) await within(scaled(10_000), `SET ${k}`, c.set(k, `test${i + 1}`));
  } finally {
    c.disconnect();
  }
}

/** Reads every seed key through a Cluster client started on each of `nodes`; returns the problems. */
/** A Cluster client whose slot refresh never settles can leave connect() or a queued GET pending for ever: bound it. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms / 1000)} s to ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function readSeedKeysFrom(ctx: ScenarioContext, nodes: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const n of nodes) {
    const c = clusterClientFrom(ctx, n);
    try {
      await within(scaled(10_000), `a Cluster client connecting through ${n}`, c.connect());
      for (const [i, k] of Object.keys(ROUTING_KEYS).entries()) {
        const v = await within(scaled(10_000), `GET ${k}`, c.get(k)).catch((e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`);
        if (v !== `test${i + 1}`) problems.push(`GET ${k} from ${n}: ${v}`);
      }
    } catch (e) {
      problems.push(`cluster client from ${n}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      c.disconnect();
    }
  }
  return problems;
}

async function observeCreate(ctx: ScenarioContext): Promise<void> {
  const t = ctx.topology;
  const nodes = t.cluster!.nodes;
  const size = Math.round(nodes.length / (1 + t.cluster!.replicasPerMaster));
  const problems: string[] = [];
  for (const n of nodes) {
    const info = parseInfo(await nodeCommand(ctx, n, 'CLUSTER', 'INFO'));
    const want: Record<string, string> = { cluster_state: 'ok', cluster_slots_assigned: '16384', cluster_slots_ok: '16384', cluster_known_nodes: String(nodes.length), cluster_size: String(size) };
    for (const [k, v] of Object.entries(want)) if (info[k] !== v) problems.push(`${n} ${k}:${info[k]} (expected ${v})`);
  }
  observe(ctx, 'cluster-info', problems.length === 0, problems.length ? problems.join('; ') : `every node: cluster_state:ok, 16384 slots assigned and ok, ${nodes.length} known nodes, size ${size}`);
  const hostOf = (n: string): string => t.redis.find((r) => r.name === n)!.host;
  const pairs: string[] = [];
  const same: string[] = [];
  for (const m of masterNames(ctx)) {
    for (const [r, s] of ctx.observer.current) {
      if (s.role !== 'replica' || s.master !== ctx.addressOf(m)) continue;
      pairs.push(`${m}@${hostOf(m)}->${r}@${hostOf(r)}`);
      if (hostOf(r) === hostOf(m)) same.push(`${r} replicates ${m} on the same host ${hostOf(m)}`);
    }
  }
  observe(ctx, 'anti-affinity', same.length === 0 && pairs.length === nodes.length - size, same.length ? same.join('; ') : `every replica on another host than its master (${pairs.join(', ')})`);
}

/** The keys' slots, MOVED from a non-owner, and each key read through a Cluster client from every node. */
async function observeRouting(ctx: ScenarioContext): Promise<void> {
  const nodes = ctx.topology.cluster!.nodes;
  await writeSeedKeys(ctx);
  const problems: string[] = [];
  for (const [k, slot] of Object.entries(ROUTING_KEYS)) {
    const reported = Number(await nodeCommand(ctx, nodes[0]!, 'CLUSTER', 'KEYSLOT', k));
    if (reported !== slot) problems.push(`CLUSTER KEYSLOT ${k} = ${reported} (seed: ${slot})`);
    const owner = masterNames(ctx).find((m) => inSlotRanges(String(ctx.observer.current.get(m)?.detail['slots'] ?? ''), slot));
    const other = masterNames(ctx).find((m) => m !== owner);
    if (owner && other) {
      const reply = await nodeCommand(ctx, other, 'GET', k).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
      if (reply !== `MOVED ${slot} ${ctx.addressOf(owner)}`) problems.push(`GET ${k} on ${other}: "${reply}" (expected MOVED ${slot} ${ctx.addressOf(owner)})`);
    }
  }
  problems.push(...(await readSeedKeysFrom(ctx, nodes)));
  observe(ctx, 'routing', problems.length === 0, problems.length ? problems.join('; ') : `key1/key2/key3 in slots 9189/4998/935; a non-owner answers MOVED to the owner; every key read back through a Cluster client from each of ${nodes.length} nodes`);
}

export const clusterSeedCreate: Scenario = {
  name: 'cluster-seed-create',
  description:
    "The seeds' cluster creation checks: every node reports cluster_state:ok, 16384 slots assigned and ok, all nodes known and size = masters; every replica sits on another host than its master (anti-affinity); key1/key2/key3 hash to slots 9189/4998/935, a non-owner answers MOVED, and each key reads back through a Cluster client started from every node.",
  topologyKinds: ['cluster'],
  async run(ctx) {
    await waitClusterOk(ctx, ctx.topology.redis.map((r) => r.name), 60_000);
    // Replicas show up in INFO a moment after cluster_state turns ok.
    await waitFor('every replica linked', () => [...ctx.observer.current].filter(([, s]) => s.role === 'replica' && s.linkUp === true).length === ctx.topology.cluster!.nodes.length - masterNames(ctx).length, 20_000).catch(() => undefined);
    await observeCreate(ctx);
    await observeRouting(ctx);
  },
  check(_events, facts): CheckOutput {
    return { checks: observationChecks(facts, ['cluster-info', 'anti-affinity', 'routing']) };
  },
};

const HOST_LOSS =
  "writes the failed host's master acknowledged before its replica took over were not replicated; Redis Cluster documents this window";

export const clusterSeedHost: Scenario = {
  name: 'cluster-seed-host',
  description:
    "The seed's host failure, by hand: write key1/key2/key3, stop every instance on the first node's host; its master's replica on another host is promoted, the survivors' CLUSTER NODES show the stopped instances as fail, the promoted node serves the lost master's keys directly and cluster_state is ok again; a host holding two masters afterwards is flagged (seed 004's warning). Then start the host: the old master rejoins as a replica of the promoted one, the other instances as replicas of their masters, and every key reads back from every node.",
  topologyKinds: ['cluster'],
  requires: ['replicas'],
  unsupported: (t) => ((t.cluster?.replicasPerMaster ?? 0) < 1 ? 'needs replicas per master' : t.hosts.length < 2 ? 'needs at least two hosts' : undefined),
  async run(ctx) {
    const t = ctx.topology;
    const all = t.redis.map((r) => r.name);
    await waitClusterOk(ctx, all, 60_000);
    const addresses: Record<string, string> = {};
    for (const r of t.redis) addresses[r.name] = ctx.addressOf(r.name);
    ctx.note('addresses', addresses);
    await writeSeedKeys(ctx);
    const victim = t.cluster!.nodes[0]!;
    const host = t.redis.find((r) => r.name === victim)!.host;
    const onHost = t.redis.filter((r) => r.host === host).map((r) => r.name);
    const survivors = all.filter((n) => !onHost.includes(n));
    const replica = [...ctx.observer.current].find(([, s]) => s.role === 'replica' && s.master === addresses[victim])?.[0];
    if (!replica) throw new ExpectationNotMet('replication', `no replica follows ${victim}: check cluster-replicas and that the replicas reach their master`);
    if (onHost.includes(replica)) throw new ExpectationNotMet('anti-affinity', `${victim}'s replica ${replica} is on the same host ${host}; losing the host loses the shard: spread replicas over hosts`);
    // The other instances on the host and the masters they follow, to check they come back where they were.
    const followed: Record<string, string> = {};
    for (const n of onHost) {
      const s = ctx.observer.current.get(n);
      if (n !== victim && s?.role === 'replica' && s.master) followed[n] = Object.keys(addresses).find((k) => addresses[k] === s.master) ?? s.master;
    }
    ctx.note('oldMaster', victim);
    ctx.note('replica', replica);
    ctx.note('victimSlots', String(ctx.observer.current.get(victim)?.detail['slots'] ?? ''));
    ctx.note('survivors', survivors);
    const wl = await ctx.startWorkload({ kind: 'set', path: { kind: 'cluster' }, processes: 8, rate: SCENARIO_RATE, setKeys: 32 });
    markWorkloadStart(ctx, wl.via);
    await delay(scaled(1000));
    ctx.log(`stop host ${host} (${onHost.join(', ')})`);
    const faultAt = ctx.history.now();
    await ctx.nemesis.apply({ at: 0, fault: 'stop-host', targets: [host], duration: 0 });
    ctx.history.mark('fault', `stop-host ${host}`);
    ctx.note('faultAt', faultAt);
    await expectWithin({ check: 'promotion', failure: `${replica} was not promoted to master`, since: `stopping host ${host}`, hint: promotionHint(t) }, () => ctx.observer.current.get(replica)?.role === 'master', clusterWait(t));
    await waitClusterOk(ctx, survivors, clusterWait(t), `stopping host ${host}`, 'cluster-state-survivors');
    ctx.note('coverageAt', ctx.history.now());

    const nodesText = await waitFor(`${survivors[0]}'s CLUSTER NODES to mark ${onHost.join(', ')} as fail`, async () => {
      const text = await nodeCommand(ctx, survivors[0]!, 'CLUSTER', 'NODES');
      const lines = parseClusterNodes(text);
      return onHost.every((n) => lines.find((l) => l.addr === addresses[n])?.flags.includes('fail')) ? text : undefined;
    }, clusterWait(t), 200).catch(() => undefined);
    const failLines = nodesText ? parseClusterNodes(nodesText).filter((l) => l.flags.includes('fail')).map((l) => `${l.addr} ${l.flags.join(',')}`) : [];
    observe(ctx, 'nodes-marked-fail', nodesText !== undefined, nodesText ? `${survivors[0]} CLUSTER NODES: ${failLines.join('; ')}` : `${onHost.join(', ')} were not all flagged fail`);

    const ranges = String(ctx.facts['victimSlots']);
    const mine = Object.entries(ROUTING_KEYS).filter(([, slot]) => inSlotRanges(ranges, slot));
    const direct: string[] = [];
    for (const [k] of mine) {
      const v = await nodeCommand(ctx, replica, 'GET', k).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
      direct.push(`${k}=${v}`);
    }
    const directOk = direct.every((d, i) => d === `${mine[i]![0]}=test${Object.keys(ROUTING_KEYS).indexOf(mine[i]![0]) + 1}`);
    observe(ctx, 'keys-on-promoted', directOk, `GET on ${replica} (${addresses[replica]}) for the keys of slots ${ranges}: ${direct.join(', ') || 'no seed key in those slots'}`);
    const reads = await readSeedKeysFrom(ctx, survivors);
    observe(ctx, 'keys-after-failover', reads.length === 0, reads.length ? reads.join('; ') : `key1/key2/key3 read back from each of ${survivors.length} surviving nodes`);

    const crowded = hostsWithSeveralMasters(t, ctx.observer.current);
    ctx.note('crowdedHosts', crowded);
    ctx.history.mark('anti-affinity', JSON.stringify(crowded));

    await delay(scaled(500));
    // Marked before the restart: the returning node can be seen rejoined before the restart call returns.
    ctx.note('healAt', ctx.history.mark('heal', `start-host ${host}`).time);
    await ctx.nemesis.healAll();
    await expectWithin({ check: 'seed-host-recovered', failure: `${victim} did not rejoin as a replica of ${replica} with its link up`, since: `starting host ${host} again`, hint: 'check that the returning node reaches the others\' bus ports and keeps its nodes.conf' }, () => {
      const s = ctx.observer.current.get(victim);
      return s?.role === 'replica' && s.master === addresses[replica] && s.linkUp === true;
    }, clusterWait(t));
    const back: string[] = [];
    for (const [n, m] of Object.entries(followed)) {
      const ok = await waitFor(`${n} to rejoin as a replica of ${m}`, () => {
        const s = ctx.observer.current.get(n);
        return s?.role === 'replica' && s.master === addresses[m] && s.linkUp === true;
      }, clusterWait(t)).then(() => true, () => false);
      back.push(`${n} replica of ${m}: ${ok ? 'yes' : 'no'}`);
    }
    await waitClusterOk(ctx, all, clusterWait(t), `starting host ${host} again`);
    const rejoined = back.every((b) => b.endsWith('yes'));
    observe(ctx, 'host-recovered', rejoined, `${victim} replica of ${replica} with link up${back.length ? `; ${back.join('; ')}` : ''}`);
    const readsAfter = await readSeedKeysFrom(ctx, all);
    observe(ctx, 'keys-after-recovery', readsAfter.length === 0, readsAfter.length ? readsAfter.join('; ') : `key1/key2/key3 read back from each of ${all.length} nodes`);
    await delay(scaled(500));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, facts, t): CheckOutput {
    const ranges = facts['victimSlots'] as string | undefined;
    const filter = ranges ? (key: string): boolean => inSlotRanges(ranges, keySlot(key)) : undefined;
    const out = standardChecks(events, facts, t, { maxLost: Number.POSITIVE_INFINITY, ...(filter ? { keyFilter: filter } : {}) });
    const w = checkShardedWrites(events, out, ranges, 100, HOST_LOSS);
    out.checks = out.checks.map((c) => (c.name === 'acknowledged-writes' ? w : c));
    const replica = facts['replica'] as string | undefined;
    const survivors = (facts['survivors'] as string[] | undefined) ?? [];
    const at = facts['coverageAt'] as number | undefined;
    out.checks.push(asCheck(checkPromotion(events, { oldMaster: String(facts.oldMaster), faultAt: facts.faultAt ?? 0, withinMs: t.budgets.failoverMs, ...(replica ? { candidates: [replica] } : {}) })));
    out.checks.push({ ...checkClusterState(events, { expect: 'ok', nodes: survivors, ...(at !== undefined ? { at } : {}) }), name: 'cluster-state-survivors' });
    out.checks.push(checkSlotCoverage(events, { expectFull: true }), checkClusterState(events, { expect: 'ok', nodes: t.redis.map((r) => r.name) }));
    const addr = replica ? (facts['addresses'] as Record<string, string> | undefined)?.[replica] : undefined;
    if (replica && addr && facts.healAt !== undefined) out.checks.push(asCheck(checkFailback(events, { oldMaster: String(facts.oldMaster), newMaster: replica, newMasterAddress: addr, after: facts.healAt })));
    else out.checks.push({ name: 'failback', verdict: 'fail', detail: 'the scenario did not get as far as bringing the host back' });
    out.checks.push(...observationChecks(facts, ['nodes-marked-fail', 'keys-on-promoted', 'keys-after-failover', 'host-recovered', 'keys-after-recovery']));
    const crowded = (facts['crowdedHosts'] as Record<string, string[]> | undefined) ?? {};
    const flags = Object.entries(crowded).map(([h, ms]) => `${h} holds ${ms.length} masters (${ms.join(', ')}) after the failover: losing ${h} now takes ${ms.length} shards' masters at once; move one back with CLUSTER FAILOVER on its replica`);
    const aa: CheckResult = {
      name: 'anti-affinity-after-failover',
      verdict: facts['crowdedHosts'] === undefined ? 'fail' : 'pass',
      detail: facts['crowdedHosts'] === undefined ? 'the run never got as far as the failover' : flags.length ? `flagged: ${flags.join('; ')}` : 'every host holds at most one master after the failover',
      data: { crowdedHosts: crowded },
    };
    out.checks.push(aa);
    if (flags.length) out.warnings = [...(out.warnings ?? []), ...flags];
    return out;
  },
};

/** A key whose slot lies inside (or, with inside=false, outside) the given ranges. */
function keyFor(ranges: string, inside: boolean): string {
  for (let i = 0; ; i++) if (inSlotRanges(ranges, keySlot(`probe-${i}`)) === inside) return `probe-${i}`;
}


/**
 * The engine's cluster-shard-loss, plus what a person sees with redis-cli while the shard is gone: a SET sent
 * straight to a surviving master, for a key of the lost shard and for a key it owns itself.
 */
export const clusterSeedShardLoss: Scenario = {
  name: 'cluster-seed-shard-loss',
  description:
    'A master and its replica both down: with cluster-require-full-coverage yes every write to any surviving master is refused with CLUSTERDOWN; with no, the other slots keep working while the lost shard\'s keys are refused (CLUSTERDOWN, or MOVED to its dead master). Both copies restart and full coverage returns.',
  topologyKinds: ['cluster'],
  requires: ['replicas'],
  unsupported: (t) => clusterSeedHost.unsupported!(t),
  async run(ctx) {
    let done = false;
    const expectState = ctx.topology.cluster?.requireFullCoverage === false ? 'ok' : 'fail';
    const prober = (async () => {
      while (!done) {
        await delay(scaled(200));
        const victims = ctx.facts['victims'] as string[] | undefined;
        const ranges = ctx.facts['victimSlots'] as string | undefined;
        if (!victims || !ranges || ctx.facts.healAt !== undefined) continue;
        const survivors = ctx.topology.redis.map((r) => r.name).filter((n) => !victims.includes(n));
        const agreed = survivors.every((n) => {
          const s = ctx.observer.current.get(n);
          return s?.detail['cluster_state'] === expectState && Number(s.detail['failed_nodes'] ?? 0) >= 2;
        });
        if (!agreed) continue;
        const other = [...ctx.observer.current].find(([n, s]) => survivors.includes(n) && s.role === 'master' && String(s.detail['slots'] ?? '') !== '')?.[0];
        if (!other) continue;
        const otherKey = keyFor(String(ctx.observer.current.get(other)!.detail['slots']), true);
        const lostKey = keyFor(ranges, true);
        const reply = (k: string): Promise<string> => nodeCommand(ctx, other, 'SET', k, 'v').catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
        const [a, b] = [await reply(lostKey), await reply(otherKey)];
        const dead = victims.map((v) => ctx.addressOf(v));
        const lostRefused = /^CLUSTERDOWN\b/.test(a) || dead.some((d) => a.startsWith('MOVED ') && a.endsWith(` ${d}`));
        if (ctx.facts.healAt === undefined) ctx.noteItem('shardLossProbes', { at: ctx.history.now(), lostShardKey: `${other} SET ${lostKey}: ${a}`, otherKey: `${other} SET ${otherKey}: ${b}`, lostRefused });
      }
    })();
    try {
      await clusterShardLoss.run(ctx);
    } finally {
      done = true;
      await prober;
    }
  },
  check(events, facts, t): CheckOutput {
    const full = t.cluster?.requireFullCoverage !== false;
    const probes = facts.shardLossProbes ?? [];
    const bad = probes.find((p) => !p.lostRefused || !(full ? /: CLUSTERDOWN\b/.test(p.otherKey) : /: OK$/.test(p.otherKey)));
    const shown = bad ?? probes[probes.length - 1];
    const probe: CheckResult = {
      name: `writes-with-full-coverage-${full ? 'yes' : 'no'}`,
      verdict: probes.length > 0 && !bad ? 'pass' : 'fail',
      detail: !shown
        ? 'no probe ran while the survivors agreed the shard was lost'
        : `${probes.length} probes while the shard was lost; expected ${full ? 'CLUSTERDOWN for every key' : 'the lost shard refused (CLUSTERDOWN, or MOVED to its dead master) and OK elsewhere'}; ${bad ? 'first unexpected' : 'last'}: ${shown.lostShardKey} | ${shown.otherKey}`,
      data: { probes: probes.length },
    };
    const base = clusterShardLoss.check(events, facts, t);
    return { ...base, checks: [...base.checks, probe] };
  },
};
