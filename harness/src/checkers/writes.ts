/**
 * Acknowledged-writes checker with Jepsen set-checker semantics: compares every attempted write with the
 * final read. lost = acknowledged but absent; unexpected = present but never attempted; recovered = present
 * though not acknowledged; indeterminate = 'info' outcomes.
 */
import type { HistoryEvent, OpEvent } from '../history/events.js';
import type { CheckResult, WriteCounts } from '../results/types.js';

export interface WritesCheckOptions {
  /** Acknowledged writes that may be lost (async replication on kill -9); default 0. */
  maxLost?: number;
  /** Why losing some is acceptable here, printed with the result. */
  lossRationale?: string;
  name?: string;
}

export interface WritesCheck {
  result: CheckResult;
  counts: WriteCounts;
  lost: string[];
  unexpected: string[];
  /** Definitely failed ('fail') yet present in the final read. */
  failedButPresent: string[];
}

function idOf(e: OpEvent): string | undefined {
  if (e.f === 'add') return e.value === undefined ? undefined : String(e.value);
  if (e.f === 'write') return e.key !== undefined && e.value !== undefined ? `${e.key}=${String(e.value)}` : undefined;
  return undefined;
}

const EMPTY: WriteCounts = { attempted: 0, acknowledged: 0, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 };

export function checkAcknowledgedWrites(events: HistoryEvent[], opts: WritesCheckOptions = {}): WritesCheck {
  const name = opts.name ?? 'acknowledged-writes';
  const attempted = new Set<string>();
  const acked = new Set<string>();
  const failed = new Set<string>();
  const info = new Set<string>();
  let finalRead: string[] | undefined;
  for (const e of events) {
    if (e.type !== 'op') continue;
    if (e.f === 'read-all') {
      if (e.phase === 'ok' && Array.isArray(e.value)) finalRead = (e.value as unknown[]).map(String);
      continue;
    }
    const id = idOf(e);
    if (id === undefined) continue;
    if (e.phase === 'invoke') attempted.add(id);
    else if (e.phase === 'ok') acked.add(id);
    else if (e.phase === 'fail') failed.add(id);
    else info.add(id);
  }
  if (attempted.size === 0) {
    return { result: { name, verdict: 'skip', detail: 'no writes were attempted' }, counts: { ...EMPTY }, lost: [], unexpected: [], failedButPresent: [] };
  }
  if (!finalRead) {
    return {
      result: { name, verdict: 'fail', detail: `the final read never succeeded, so none of ${acked.size} acknowledged writes could be confirmed`, data: { verified: false } },
      counts: { ...EMPTY, attempted: attempted.size, acknowledged: acked.size, indeterminate: info.size },
      lost: [],
      unexpected: [],
      failedButPresent: [],
    };
  }
  const present = new Set(finalRead);
  const lost = [...acked].filter((x) => !present.has(x));
  const unexpected = [...present].filter((x) => !attempted.has(x));
  const recovered = [...present].filter((x) => attempted.has(x) && !acked.has(x));
  const failedButPresent = recovered.filter((x) => failed.has(x) && !info.has(x));
  const counts: WriteCounts = {
    attempted: attempted.size,
    acknowledged: acked.size,
    lost: lost.length,
    unexpected: unexpected.length,
    recovered: recovered.length,
    indeterminate: info.size,
  };
  const maxLost = opts.maxLost ?? 0;
  const problems: string[] = [];
  if (lost.length > maxLost) problems.push(`${lost.length} acknowledged writes lost (allowed ${maxLost})`);
  if (unexpected.length > 0) problems.push(`${unexpected.length} values present that were never written`);
  if (failedButPresent.length > 0) problems.push(`${failedButPresent.length} writes that got a definite error are present`);
  // Nothing acknowledged means nothing verified: "0 of 0 lost" is no evidence.
  if (acked.size === 0) problems.push(`none of ${attempted.size} attempted writes was acknowledged, so no write could be verified`);
  const summary = `${counts.acknowledged}/${counts.attempted} acknowledged, ${counts.lost} lost, ${counts.unexpected} unexpected, ${counts.recovered} recovered, ${counts.indeterminate} indeterminate`;
  const allowance = maxLost > 0 && lost.length > 0 && problems.length === 0 ? `; losing up to ${maxLost} is accepted here${opts.lossRationale ? ` (${opts.lossRationale})` : ''}` : '';
  return {
    result: {
      name,
      verdict: problems.length ? 'fail' : 'pass',
      detail: problems.length ? `${problems.join('; ')}: ${summary}` : `${summary}${allowance}`,
      data: { ...counts, maxLost, failedButPresent: failedButPresent.length, verified: acked.size > 0 },
    },
    counts,
    lost,
    unexpected,
    failedButPresent,
  };
}

/** Counter workload: the final value must lie between the acknowledged INCRs and acknowledged + indeterminate. */
export function checkCounter(events: HistoryEvent[], opts: { maxLost?: number } = {}): CheckResult {
  let ok = 0;
  let info = 0;
  let final: number | undefined;
  for (const e of events) {
    if (e.type !== 'op') continue;
    if (e.f === 'incr') {
      if (e.phase === 'ok') ok++;
      else if (e.phase === 'info') info++;
    } else if (e.f === 'read-all' && e.phase === 'ok' && Array.isArray(e.value)) {
      final = Number((e.value as unknown[])[0]);
    }
  }
  const name = 'counter';
  if (ok + info === 0) return { name, verdict: 'skip', detail: 'no increments were attempted' };
  if (final === undefined) return { name, verdict: 'fail', detail: `the final read never succeeded (${ok} acknowledged increments)` };
  const lost = Math.max(0, ok - final);
  const extra = Math.max(0, final - ok - info);
  const maxLost = opts.maxLost ?? 0;
  const verdict = lost > maxLost || extra > 0 ? 'fail' : 'pass';
  return {
    name,
    verdict,
    detail: `final value ${final}; expected between ${ok} (acknowledged) and ${ok + info} (plus indeterminate); ${lost} lost (allowed ${maxLost}), ${extra} unexplained`,
    data: { acknowledged: ok, indeterminate: info, final, lost, extra },
  };
}
