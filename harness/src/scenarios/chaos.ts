/** random-chaos: a seeded mix of faults under a set workload; the same seed replays the same faults. */
import { asCheck, checkSingleMaster } from '../checkers/index.js';
import type { HistoryEvent } from '../history/events.js';
import type { Topology } from '../topology/model.js';
import { delay, scaled } from '../support/time.js';
import { generateSchedule, MASTER_TARGET } from '../nemesis/schedule.js';
import type { FaultKind, ScheduledFault } from '../nemesis/faults.js';
import { currentMaster, expectWithin, initialMaster, promotionHint, markWorkloadEnd, markWorkloadStart, SCENARIO_RATE, standardChecks, waitReplicationSettled, writePath } from './common.js';
import type { CheckOutput, Scenario, ScenarioFacts } from './types.js';
import { attributeLosses } from '../checkers/loss-attribution.js';

export { attributeLosses };

const CHAOS_FAULTS: FaultKind[] = ['kill', 'terminate', 'pause', 'restart', 'partition-isolate', 'partition-split', 'toxic-latency', 'toxic-reset_peer'];


/** True when no data instance persists (no AOF, no RDB save points): a restarted master comes back empty. */
export function persistenceOff(files: { kind: string; content: string }[]): boolean {
  const confs = files.filter((f) => f.kind === 'redis.conf');
  if (confs.length === 0) return false;
  return confs.every((f) => !/^appendonly\s+yes\b/m.test(f.content) && /^save\s+(""|'')\s*$/m.test(f.content));
}

/** How long the deployment takes to notice a dead master (Sentinel down-after, or cluster node-timeout). */
function detectionMs(t: Topology): number {
  if (t.kind === 'cluster') return t.cluster?.nodeTimeoutMs ?? 15_000;
  return Math.max(0, ...t.sentinels.map((s) => s.downAfterMs));
}

/**
 * Losses Redis documents as inherent: 200 for the unreplicated tail of kills, plus, per partition, what an
 * isolated master can acknowledge before failure detection (workload rate x (detection + 2 s)).
 */
export function chaosLossBudget(schedule: ScheduledFault[], t: Topology): number {
  const partitions = schedule.filter((f) => f.fault.startsWith('partition-')).length;
  return 200 + partitions * Math.ceil((SCENARIO_RATE * (detectionMs(t) + 2000)) / 1000);
}

