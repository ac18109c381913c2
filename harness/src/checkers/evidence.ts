/**
 * No pass without evidence: a scenario proves something only if its fault was applied and its workload was
 * acknowledged where the scenario needs it (before the fault, after it). These checks say so when it was not.
 */
import type { HistoryEvent, OpEvent } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { isFaultRecord, ops } from './timeline.js';

const WRITE_FS = new Set(['add', 'write', 'incr']);

/** Check names that vouch for a run having tested anything; a gate's named `checks:` list never drops them. */
export const EVIDENCE_CHECKS = ['fault-applied', 'workload'] as const;

/** When the workload must have had writes acknowledged. */
export type WorkloadPhase = 'any' | 'before-fault' | 'after-fault' | 'after-heal';

export interface WorkloadEvidenceOptions {
  need: WorkloadPhase[];
  faultAt?: number;
  healAt?: number;
  /** Judge only writes through this path (the one the scenario is about). */
  via?: string;
}

function describeFailures(writes: OpEvent[]): string {
  const attempted = writes.filter((o) => o.phase === 'invoke').length;
  const failed = writes.filter((o) => o.phase === 'fail' || o.phase === 'info');
  const errors = new Map<string, number>();
  for (const f of failed) {
    const e = (f.error ?? 'no reply').split(/\s+/).slice(0, 8).join(' ');
    errors.set(e, (errors.get(e) ?? 0) + 1);
  }
  const top = [...errors].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([e, n]) => `${n}x "${e}"`);
  return `${attempted} attempted, ${failed.length} failed${top.length ? `: ${top.join(', ')}` : ''}`;
}

/** The workload had writes acknowledged in every phase the scenario needs. */
export function checkWorkloadEvidence(events: HistoryEvent[], opts: WorkloadEvidenceOptions): CheckResult {
  const name = 'workload';
  const writes = ops(events, (o) => WRITE_FS.has(o.f) && (opts.via === undefined || o.via === opts.via));
  const invokedAt = new Map<number, number>();
  const acked: { invokedAt: number; at: number }[] = [];
  for (const o of writes) {
    if (o.phase === 'invoke') invokedAt.set(o.process, o.time);
    else if (o.phase === 'ok') acked.push({ invokedAt: invokedAt.get(o.process) ?? o.time, at: o.time });
  }
  const path = opts.via ? ` via ${opts.via}` : '';
  if (writes.length === 0) return { name, verdict: 'fail', detail: `the workload attempted no write${path}, so the scenario verified nothing` };
  const missing: string[] = [];
  for (const phase of opts.need) {
    if (phase === 'any') {
      if (acked.length === 0) missing.push('at all');
    } else if (phase === 'before-fault') {
      if (opts.faultAt === undefined) missing.push('before the fault (the fault never happened)');
      else if (!acked.some((a) => a.at <= opts.faultAt!)) missing.push('before the fault');
    } else if (phase === 'after-fault') {
      if (opts.faultAt === undefined) missing.push('after the fault (the fault never happened)');
      else if (!acked.some((a) => a.invokedAt >= opts.faultAt!)) missing.push('after the fault');
    } else if (opts.healAt === undefined) missing.push('after the heal (the scenario never healed)');
    else if (!acked.some((a) => a.invokedAt >= opts.healAt!)) missing.push('after the heal');
  }
  if (missing.length) {
    return { name, verdict: 'fail', detail: `no write${path} was acknowledged ${missing.join(', nor ')} (${describeFailures(writes)}), so the scenario verified nothing there`, data: { acknowledged: acked.length } };
  }
  return { name, verdict: 'pass', detail: `${acked.length} writes${path} acknowledged${opts.need.filter((p) => p !== 'any').length ? ` (${opts.need.filter((p) => p !== 'any').join(', ')})` : ''}`, data: { acknowledged: acked.length } };
}

/** The scenario's fault took effect: a fault the nemesis applied, or a fault the steps marked, at the noted time. */
export function checkFaultApplied(events: HistoryEvent[], faultAt: number | undefined): CheckResult {
  const name = 'fault-applied';
  const applied = events.filter(isFaultRecord);
  const skipped = events.filter((e) => e.type === 'mark' && (e.name === 'fault-skipped' || e.name === 'fault-error')).map((e) => (e.type === 'mark' ? e.detail ?? e.name : ''));
  if (faultAt === undefined || applied.length === 0) {
    return { name, verdict: 'fail', detail: `the scenario's fault was never applied${skipped.length ? ` (${skipped.join('; ')})` : ''}, so it tested nothing` };
  }
  const first = applied[0]!;
  const what = first.type === 'fault' ? `${first.name} ${first.targets.join(',')}` : first.type === 'mark' ? first.detail ?? 'fault' : 'fault';
  return { name, verdict: 'pass', detail: `${what} at ${Math.round(first.time)} ms${applied.length > 1 ? ` (${applied.length} fault events)` : ''}` };
}
