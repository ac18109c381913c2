/**
 * Client scenarios (issue 15): the client adapter under test (--client) writes through the topology's own
 * discovery (Sentinel-aware or Cluster-aware) while the master fails in the ways client code paths differ on:
 * a closed socket (kill), a silent master (SIGSTOP: only a timeout notices), a graceful manual failover, two in a
 * row, and pub/sub across a failover. The checks judge what the client saw (checkers/client.ts) beside the
 * server-side switch; a client that never recovers is a failed check, an adapter that breaks is a harness error.
 */
import type { AdapterMode } from '../adapters/protocol.js';
import type { ClientWorkload } from '../adapters/workload.js';
import { checkClient, checkDemotion, type ClientMeasures } from '../checkers/client.js';
import { asCheck, checkPromotion } from '../checkers/index.js';
import { dataPassword } from '../clients/index.js';
import { delay, scaled, waitFor } from '../support/time.js';
import type { CheckResult, ClientResult } from '../results/types.js';
import type { Topology } from '../topology/model.js';
import { hotSlotTag, inSlotRanges, keySlot, reshardAwayAndBack } from './cluster.js';
import { checkClientThroughReshard, checkReshardRuns } from '../checkers/reshard.js';
import { adminCommand, currentMaster, expectWithin, initialMaster, promotionHint, markWorkloadEnd, markWorkloadStart, standardChecks, waitPromotion, waitReplicaOf, waitReplicationSettled } from './common.js';
import type { CheckOutput, Scenario, ScenarioContext, ScenarioFacts } from './types.js';

type ClientFault = 'kill' | 'pause' | 'manual' | 'partition' | 'demote';

/** A command of a client with a 1 s command timeout settles well within this, retries included. */
export const MAX_STUCK_MS = 5000;

export const LOSS = 'asynchronous replication: writes the failed master acknowledged but had not sent to its replica are lost, as Redis documents';

function serverWait(t: Topology): number {
  return Math.max((t.cluster?.nodeTimeoutMs ?? 0) * 3, t.budgets.failoverMs * 2, 20_000);
}

/** How long the client gets to acknowledge a write after the server side has switched. */
export function clientWait(t: Topology): number {
  return Math.max(t.budgets.failoverMs * 2, 20_000);
}

/** Waits for `cond`; false at the deadline (the client's failure, judged by the checks); throws if the adapter broke. */
export async function untilClient(ctx: ScenarioContext, c: ClientWorkload, what: string, cond: () => boolean, timeoutMs: number): Promise<boolean> {
  try {
    await Promise.race([waitFor(what, cond, timeoutMs), c.adapter.failed()]);
    return true;
  } catch (e) {
    if (c.adapter.failure) throw c.adapter.failure;
    ctx.log(`${what}: ${(e as Error).message}`);
    return false;
  }
}

export async function waitClusterOk(ctx: ScenarioContext, except: string[] = []): Promise<void> {
  const names = ctx.topology.redis.map((r) => r.name).filter((n) => !except.includes(n));
  // A cluster that never serves every slot again is the system failing: a failed check, not a harness error.
  await expectWithin(
    { check: 'cluster-state', failure: `cluster_state:ok with all 16384 slots never reached on ${names.join(', ')}`, hint: promotionHint(ctx.topology) },
    () => names.every((n) => {
      const s = ctx.observer.current.get(n);
      return s !== undefined && s.detail['cluster_state'] === 'ok' && s.detail['cluster_slots_ok'] === 16384;
    }),
    serverWait(ctx.topology) * 2,
  );
}

/** The shard that fails: the current master (Sentinel), or a seeded pick of a cluster master with a replica. */
function pickVictim(ctx: ScenarioContext, previous?: { victim: string; replica?: string }): { victim: string; replica?: string } {
  if (ctx.topology.kind !== 'cluster') {
    const m = currentMaster(ctx);
    if (!m) throw new Error('no single writable master to fail');
    return { victim: m };
  }
  // The second round fails the promoted replica back to its old master.
  if (previous?.replica) return { victim: previous.replica, replica: previous.victim };
  const options = [...ctx.observer.current]
    .filter(([, s]) => s.role === 'master')
    .map(([n]) => ({ victim: n, replica: [...ctx.observer.current].find(([, s]) => s.role === 'replica' && s.master === ctx.addressOf(n))?.[0] }))
    .filter((x): x is { victim: string; replica: string } => x.replica !== undefined)
    .sort((a, b) => a.victim.localeCompare(b.victim));
  if (options.length === 0) throw new Error('no cluster master has a replica to promote');
  return ctx.rng.pick(options);
}