export const randomChaos: Scenario = {
  name: 'random-chaos',
  description:
    'A seeded schedule of mixed faults (kill, SIGTERM, pause, restart, partitions where possible, Toxiproxy toxics where links exist; half the instance faults hit whatever is master then) for 20-30 s under a set workload; afterwards everything is healed, writes must flow again and acknowledged writes are checked (losses from async replication are reported, up to 200 allowed, each attributed to its fault). Without persistence, restarts are left out and stopped instances stay down past failure detection.',
  topologyKinds: ['sentinel', 'cluster', 'standalone'],
  async run(ctx) {
    const t = ctx.topology;
    if (t.kind === 'cluster') {
      await expectWithin({ check: 'cluster-state', failure: 'the cluster did not report cluster_state:ok on every node', since: 'the start', hint: 'check that every node reaches the others\' bus ports' }, () => t.redis.every((r) => ctx.observer.current.get(r.name)?.detail['cluster_state'] === 'ok'), 60_000);
    } else {
      await waitReplicationSettled(ctx, initialMaster(t));
    }
    // Without persistence, a master restarted before failover returns empty and wipes its replicas: that
    // documented hazard is restart-empty's subject, so here a stopped instance stays down past detection.
    const noPersistence = persistenceOff(ctx.dep.generatedFiles());
    const minFault = noPersistence ? detectionMs(t) + 3000 : 2000;
    ctx.note('persistenceOff', noPersistence);
    const schedule: ScheduledFault[] = generateSchedule(ctx.seed, t, {
      durationMs: noPersistence ? 30_000 : 20_000,
      faults: noPersistence ? CHAOS_FAULTS.filter((f) => f !== 'restart') : CHAOS_FAULTS,
      partitions: ctx.dep.partitionUnsupportedReason === undefined,
      minGapMs: 2000,
      maxGapMs: 4000,
      minFaultMs: minFault,
      maxFaultMs: minFault + 3000,
    });
    ctx.note('schedule', schedule);
    const pick = ctx.rng.fork('targets');
    ctx.nemesis.resolve = (symbol) => {
      if (symbol !== MASTER_TARGET) return [];
      if (t.kind !== 'cluster') {
        const m = currentMaster(ctx);
        if (m) return [m];
        // Split brain (an old master back before the sentinels demote it): any of the writable masters is "the master".
        const several = [...ctx.observer.current].filter(([n, s]) => s.role === 'master' && s.writable && ctx.dep.isRunning(n)).map(([n]) => n).sort();
        if (several.length > 1) ctx.log(`random-chaos: @master is ambiguous (${several.join(', ')} both writable masters); picking one by the seed`);
        return several.length ? [pick.pick(several)] : [];
      }
      const masters = [...ctx.observer.current].filter(([, s]) => s.role === 'master').map(([n]) => n).sort();
      return masters.length ? [pick.pick(masters)] : [];
    };
    ctx.log(`random-chaos: seed ${ctx.seed}, ${schedule.length} faults: ${schedule.map((f) => `${f.fault}(${f.targets.join(',')})@${f.at}`).join(' ')}`);
    const wl = await ctx.startWorkload({ kind: 'set', path: writePath(t), processes: 16, rate: SCENARIO_RATE, ...(t.kind === 'cluster' ? { setKeys: 32 } : {}) });
    markWorkloadStart(ctx, wl.via);
    const res = await ctx.nemesis.run(schedule);
    ctx.note('faultErrors', res.errors);
    ctx.note('faultsSkipped', res.skipped);
    await ctx.nemesis.healAll();
    for (const r of t.redis) if (!ctx.dep.isRunning(r.name)) await ctx.dep.start(r.name);
    ctx.note('healAt', ctx.history.mark('heal', 'all faults undone').time);
    if (t.kind !== 'cluster') await expectWithin({ check: 'recovery', failure: 'the deployment did not settle on one writable master', since: 'undoing every fault', hint: promotionHint(t) }, () => currentMaster(ctx), 60_000);
    await expectWithin({ check: 'recovery', failure: `no write via ${wl.via} was acknowledged`, since: 'undoing every fault', hint: promotionHint(t) }, () => wl.lastOkInvokedAt >= (ctx.facts.healAt ?? 0), 60_000);
    await delay(scaled(1000));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, rawFacts, t): CheckOutput {
    const budget = chaosLossBudget((rawFacts['schedule'] as ScheduledFault[] | undefined) ?? [], t);
    // The chaos run's "fault" is its first applied one: writes are needed before it and after the heal.
    const firstFault = events.find((e) => e.type === 'fault' && e.phase === 'start')?.time;
    const facts: ScenarioFacts = { ...rawFacts, ...(rawFacts.faultAt === undefined && firstFault !== undefined ? { faultAt: firstFault } : {}) };
    const out = standardChecks(events, facts, t, {
      maxLost: budget,
      lossRationale: 'kills lose the unreplicated tail of asynchronous replication, and an isolated master acknowledges writes until failure detection, as Redis documents',
      maxSplitBrainMs: Number.POSITIVE_INFINITY,
      noFailover: true,
    });
    // Faults chosen at random can legitimately stop writes for a while; availability is reported, not judged.
    out.checks = out.checks.filter((c) => c.name !== 'unavailability' && c.name !== 'budgets');
    if (t.kind !== 'cluster') {
      const sm = asCheck(checkSingleMaster(events, { maxSplitBrainMs: Number.POSITIVE_INFINITY }));
      out.checks = out.checks.filter((c) => c.name !== 'single-master');
      out.checks.push({ ...sm, verdict: 'pass', detail: `reported, not judged under random faults: ${sm.detail}` });
    }
    const blame = attributeLosses(events, out.lostAll ?? []);
    if (blame.length) {
      out.checks = out.checks.map((c) => (c.name === 'acknowledged-writes' ? { ...c, detail: `${c.detail}; lost by fault: ${blame.join(', ')}` } : c));
    }
    const schedule = (facts['schedule'] as ScheduledFault[] | undefined) ?? [];
    const errors = (facts['faultErrors'] as string[] | undefined) ?? [];
    const skipped = (facts['faultsSkipped'] as string[] | undefined) ?? [];
    const skippedNote = skipped.length ? `; ${skipped.length} found no target when due and were skipped: ${skipped.join('; ')}` : '';
    const applied = events.filter((e) => e.type === 'fault' && e.phase === 'start').length;
    out.checks.push({
      name: 'schedule',
      // Chaos without a single applied fault tested nothing: a failed check, not a pass or a skip.
      verdict: errors.length ? 'error' : schedule.length === 0 || applied === 0 ? 'fail' : 'pass',
      detail:
        errors.length ? `${errors.length} faults could not be applied: ${errors.join('; ')}${skippedNote}`
        : schedule.length === 0 ? 'no fault applies to this topology, so random-chaos tested nothing'
        : applied === 0 ? `none of ${schedule.length} scheduled faults was applied${skippedNote}`
        : `${applied} of ${schedule.length} faults applied and undone${skippedNote}`,
      data: { schedule, skipped, applied },
    });
    const recovered = facts.healAt !== undefined && events.some((e) => e.type === 'op' && e.phase === 'ok' && e.f === 'add' && e.time > facts.healAt!);
    out.checks.push({ name: 'recovery', verdict: recovered ? 'pass' : 'fail', detail: recovered ? 'writes were acknowledged again after every fault was undone' : 'no write was acknowledged after healing' });
    return out;
  },
};
