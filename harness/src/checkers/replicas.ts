/** What the replicas held after an empty restart, read back as history. */
import type { HistoryEvent } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { ops } from './timeline.js';

/** restart-empty's claim about the replicas: after resyncing from the empty master none holds an acknowledged write. */
export function checkReplicasWiped(events: HistoryEvent[], replicas: string[]): CheckResult {
  const name = 'replicas-wiped';
  const acked = new Set(ops(events, (o) => o.f === 'add' && o.phase === 'ok').map((o) => String(o.value)));
  const problems: string[] = [];
  const seen: string[] = [];
  for (const r of replicas) {
    const reads = ops(events, (o) => o.f === 'read-replica' && o.via === `direct:${r}` && o.phase === 'ok');
    const last = reads[reads.length - 1];
    if (!last || !Array.isArray(last.value)) {
      problems.push(`${r} could not be read, so its wipe is unconfirmed`);
      continue;
    }
    const kept = (last.value as unknown[]).map(String).filter((v) => acked.has(v)).length;
    if (kept > 0) problems.push(`${r} still holds ${kept} of ${acked.size} acknowledged writes (it did not resync from the empty master)`);
    else seen.push(r);
  }
  if (replicas.length === 0) problems.push('no replica to check');
  return {
    name,
    verdict: problems.length ? 'fail' : 'pass',
    detail: problems.length ? problems.join('; ') : `${seen.join(', ')} resynced from the empty master and hold none of the ${acked.size} acknowledged writes`,
  };
}