/** Applies the fault; returns when it took effect, and the undo (SIGCONT for a pause). */
async function applyFault(ctx: ScenarioContext, plan: Plan, victim: string, replica: string | undefined): Promise<{ at: number; undo?: () => Promise<void> }> {
  const fault = plan.fault;
  if (fault === 'kill' || fault === 'pause') {
    // The first Sentinel is the one a client asks first: with it gone, the client must move on to the next.
    const targets = plan.withFirstSentinel ? [victim, ctx.topology.sentinels[0]!.name] : [victim];
    const undo = await ctx.nemesis.apply({ at: 0, fault, targets, duration: 0 });
    const at = ctx.history.now();
    ctx.history.mark('fault', `${fault} ${targets.join(' + ')}`);
    return fault === 'pause' ? { at, undo } : { at };
  }
  if (fault === 'partition') {
    // The host is cut from the other hosts and from the client's side too: nothing closes, packets just stop.
    const host = ctx.topology.redis.find((r) => r.name === victim)!.host;
    await ctx.dep.partition({ kind: 'isolate', host, clients: true });
    const at = ctx.history.now();
    ctx.history.fault({ name: 'partition-isolate', targets: [host], phase: 'start', detail: 'clients cut too' });
    ctx.history.mark('fault', `isolate ${host} (clients cut too)`);
    const undo = async (): Promise<void> => {
      await ctx.dep.heal();
      ctx.history.fault({ name: 'partition-isolate', targets: [host], phase: 'end' });
    };
    return { at, undo };
  }
  if (fault === 'demote') {
    // Redis's own coordinated switchover (6.2+): writes pause, the replica catches up and is promoted, and the old
    // master turns replica with its clients still connected, so they meet READONLY until the proxy drops them.
    const at = ctx.history.now();
    ctx.history.fault({ name: 'failover-command', targets: [victim], phase: 'start', detail: `FAILOVER on ${victim}` });
    ctx.history.mark('fault', `FAILOVER on ${victim} (demoted without a disconnect)`);
    await adminCommand(ctx, victim, ['FAILOVER', 'TIMEOUT', String(scaled(5000))], dataPassword(ctx.dep));
    return { at };
  }
  if (ctx.topology.kind === 'cluster') {
    // Graceful: the replica asks for the master's offset and takes over; the old master stays up and answers MOVED.
    const at = ctx.history.now();
    ctx.history.fault({ name: 'cluster-failover', targets: [victim], phase: 'start', detail: `CLUSTER FAILOVER on ${replica}` });
    ctx.history.mark('fault', `CLUSTER FAILOVER on ${replica}`);
    await adminCommand(ctx, replica!, ['CLUSTER', 'FAILOVER'], dataPassword(ctx.dep));
    return { at };
  }
  const s = ctx.topology.sentinels[0]!;
  const at = ctx.history.now();
  ctx.history.fault({ name: 'sentinel-failover', targets: [victim], phase: 'start', detail: `SENTINEL FAILOVER ${s.masterName} on ${s.name}` });
  ctx.history.mark('fault', `SENTINEL FAILOVER ${s.masterName}`);
  await adminCommand(ctx, s.name, ['SENTINEL', 'FAILOVER', s.masterName]);
  return { at };
}

async function waitServerSwitch(ctx: ScenarioContext, victim: string, replica: string | undefined): Promise<string> {
  if (ctx.topology.kind !== 'cluster') return waitPromotion(ctx, victim, serverWait(ctx.topology));
  // The cluster never promoting the replica (a manual failover it aborted, say) is the system failing, not the harness.
  await expectWithin(
    { check: 'promotion', failure: `${replica} was not promoted to master`, since: `the fault on ${victim}`, hint: promotionHint(ctx.topology) },
    () => ctx.observer.current.get(replica!)?.role === 'master',
    serverWait(ctx.topology),
  );
  return replica!;
}

interface Plan {
  fault: ClientFault;
  rounds: 1 | 2;
  pubsub?: boolean;
  /** Kill the first Sentinel with the master (a host holding both fails). */
  withFirstSentinel?: boolean;
  /** How the client connects, when not through the topology's own discovery (demote: through HAProxy). */
  mode?: AdapterMode;
}

