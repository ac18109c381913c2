/**
 * Live resharding (cluster-live-reshard): every redis-cli --cluster reshard run moved what it was asked to, the
 * cluster checked clean afterwards, and the Cluster client followed ASK (while its slot was migrating) and MOVED
 * (after) redirections for the slot it wrote to.
 */
import type { HistoryEvent, MarkEvent, ScenarioFacts } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { ops } from './timeline.js';

export function checkReshardRuns(facts: ScenarioFacts, expectedRuns: number): CheckResult {
  const runs = facts.reshards ?? [];
  const problems: string[] = [];
  if (runs.length < expectedRuns) problems.push(`${runs.length} of ${expectedRuns} reshard runs happened`);
  for (const r of runs) {
    const what = `${r.from} -> ${r.to}`;
    if (r.exitCode !== 0) problems.push(`redis-cli --cluster reshard ${what} exited ${r.exitCode}: ${r.tail}`);
    if (r.movedSlots !== r.slots) problems.push(`${what} moved ${r.movedSlots} of ${r.slots} slots`);
    if (!r.hotSlotMoved) problems.push(`${what} did not move the workload's slot ${facts.hotSlot}`);
  }
  const chk = facts.clusterCheck;
  if (!chk) problems.push('redis-cli --cluster check did not run');
  else if (!chk.clean) problems.push(`redis-cli --cluster check is not clean (exit ${chk.exitCode}): ${chk.tail}`);
  return {
    name: 'reshard',
    verdict: problems.length ? 'fail' : 'pass',
    detail: problems.length
      ? problems.join('; ')
      : `${runs.map((r) => `${r.slots} slots ${r.from} -> ${r.to} in ${Math.round(r.endAt - r.startAt)} ms`).join(', ')}; redis-cli --cluster check clean`,
    data: { runs },
  };
}

/**
 * The workload's redirections ('redirect' marks): at least one ASK for its slot while a run migrated it, MOVED for it
 * after a run, and writes acknowledged during every run.
 */
export function checkRedirectsFollowed(events: HistoryEvent[], facts: ScenarioFacts): CheckResult {
  const runs = facts.reshards ?? [];
  const marks = events.filter((e): e is MarkEvent => e.type === 'mark' && e.name === 'redirect');
  const parse = (m: MarkEvent): { kind: string; slot: number; time: number } => {
    const [kind, slot] = (m.detail ?? '').split(' ');
    return { kind: kind ?? '', slot: Number(slot), time: m.time };
  };
  const redirects = marks.map(parse);
  const hot = facts.hotSlot;
  const asks = redirects.filter((r) => r.kind === 'ASK' && r.slot === hot);
  const moved = redirects.filter((r) => r.kind === 'MOVED' && r.slot === hot);
  const problems: string[] = [];
  if (asks.length === 0) problems.push(`no ASK for slot ${hot} was followed while it migrated`);
  if (moved.length === 0) problems.push(`no MOVED for slot ${hot} was followed after it moved`);
  const acked = ops(events, (o) => o.phase === 'ok' && o.f === 'write');
  for (const r of runs) {
    const during = acked.filter((o) => o.time > r.startAt && o.time < r.endAt).length;
    if (during === 0) problems.push(`no write was acknowledged while ${r.from} -> ${r.to} ran`);
  }
  return {
    name: 'redirects-followed',
    verdict: problems.length ? 'fail' : 'pass',
    detail: problems.length
      ? problems.join('; ')
      : `the Cluster client followed ${asks.length} ASK and ${moved.length} MOVED for slot ${hot} (${redirects.length} redirections in all) and kept writing through every run`,
    data: { ask: asks.length, moved: moved.length, total: redirects.length },
  };
}
