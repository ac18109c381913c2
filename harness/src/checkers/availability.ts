/** Failover time (fault -> first acknowledged write through the client path) and unavailability windows. */
import type { HistoryEvent, OpEvent } from '../history/events.js';
import type { CheckResult, Interval } from '../results/types.js';
import { isFaultRecord, isUnknownSample, ops } from './timeline.js';

const WRITE_FS = new Set(['add', 'write', 'incr']);

export interface FailoverFacts {
  failoverMs: number | null;
  interval?: Interval;
}

/** Time from `faultAt` to the completion of the first ok write invoked after it. */
/** Restricts judged writes to some keys (e.g. the slots of the shard that failed). */
export type KeyFilter = (key: string) => boolean;

/** Ids of acknowledged writes that were lost: a write a cut-off master acknowledged is no sign of recovery. */
export type LostIds = ReadonlySet<string>;

function writeId(o: OpEvent): string | undefined {
  if (o.value === undefined) return undefined;
  return o.f === 'write' ? `${o.key}=${String(o.value)}` : String(o.value);
}

/**
 * `notBefore`: acknowledgements before this instant do not count (the old master still finishing writes after a
 * SIGTERM is not the failover); the time is still measured from `faultAt`, the signal.
 */
export function failoverTime(events: HistoryEvent[], faultAt: number, via?: string, keyFilter?: KeyFilter, lost?: LostIds, notBefore?: number): FailoverFacts {
  const invokedAt = new Map<string, number>();
  let best: number | undefined;
  for (const e of ops(events, (o) => WRITE_FS.has(o.f) && (via === undefined || o.via === via) && (!keyFilter || (o.key !== undefined && keyFilter(o.key))))) {
    const k = `${e.process}`;
    if (e.phase === 'invoke') invokedAt.set(k, e.time);
    else if (e.phase === 'ok') {
      const id = writeId(e);
      if (lost && id !== undefined && lost.has(id)) continue;
      const inv = invokedAt.get(k);
      if (inv !== undefined && inv >= faultAt && (notBefore === undefined || e.time >= notBefore) && (best === undefined || e.time < best)) best = e.time;
    }
  }
  if (best === undefined) return { failoverMs: null };
  return { failoverMs: best - faultAt, interval: { start: faultAt, end: best } };
}

/**
 * When the fault was in effect: its first record at or after `faultAt` (a fault is recorded once applied, so a kill
 * is recorded when the process is gone). A write the old master acknowledged while the fault was still being applied
 * (a container's kill takes tens of ms) is no failover.
 */
export function faultInEffectAt(events: HistoryEvent[], faultAt: number): number | undefined {
  return events.find((e) => e.time >= faultAt && isFaultRecord(e))?.time;
}

/** When the failed master was first seen gone (down for certain, or demoted) after the fault: acks before it are its own. */
export function masterGoneAt(events: HistoryEvent[], master: string | undefined, faultAt: number): number | undefined {
  if (master === undefined) return undefined;
  for (const e of events) {
    if (e.type !== 'observation' || e.instance !== master || e.time < faultAt) continue;
    if (e.role === 'replica' || (e.role === 'down' && !isUnknownSample(e))) return e.time;
  }
  return undefined;
}

/** Gaps longer than `thresholdMs` between consecutive acknowledged writes within [from, to]. */
export function unavailabilityWindows(events: HistoryEvent[], from: number, to: number, thresholdMs: number, via?: string, keyFilter?: KeyFilter, lost?: LostIds): Interval[] {
  const okTimes = ops(events, (o) => WRITE_FS.has(o.f) && o.phase === 'ok' && (via === undefined || o.via === via) && (!keyFilter || (o.key !== undefined && keyFilter(o.key))) && !(lost && lost.has(writeId(o) ?? '')))
    .map((o) => o.time)
    .filter((t) => t >= from && t <= to)
    .sort((a, b) => a - b);
  const out: Interval[] = [];
  let prev = from;
  for (const t of okTimes) {
    if (t - prev > thresholdMs) out.push({ start: prev, end: t });
    prev = t;
  }
  if (to - prev > thresholdMs) out.push({ start: prev, end: to });
  return out;
}

export function checkFailoverTime(events: HistoryEvent[], faultAt: number, budgetMs: number, via?: string, keyFilter?: KeyFilter, lost?: LostIds, notBefore?: number): CheckResult & FailoverFacts {
  const f = failoverTime(events, faultAt, via, keyFilter, lost, notBefore);
  const name = 'failover-time';
  if (f.failoverMs === null) return { name, verdict: 'fail', detail: `no write was acknowledged${via ? ` via ${via}` : ''} after the fault`, ...f };
  return {
    name,
    verdict: f.failoverMs <= budgetMs ? 'pass' : 'fail',
    detail: `first acknowledged write ${Math.round(f.failoverMs)} ms after the fault (budget ${budgetMs} ms)`,
    data: { failoverMs: f.failoverMs, budgetMs },
    ...f,
  };
}

export function checkUnavailability(events: HistoryEvent[], from: number, to: number, budgetMs: number, thresholdMs = 500, via?: string, keyFilter?: KeyFilter, lost?: LostIds): CheckResult & { intervals: Interval[]; longestMs: number } {
  const intervals = unavailabilityWindows(events, from, to, thresholdMs, via, keyFilter, lost);
  const longest = intervals.reduce((m, i) => Math.max(m, i.end - i.start), 0);
  return {
    name: 'unavailability',
    verdict: longest <= budgetMs ? 'pass' : 'fail',
    detail: intervals.length
      ? `${intervals.length} window(s) without an acknowledged write for > ${thresholdMs} ms; longest ${Math.round(longest)} ms (budget ${budgetMs} ms)`
      : `writes were acknowledged at least every ${thresholdMs} ms`,
    data: { windows: intervals.length, longestMs: longest, budgetMs },
    intervals,
    longestMs: longest,
  };
}
