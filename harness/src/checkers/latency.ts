/** Latency of acknowledged writes within a window (what a latency toxic must show). */
import type { HistoryEvent, OpEvent } from '../history/events.js';

/** Median invoke->ok latency of writes acknowledged within [from, to]. */
export function medianLatency(events: HistoryEvent[], from: number, to: number): number | undefined {
  const invoked = new Map<number, number>();
  const lat: number[] = [];
  for (const e of events) {
    if (e.type !== 'op' || e.f === 'read-all') continue;
    const o = e as OpEvent;
    if (o.phase === 'invoke') invoked.set(o.process, o.time);
    else if (o.phase === 'ok' && o.time >= from && o.time <= to) {
      const t0 = invoked.get(o.process);
      if (t0 !== undefined && t0 >= from) lat.push(o.time - t0);
    }
  }
  if (lat.length === 0) return undefined;
  lat.sort((a, b) => a - b);
  return lat[Math.floor(lat.length / 2)];
}