function addressesOf(ctx: ScenarioContext, name: string): string[] {
  const e = ctx.endpoint(name);
  return [`${e.host}:${e.port}`, ctx.addressOf(name)];
}

async function runClientScenario(ctx: ScenarioContext, plan: Plan): Promise<void> {
  const t = ctx.topology;
  if (t.kind === 'cluster') await waitClusterOk(ctx);
  else await waitReplicationSettled(ctx, initialMaster(t));
  if (plan.fault === 'demote') {
    // Sentinel takes a master that claims to be a replica for down after down-after + 20 s and fails it over itself;
    // this scenario is about the demotion alone, so Sentinel is told to wait longer than the run.
    for (const sen of t.sentinels) await adminCommand(ctx, sen.name, ['SENTINEL', 'SET', sen.masterName, 'down-after-milliseconds', String(DEMOTE_SENTINEL_DOWN_AFTER_MS)]);
  }
  const c = await ctx.startClient({ ...(plan.pubsub ? { pubsub: true } : {}), ...(plan.mode ? { mode: plan.mode } : {}) });
  ctx.note('client', { name: ctx.clientAdapter.name, library: c.client });
  markWorkloadStart(ctx, c.via);
  ctx.log(`client ${c.client} (mode ${c.mode}) started`);
  const wrote = await untilClient(ctx, c, `a write acknowledged through ${c.via} before the fault`, () => c.lastOkAt >= 0, 20_000);
  if (!wrote) ctx.note('clientNoWriteBeforeFault', true);
  let previous: { victim: string; replica?: string } | undefined;
  for (let round = 1; wrote && round <= plan.rounds; round++) {
    await delay(scaled(1000));
    const pick = pickVictim(ctx, previous);
    const slots = t.kind === 'cluster' ? String(ctx.observer.current.get(pick.victim)?.detail['slots'] ?? '') : '';
    ctx.log(`round ${round}: ${plan.fault} ${pick.victim}${pick.replica ? ` (replica ${pick.replica})` : ''}`);
    const fault = await applyFault(ctx, plan, pick.victim, pick.replica);
    ctx.noteItem('clientRounds', { round, victim: pick.victim, faultAt: fault.at, victimAddrs: addressesOf(ctx, pick.victim), ...(slots ? { victimSlots: slots } : {}) });
    if (round === 1) {
      ctx.note('faultAt', fault.at);
      ctx.note('oldMaster', pick.victim);
    }
    const promoted = await waitServerSwitch(ctx, pick.victim, pick.replica);
    // A graceful switch leaves the old master acknowledging writes until it turns replica: those prove nothing.
    const switchSeenAt = ctx.history.now();
    ctx.log(`round ${round}: ${promoted} promoted; waiting for the client`);
    const filter = slots ? (k: string) => inSlotRanges(slots, keySlot(k)) : undefined;
    const recovered = await untilClient(ctx, c, `a write through ${c.via} invoked after the switch acknowledged`, () => c.lastOkInvokedWhere(filter) >= switchSeenAt, clientWait(t));
    if (fault.undo) {
      ctx.note('healAt', ctx.history.mark('heal', `${plan.fault === 'partition' ? 'heal the partition of' : 'resume'} ${pick.victim}`).time);
      await fault.undo();
    }
    if (!recovered) break;
    ctx.log(`round ${round}: client recovered`);
    previous = { victim: pick.victim, ...(pick.replica ? { replica: pick.replica } : {}) };
    if (round < plan.rounds) {
      // The next round fails back: the old master must first be a replica of the new one with its link up, or a
      // manual failover finds nothing to take over from (CLUSTER FAILOVER times out on a replica still syncing).
      if (t.kind === 'cluster') {
        await waitClusterOk(ctx);
        if (pick.replica) await waitReplicaOf(ctx, pick.victim, pick.replica, serverWait(t), 'cluster-state');
      }
      else await waitReplicationSettled(ctx, promoted, serverWait(t));
    }
  }
  // A subscriber gets a few seconds after the failover to resubscribe before it is judged silent.
  await delay(scaled(plan.pubsub ? 3000 : 1000));
  await c.stop();
  markWorkloadEnd(ctx);
  await c.finalRead();
}

