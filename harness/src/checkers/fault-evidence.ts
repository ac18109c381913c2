/** What a report shows as a scenario's evidence: each fault the history records, and the writes acknowledged after it. */
import type { HistoryEvent } from '../history/events.js';
import type { FaultEvidence } from '../results/types.js';

export function faultEvidence(events: HistoryEvent[]): FaultEvidence[] {
  const ackedAt = events.filter((e) => e.type === 'op' && e.phase === 'ok' && (e.f === 'add' || e.f === 'write')).map((e) => e.time);
  const found: { fault: string; at: number }[] = [];
  for (const e of events) if (e.type === 'fault' && e.phase === 'start') found.push({ fault: `${e.name} ${e.targets.join(', ')}`, at: e.time });
  // Scenarios that act on the deployment directly mark the fault; a mark next to the nemesis's own event is that same fault.
  for (const e of events) {
    if (e.type !== 'mark' || e.name !== 'fault') continue;
    if (found.some((f) => Math.abs(f.at - e.time) < 1000)) continue;
    found.push({ fault: e.detail ?? 'fault', at: e.time });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => ({ ...f, acknowledgedAfter: ackedAt.filter((t) => t > f.at).length }));
}
