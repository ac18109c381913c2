/** Lost writes attributed to the fault in effect when they were acknowledged. */
import type { HistoryEvent } from '../history/events.js';

/**
 * Attributes each lost write to the fault that can have cost it: a partition in effect when it was acknowledged
 * (a cut-off master acknowledges writes that are dropped at the heal), else the first fault that began after it
 * was acknowledged (a kill loses the unreplicated tail). A fault over before the acknowledgement never explains it.
 */
export function attributeLosses(events: HistoryEvent[], lost: string[]): string[] {
  if (lost.length === 0) return [];
  const lostSet = new Set(lost);
  const faults: { name: string; label: string; start: number; end: number }[] = [];
  for (const e of events) {
    if (e.type !== 'fault') continue;
    const label = `${e.name}(${e.targets.join(',')})`;
    if (e.phase === 'start') faults.push({ name: e.name, label: `${label}@${Math.round(e.time)}`, start: e.time, end: Number.POSITIVE_INFINITY });
    else {
      const open = faults.find((f) => f.end === Number.POSITIVE_INFINITY && f.label.startsWith(`${label}@`));
      if (open) open.end = e.time;
    }
  }
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.type !== 'op' || e.phase !== 'ok' || e.f !== 'add' || !lostSet.has(String(e.value))) continue;
    const during = faults.find((x) => x.name.startsWith('partition-') && x.start <= e.time && e.time <= x.end);
    const f = during ?? faults.find((x) => x.start >= e.time);
    const key = f?.label ?? 'after the last fault';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}: ${n}`);
}