function clientChecks(events: Parameters<Scenario['check']>[0], facts: ScenarioFacts, t: Topology, plan: Plan): CheckOutput {
  const noted = facts.clientRounds ?? [];
  const firstSlots = noted[0]?.victimSlots;
  const out = standardChecks(events, facts, t, {
    noFailover: true,
    maxLost: 100,
    lossRationale: LOSS,
    // A paused master cannot be observed (its last role, master, stands) until it is resumed, and is then writable
    // until Sentinel converts it: one window, bounded by the pause plus Sentinel's conversion time.
    maxSplitBrainMs: Number.POSITIVE_INFINITY,
    maxSplitBrainWindowMs: 15_000 + ((plan.fault === 'pause' || plan.fault === 'partition') && facts.healAt !== undefined && facts.faultAt !== undefined ? facts.healAt - facts.faultAt : 0),
    // A cluster's unavailability is that of the failed shard's keys.
    ...(firstSlots ? { keyFilter: (k: string) => inSlotRanges(firstSlots, keySlot(k)) } : {}),
  });
  const via = facts.via ?? 'client';
  const rounds: ClientMeasures[] = [];
  const extra: CheckResult[] = [];
  if (facts.clientNoWriteBeforeFault) {
    extra.push({ name: 'client-failover', verdict: 'fail', detail: `${via} never acknowledged a write before the fault, so the scenario could not start` });
  }
  for (let round = 1; round <= plan.rounds && !facts.clientNoWriteBeforeFault; round++) {
    const noteOf = noted.find((n) => n.round === round);
    const suffix = round === 1 ? '' : `-${round}`;
    if (!noteOf) {
      extra.push({ name: `client-failover${suffix}`, verdict: 'fail', detail: `round ${round} never started: the client had not recovered from round ${round - 1}` });
      continue;
    }
    const { faultAt, victim, victimSlots: slots } = noteOf;
    const promo = asCheck(checkPromotion(events, { oldMaster: victim, faultAt, withinMs: t.budgets.failoverMs }));
    extra.push({ ...promo, name: `promotion${suffix}` });
    const r = checkClient(events, {
      via,
      faultAt,
      oldMaster: victim,
      oldMasterAddrs: noteOf.victimAddrs,
      ...(slots ? { keyFilter: (k: string) => inSlotRanges(slots, keySlot(k)) } : {}),
      failoverBudgetMs: t.budgets.failoverMs,
      maxStuckMs: MAX_STUCK_MS,
      lost: new Set(out.lostAll ?? []),
      ...(plan.pubsub && round === 1 ? { pubsub: true } : {}),
      round: suffix,
    });
    extra.push(...r.checks);
    if (plan.fault === 'demote') extra.push(checkDemotion(events, { via, oldMaster: victim, faultAt }));
    rounds.push(r.measures);
  }
  out.checks.push(...extra);
  out.client = clientResult(facts, via, rounds.map(({ via: _v, ...m }) => m));
  return out;
}

/** What results.json and the client matrix show of the adapter: its name (from the facts, else the via label), library and rounds. */
export function clientResult(facts: ScenarioFacts, via: string, rounds: ClientResult['rounds']): ClientResult {
  return { name: facts.client?.name ?? via.replace(/^client:/, ''), ...(facts.client ? { library: facts.client.library } : {}), rounds };
}

/** Sentinel's down-after while client-demote runs: longer than the run, so Sentinel does not fail the old master over. */
const DEMOTE_SENTINEL_DOWN_AFTER_MS = 600_000;

function clientScenario(name: string, description: string, plan: Plan): Scenario {
  return {
    name,
    description,
    topologyKinds: plan.withFirstSentinel || plan.fault === 'demote' ? ['sentinel'] : ['sentinel', 'cluster'],
    ...(plan.fault === 'partition' ? { requires: ['partition' as const] } : {}),
    unsupported: (t) => {
      if (t.kind === 'sentinel' && t.redis.length < 2) return 'needs at least one replica to promote';
      if (plan.mode === 'haproxy' && !t.haproxy) return 'needs HAProxy: the client connects through it';
      // The Sentinels left must still elect a leader: a majority of all of them.
      if (plan.withFirstSentinel && t.sentinels.length - 1 < Math.floor(t.sentinels.length / 2) + 1) return `needs at least three Sentinels, so a majority is left when one fails with the master (has ${t.sentinels.length})`;
      return undefined;
    },
    run: (ctx) => runClientScenario(ctx, plan),
    check: (events, facts, t) => clientChecks(events, facts, t, plan),
  };
}

