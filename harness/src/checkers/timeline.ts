/** Helpers that turn observations and ops into intervals. */
import type { HistoryEvent, OpEvent, RoleObservation } from '../history/events.js';
import type { Interval } from '../results/types.js';

export function observations(events: HistoryEvent[], sources: RoleObservation['source'][] = ['info', 'cluster']): RoleObservation[] {
  return events.filter((e): e is RoleObservation => e.type === 'observation' && sources.includes(e.source));
}

export function ops(events: HistoryEvent[], pred: (e: OpEvent) => boolean = () => true): OpEvent[] {
  return events.filter((e): e is OpEvent => e.type === 'op' && pred(e));
}

export function lastTime(events: HistoryEvent[]): number {
  let t = 0;
  for (const e of events) if (e.time > t) t = e.time;
  return t;
}

export function firstMark(events: HistoryEvent[], name: string): number | undefined {
  for (const e of events) if (e.type === 'mark' && e.name === name) return e.time;
  return undefined;
}

/**
 * A sample that timed out says nothing about the instance (it may be slow, paused, or cut off yet still
 * writable for clients beside it): "unknown", not "down". A refused connection is a real "down".
 */
/** A fault's record: the nemesis's (written once the fault is applied) or a scenario's own `fault` mark. */
export function isFaultRecord(e: HistoryEvent): boolean {
  return (e.type === 'fault' && e.phase === 'start') || (e.type === 'mark' && e.name === 'fault');
}

export function isUnknownSample(o: RoleObservation): boolean {
  if (o.role !== 'down') return false;
  if (o.detail?.['unknown'] === true) return true;
  return /timed? ?out|ETIMEDOUT/i.test(String(o.detail?.['error'] ?? ''));
}

/**
 * Intervals during which at least `min` instances were writable at once, from each instance's latest known
 * observation (an instance not observed yet counts as not writable; an unknown sample keeps the last state).
 */
export function concurrentWritable(events: HistoryEvent[], min = 2): { intervals: Interval[]; who: string[][] } {
  const state = new Map<string, boolean>();
  const intervals: Interval[] = [];
  const who: string[][] = [];
  let openAt: number | undefined;
  let openWho: Set<string> = new Set();
  const obs = observations(events).sort((a, b) => a.time - b.time);
  for (const o of obs) {
    if (isUnknownSample(o)) continue;
    state.set(o.instance, o.writable === true);
    const writers = [...state].filter(([, w]) => w).map(([n]) => n);
    if (writers.length >= min) {
      if (openAt === undefined) {
        openAt = o.time;
        openWho = new Set();
      }
      writers.forEach((w) => openWho.add(w));
    } else if (openAt !== undefined) {
      intervals.push({ start: openAt, end: o.time });
      who.push([...openWho].sort());
      openAt = undefined;
    }
  }
  if (openAt !== undefined) {
    intervals.push({ start: openAt, end: lastTime(events) });
    who.push([...openWho].sort());
  }
  return { intervals, who };
}

export function totalLength(intervals: Interval[]): number {
  return intervals.reduce((s, i) => s + (i.end - i.start), 0);
}
