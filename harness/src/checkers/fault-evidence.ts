/** What a report shows as a scenario's evidence: each fault the history records, and the writes acknowledged after it. */
import type { HistoryEvent } from '../history/events.js';
import type { FaultEvidence } from '../results/types.js';

export function faultEvidence(events: HistoryEvent[]): FaultEvidence[] {
  const ackedAt = events.filter((e) => e.type === 'op' && e.phase === 'ok' && (e.f === 'add' || e.f === 'write')).map((e) => e.time);
  const out: FaultEvidence[] = [];
  for (const e of events) {
    // A fault the nemesis applied is a fault event; scenarios that act on the deployment directly mark it.
    const fault = e.type === 'fault' && e.phase === 'start' ? `${e.name} ${e.targets.join(', ')}` : e.type === 'mark' && e.name === 'fault' ? (e.detail ?? 'fault') : undefined;
    if (fault === undefined) continue;
    // The nemesis's event and the scenario's mark for the same fault are one fault.
    if (out.some((f) => f.fault === fault && Math.abs(f.at - e.time) < 1000)) continue;
    out.push({ fault, at: e.time, acknowledgedAfter: ackedAt.filter((t) => t > e.time).length });
  }
  return out;
}
