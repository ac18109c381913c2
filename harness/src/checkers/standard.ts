/**
 * The checks most scenarios share, as pure functions of the recorded events and the facts the steps noted:
 * evidence (fault applied, workload acknowledged), acknowledged writes, one master, failover time, unavailability.
 */
import type { HistoryEvent, ScenarioFacts } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import type { Topology } from '../topology/model.js';
import { asCheck, checkThresholds } from './index.js';
import { checkAcknowledgedWrites } from './writes.js';
import { checkSingleMaster } from './masters.js';
import { checkFailoverTime, checkUnavailability, faultInEffectAt, masterGoneAt } from './availability.js';
import { checkFaultApplied, checkWorkloadEvidence, type WorkloadPhase } from './evidence.js';
import { firstMark, lastTime } from './timeline.js';
import type { CheckOutput } from './output.js';

export interface StandardCheckOptions {
  maxLost?: number;
  lossRationale?: string;
  maxSplitBrainMs?: number;
  maxSplitBrainWindowMs?: number;
  /** Gap without acknowledged writes that counts as unavailability. */
  unavailabilityThresholdMs?: number;
  /** Skip failover-time (no fault that stops writes). */
  noFailover?: boolean;
  /** Judge failover and unavailability on these keys only (the failed shard of a cluster). */
  keyFilter?: (key: string) => boolean;
  /** The fault is a graceful stop (SIGTERM): the master may still acknowledge writes until it is gone, which is no failover. */
  gracefulStop?: boolean;
  /** The scenario injects no fault (e.g. routing checks): nothing to prove applied. */
  noFault?: boolean;
  /** When writes must have been acknowledged (default: before the fault, and after the heal or else the fault). */
  workloadNeeds?: WorkloadPhase[];
}

/** Evidence that the scenario tested something: its fault was applied and its workload acknowledged where needed. */
export function evidenceChecks(events: HistoryEvent[], facts: ScenarioFacts, opts: Pick<StandardCheckOptions, 'noFault' | 'workloadNeeds'> = {}): CheckResult[] {
  const out: CheckResult[] = [];
  if (!opts.noFault) out.push(checkFaultApplied(events, facts.faultAt));
  const need: WorkloadPhase[] = opts.workloadNeeds ?? (opts.noFault ? ['any'] : ['before-fault', facts.healAt !== undefined ? 'after-heal' : 'after-fault']);
  out.push(
    checkWorkloadEvidence(events, {
      need,
      ...(facts.faultAt !== undefined ? { faultAt: facts.faultAt } : {}),
      ...(facts.healAt !== undefined ? { healAt: facts.healAt } : {}),
      ...(facts.via !== undefined ? { via: facts.via } : {}),
    }),
  );
  return out;
}

/** acknowledged-writes, single-master (non-cluster), failover-time, unavailability and budgets. */
export function standardChecks(events: HistoryEvent[], facts: ScenarioFacts, t: Topology, opts: StandardCheckOptions = {}): CheckOutput {
  const out: CheckOutput = { checks: evidenceChecks(events, facts, opts), warnings: [] };
  const writes = checkAcknowledgedWrites(events, {
    ...(opts.maxLost !== undefined ? { maxLost: opts.maxLost } : {}),
    ...(opts.lossRationale !== undefined ? { lossRationale: opts.lossRationale } : {}),
  });
  out.checks.push(asCheck(writes.result));
  out.writes = writes.counts;
  out.lostSample = writes.lost.slice(0, 100);
  out.lostAll = writes.lost;
  const lostSet = new Set(writes.lost);
  out.unexpectedSample = writes.unexpected.slice(0, 100);
  if (t.kind !== 'cluster') {
    const sm = checkSingleMaster(events, { maxSplitBrainMs: opts.maxSplitBrainMs ?? 0, ...(opts.maxSplitBrainWindowMs !== undefined ? { maxWindowMs: opts.maxSplitBrainWindowMs } : {}) });
    out.checks.push(asCheck(sm));
    out.splitBrainIntervals = sm.intervals;
  }
  const from = facts.workloadStart ?? firstMark(events, 'workload-start') ?? 0;
  const to = facts.workloadEnd ?? firstMark(events, 'workload-end') ?? lastTime(events);
  const via = facts.via;
  let failoverMs: number | null | undefined;
  if (!opts.noFailover && facts.faultAt !== undefined) {
    // Writes the failed master itself still acknowledged (while the fault was being applied, or until it was gone
    // after a SIGTERM) are no sign of a failover.
    // (Every ack counted is of a write invoked after the fault, so the fault itself is the neutral floor.)
    const inEffect = faultInEffectAt(events, facts.faultAt) ?? facts.faultAt;
    const gone = (opts.gracefulStop ? masterGoneAt(events, facts.oldMaster, facts.faultAt) : undefined) ?? facts.faultAt;
    const fo = checkFailoverTime(events, facts.faultAt, t.budgets.failoverMs, via, opts.keyFilter, lostSet, Math.max(inEffect, gone));
    out.checks.push(asCheck(fo));
    out.failoverMs = fo.failoverMs;
    failoverMs = fo.failoverMs;
    if (fo.interval) out.failoverInterval = fo.interval;
  }
  if (writes.counts.attempted === 0) {
    out.checks.push({ name: 'unavailability', verdict: 'skip', detail: 'no workload ran' });
    return out;
  }
  const un = checkUnavailability(events, from, to, t.budgets.unavailabilityMs, opts.unavailabilityThresholdMs ?? 500, via, opts.keyFilter, lostSet);
  out.checks.push(asCheck(un));
  out.unavailabilityMs = un.longestMs;
  out.unavailabilityIntervals = un.intervals;
  out.checks.push(
    checkThresholds([
      ...(failoverMs !== undefined ? [{ name: 'failover', value: failoverMs, max: t.budgets.failoverMs }] : []),
      { name: 'longest unavailability', value: un.longestMs, max: t.budgets.unavailabilityMs },
    ]),
  );
  return out;
}