/** The client scenarios: name, what it does and demands (shown by `scenarios`), and the plan it runs. */
const CLIENT_SCENARIO_PLANS: [name: string, description: string, plan: Plan][] = [
  ['client-kill',
    'Kill -9 the master under writes through the client adapter (--client): the socket closes, the client must find the promoted replica. Client-side failover time (fault -> first acknowledged write through the client) within the failover budget, every command settled, acknowledged writes kept.',
    { fault: 'kill', rounds: 1 }],
  ['client-pause',
    'SIGSTOP the master under writes through the client adapter: no socket closes, so only a command timeout can tell the client; it must reach the promoted replica within the budget, and no command may wait forever. The master is resumed after the client recovered.',
    { fault: 'pause', rounds: 1 }],
  ['client-partition',
    "Isolate the master's host from the other hosts and from the client (nothing closes; packets stop) under writes through the client adapter: only a command timeout tells the client; it must reach the promoted replica within the budget and settle every command. The partition heals after the client recovered.",
    { fault: 'partition', rounds: 1 }],
  ['client-manual-failover',
    'A graceful manual failover (SENTINEL FAILOVER; CLUSTER FAILOVER on the replica, the old master staying up and answering MOVED) under writes through the client adapter: the client follows within the budget and every command settles.',
    { fault: 'manual', rounds: 1 }],
  ['client-double-failover',
    'Two manual failovers in a row (the second fails back to the first master) under writes through the client adapter: the client must follow both, not only the first.',
    { fault: 'manual', rounds: 2 }],
  ['client-sentinel-and-master-down',
    'Kill -9 the master and the first Sentinel together (a host holding both fails) under writes through the client adapter: the client must ask the next Sentinel, find the promoted replica within the budget, and settle every command.',
    { fault: 'kill', rounds: 1, withFirstSentinel: true }],
  ['client-demote',
    "The master demoted without a disconnect: Redis's FAILOVER command (a coordinated switchover, no Sentinel involved) under writes through HAProxy. The old master turns replica with the client's connection open, so the client meets READONLY until HAProxy's role check marks it down and shuts its sessions; the client must surface READONLY as errors (not hang), reconnect and reach the new master within the budget, losing nothing.",
    { fault: 'demote', rounds: 1, mode: 'haproxy' }],
  ['client-pubsub',
    'Kill -9 the master while the client adapter subscribes to a channel and publishes to it every 100 ms: after the client fails over, its subscriber must receive messages published after the failover (it must resubscribe, not go silent).',
    { fault: 'kill', rounds: 1, pubsub: true }],
];



/**
 * client-live-reshard: the adapter writes (all its keys in one hot slot) while redis-cli --cluster reshard moves that
 * slot away and back, so the client meets ASK while it migrates and MOVED after; it must keep writing, settle every
 * command and lose nothing.
 */
export const clientLiveReshard: Scenario = {
  name: 'client-live-reshard',
  description: 'While the client adapter writes into one hot slot, redis-cli --cluster reshard moves it (with 200 slots) to another master and back: the client must follow ASK and MOVED, keep acknowledging writes during each run, settle every command within 5 s and lose nothing; redis-cli --cluster check is clean after.',
  topologyKinds: ['cluster'],
  async run(ctx) {
    await waitClusterOk(ctx);
    const { hotSlot, tag } = hotSlotTag();
    ctx.note('hotSlot', hotSlot);
    const c = await ctx.startClient({ keyPrefix: `client${tag}`, setKeys: 8 });
    ctx.note('client', { name: ctx.clientAdapter.name, library: c.client });
    markWorkloadStart(ctx, c.via);
    if (!(await untilClient(ctx, c, `a write acknowledged through ${c.via} before the reshard`, () => c.lastOkAt >= 0, 20_000))) {
      ctx.note('clientNoWriteBeforeFault', true);
    } else {
      await delay(scaled(1000));
      await reshardAwayAndBack(ctx, hotSlot);
    }
    await delay(scaled(1000));
    await c.stop();
    markWorkloadEnd(ctx);
    await c.finalRead();
  },
  check(events, facts, t): CheckOutput {
    const out = standardChecks(events, facts, t, { noFailover: true, noFault: true, maxLost: 0 });
    const via = facts.via ?? 'client';
    out.checks.push(checkReshardRuns(facts, 2));
    const r = checkClientThroughReshard(events, facts, via, MAX_STUCK_MS);
    out.checks.push(r.check);
    out.client = clientResult(facts, via, [r.round]);
    return out;
  },
};

export const CLIENT_SCENARIOS = [...CLIENT_SCENARIO_PLANS.map(([name, description, plan]) => clientScenario(name, description, plan)), clientLiveReshard];
