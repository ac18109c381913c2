/**
 * HAProxy routing: a write through the proxy that a replica refuses (READONLY) means the proxy sent it to a
 * replica. That is tolerated only while the proxy's health check can still be catching up with a role change.
 */
import type { HistoryEvent } from '../history/events.js';
import type { CheckResult, Interval } from '../results/types.js';
import { observations, ops } from './timeline.js';

export interface RoutingCheckOptions {
  via: string;
  /** How long the proxy may take to notice a demoted master: its check interval x (fall + 1), plus slack. */
  detectMs: number;
  /** The backends the proxy routes to (default: every instance observed). */
  backends?: string[];
}

/** Each demotion of a backend (writable master -> replica), from the last time it was seen a master to detectMs after it was seen a replica. */
export function demotionWindows(events: HistoryEvent[], detectMs: number, backends?: string[]): { instance: string; window: Interval; demotedAt: number }[] {
  const out: { instance: string; window: Interval; demotedAt: number }[] = [];
  const lastMasterAt = new Map<string, number>();
  for (const o of observations(events, ['info'])) {
    if (backends && !backends.includes(o.instance)) continue;
    if (o.role === 'master') lastMasterAt.set(o.instance, o.time);
    else if (o.role === 'replica' && lastMasterAt.has(o.instance)) {
      // The demotion happened somewhere after the last master sample; READONLY can show from then on.
      out.push({ instance: o.instance, window: { start: lastMasterAt.get(o.instance)!, end: o.time + detectMs }, demotedAt: o.time });
      lastMasterAt.delete(o.instance);
    }
  }
  return out;
}

export function checkNoWritesToReplica(events: HistoryEvent[], opts: RoutingCheckOptions): CheckResult {
  const name = 'haproxy-routing';
  const readonly = ops(events, (o) => o.via === opts.via && o.phase === 'fail' && /^READONLY/.test(o.error ?? ''));
  const windows = demotionWindows(events, opts.detectMs, opts.backends);
  const outside = readonly.filter((o) => !windows.some((w) => o.time >= w.window.start && o.time <= w.window.end));
  const problems: string[] = [];
  if (outside.length) {
    problems.push(`${outside.length} writes via ${opts.via} reached a replica (READONLY) outside the ${opts.detectMs} ms the proxy's check may take after a role change; first at ${Math.round(outside[0]!.time)} ms`);
  }
  // Misrouting shows only if writes keep coming long enough after the last demotion.
  const last = windows[windows.length - 1];
  if (last) {
    const attemptsAfter = ops(events, (o) => o.via === opts.via && o.phase === 'invoke' && o.f !== 'read-all' && o.time > last.window.end);
    if (attemptsAfter.length === 0) problems.push(`no write via ${opts.via} was attempted more than ${opts.detectMs} ms after ${last.instance} was demoted, so misrouting to it could not show`);
  }
  const demoted = windows.map((w) => `${w.instance} at ${Math.round(w.demotedAt)} ms`).join(', ');
  return {
    name,
    verdict: problems.length ? 'fail' : 'pass',
    detail: problems.length
      ? problems.join('; ')
      : `no write via ${opts.via} reached a replica outside the proxy's detection window (${readonly.length} READONLY replies within ${windows.length} demotion window(s)${demoted ? `: ${demoted}` : ''})`,
    data: { readonlyOutside: outside.length, readonlyTotal: readonly.length, demotions: windows.length },
  };
}

/** How long HAProxy may route to a backend that was just demoted: fall failed checks at inter (fastinter once it changes), one more interval, and a second of slack for sampling. */
export function haproxyDetectMs(check: { interMs: number; fall: number; fastinterMs?: number }): number {
  return check.interMs + (check.fastinterMs ?? check.interMs) * check.fall + 1000;
}
