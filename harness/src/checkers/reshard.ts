/**
 * Live resharding (cluster-live-reshard): every redis-cli --cluster reshard run moved what it was asked to, the
 * cluster checked clean afterwards, and the Cluster client followed ASK (while its slot was migrating) and MOVED
 * (after) redirections for the slot it wrote to.
 */
import type { HistoryEvent, MarkEvent, ScenarioFacts } from '../history/events.js';
import type { CheckResult, ClientRound } from '../results/types.js';
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

/**
 * A client adapter through the reshard runs (client-live-reshard): it acknowledged writes while each run moved its
 * slot, and every command it was given settled within maxStuckMs. Returns the check and the client's round (its
 * longest time without an acknowledged write during the runs stands where a failover time would).
 */
export function checkClientThroughReshard(events: HistoryEvent[], facts: ScenarioFacts, via: string, maxStuckMs: number): { check: CheckResult; round: ClientRound } {
  const runs = facts.reshards ?? [];
  const mine = ops(events, (o) => o.via === via && o.f === 'add');
  const invoked = new Map<number, number>();
  let stuckMs = 0;
  let unsettled = 0;
  for (const o of mine) {
    if (o.phase === 'invoke') invoked.set(o.process, o.time);
    else if (o.unsettled) unsettled++;
    else if (invoked.has(o.process)) stuckMs = Math.max(stuckMs, o.time - invoked.get(o.process)!);
  }
  const acked = mine.filter((o) => o.phase === 'ok').map((o) => o.time);
  const problems: string[] = [];
  let longestGap = 0;
  for (const r of runs) {
    const during = acked.filter((t) => t > r.startAt && t < r.endAt);
    if (during.length === 0) problems.push(`${via} acknowledged no write while ${r.from} -> ${r.to} ran`);
    let last = r.startAt;
    for (const t of [...during, r.endAt]) {
      longestGap = Math.max(longestGap, t - last);
      last = t;
    }
  }
  if (unsettled > 0) problems.push(`${unsettled} command(s) never settled`);
  if (stuckMs > maxStuckMs) problems.push(`a command took ${(stuckMs / 1000).toFixed(2)} s to settle (limit ${(maxStuckMs / 1000).toFixed(2)} s)`);
  const check: CheckResult = {
    name: 'client-through-reshard',
    verdict: runs.length === 0 || problems.length ? 'fail' : 'pass',
    detail: runs.length === 0
      ? 'no reshard ran, so the client was never tested'
      : problems.length
        ? problems.join('; ')
        : `${via} kept writing through ${runs.length} reshard run(s) (longest gap ${(longestGap / 1000).toFixed(2)} s); every command settled (longest ${(stuckMs / 1000).toFixed(2)} s)`,
  };
  return { check, round: { clientFailoverMs: runs.length ? longestGap : null, serverSwitchMs: null, oldMasterMs: null, stuckMs, unsettled } };
}
