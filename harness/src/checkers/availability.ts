/** Failover time (fault -> first acknowledged write through the client path) and unavailability windows. */
import type { HistoryEvent } from '../history/events.js';
import type { CheckResult, Interval } from '../results/types.js';
import { ops } from './timeline.js';

const WRITE_FS = new Set(['add', 'write', 'incr']);

export interface FailoverFacts {
  failoverMs: number | null;
  interval?: Interval;
}

/** Time from `faultAt` to the completion of the first ok write invoked after it. */
/** Restricts judged writes to some keys (e.g. the slots of the shard that failed). */
export type KeyFilter = (key: string) => boolean;

export function failoverTime(events: HistoryEvent[], faultAt: number, via?: string, keyFilter?: KeyFilter): FailoverFacts {
  const invokedAt = new Map<string, number>();
  let best: number | undefined;
  for (const e of ops(events, (o) => WRITE_FS.has(o.f) && (via === undefined || o.via === via) && (!keyFilter || (o.key !== undefined && keyFilter(o.key))))) {
    const k = `${e.process}`;
    if (e.phase === 'invoke') invokedAt.set(k, e.time);
    else if (e.phase === 'ok') {
      const inv = invokedAt.get(k);
      if (inv !== undefined && inv >= faultAt && (best === undefined || e.time < best)) best = e.time;
    }
  }
  if (best === undefined) return { failoverMs: null };
  return { failoverMs: best - faultAt, interval: { start: faultAt, end: best } };
}

/** Gaps longer than `thresholdMs` between consecutive acknowledged writes within [from, to]. */
export function unavailabilityWindows(events: HistoryEvent[], from: number, to: number, thresholdMs: number, via?: string, keyFilter?: KeyFilter): Interval[] {
  const okTimes = ops(events, (o) => WRITE_FS.has(o.f) && o.phase === 'ok' && (via === undefined || o.via === via) && (!keyFilter || (o.key !== undefined && keyFilter(o.key))))
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

export function checkFailoverTime(events: HistoryEvent[], faultAt: number, budgetMs: number, via?: string, keyFilter?: KeyFilter): CheckResult & FailoverFacts {
  const f = failoverTime(events, faultAt, via, keyFilter);
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

export function checkUnavailability(events: HistoryEvent[], from: number, to: number, budgetMs: number, thresholdMs = 500, via?: string, keyFilter?: KeyFilter): CheckResult & { intervals: Interval[]; longestMs: number } {
  const intervals = unavailabilityWindows(events, from, to, thresholdMs, via, keyFilter);
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
