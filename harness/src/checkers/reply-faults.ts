/**
 * What a client made of protocol faults (client-reply-faults), from the history alone: for each window in which
 * the reference servers answered the client's commands with one error reply (MOVED, LOADING, READONLY, ...), the
 * rule must have answered something (evidence), every command the client sent must have settled in time (a client
 * that waits forever on an error it does not expect is the bug this finds), and once the rule is off the client must
 * acknowledge a write again within the budget. How it surfaced the reply (failed with it, or retried to success) is
 * measured, not judged: both are legitimate for different replies and clients.
 */
import type { HistoryEvent, OpEvent, ReplyFaultWindow } from '../history/events.js';
import type { CheckResult, ClientRound } from '../results/types.js';
import { ops } from './timeline.js';

export interface ReplyFaultCheckOptions {
  via: string;
  /** After the window, the client must acknowledge a write within this. */
  recoveryBudgetMs: number;
  /** A command may take this long to settle. */
  maxStuckMs: number;
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The reply's first word as it reaches the client ("MOVED 866 127.0.0.1:6379" -> "MOVED"). */
const wordOf = (kind: string): string => kind.toUpperCase();

export function checkReplyFaults(events: HistoryEvent[], windows: readonly ReplyFaultWindow[], o: ReplyFaultCheckOptions): { checks: CheckResult[]; rounds: ClientRound[] } {
  const checks: CheckResult[] = [];
  const rounds: ClientRound[] = [];
  if (windows.length === 0) {
    checks.push({ name: 'reply-faults-applied', verdict: 'fail', detail: 'no reply-fault window was recorded, so the client was never tested' });
    return { checks, rounds };
  }
  const mine = ops(events, (e) => e.via === o.via && e.f !== 'read-all' && e.f !== 'deliver');
  const invokes = new Map<number, OpEvent>();
  const settledAt = new Map<number, OpEvent>();
  for (const e of mine) {
    if (e.phase === 'invoke') invokes.set(e.process, e);
    else settledAt.set(e.process, e);
  }
  for (const w of windows) {
    const name = `reply-fault-${w.kind}`;
    if (w.injected === 0) {
      checks.push({ name: `${name}-applied`, verdict: 'fail', detail: `the ${wordOf(w.kind)} rule matched ${w.matched} command(s) and answered none, so the client never saw the reply` });
    }
    let failedWithIt = 0;
    let okDuring = 0;
    let stuckMs = 0;
    let unsettled = 0;
    const stuck: string[] = [];
    for (const [id, inv] of invokes) {
      if (inv.time < w.startAt || inv.time > w.endAt) continue;
      const done = settledAt.get(id);
      if (!done || done.unsettled) {
        unsettled++;
        continue;
      }
      const took = done.time - inv.time;
      stuckMs = Math.max(stuckMs, took);
      if (took > o.maxStuckMs && stuck.length < 3) stuck.push(`${inv.f} ${inv.key ?? ''} took ${fmt(took)}`);
      if (done.phase === 'ok') okDuring++;
      else if ((done.error ?? '').toUpperCase().includes(wordOf(w.kind))) failedWithIt++;
    }
    if (unsettled > 0 || stuckMs > o.maxStuckMs) {
      checks.push({
        name: `${name}-settled`,
        verdict: 'fail',
        detail: `${unsettled > 0 ? `${unsettled} command(s) sent while the servers answered ${wordOf(w.kind)} never settled` : ''}${unsettled > 0 && stuck.length ? '; ' : ''}${stuck.join(', ')} (limit ${fmt(o.maxStuckMs)})`,
      });
    } else if (w.injected > 0) {
      checks.push({ name: `${name}-settled`, verdict: 'pass', detail: `every command settled (longest ${fmt(stuckMs)}); ${failedWithIt} failed with ${wordOf(w.kind)}, ${okDuring} succeeded during the window` });
    }
    // Recovery: the first write invoked after the rule was switched off and acknowledged.
    let recoveredAt: number | null = null;
    for (const [id, inv] of invokes) {
      if (inv.time < w.endAt || inv.f !== 'add') continue;
      const done = settledAt.get(id);
      if (done?.phase === 'ok' && (recoveredAt === null || done.time < recoveredAt)) recoveredAt = done.time;
    }
    const recoveryMs = recoveredAt === null ? null : recoveredAt - w.endAt;
    if (recoveryMs === null || recoveryMs > o.recoveryBudgetMs) {
      checks.push({
        name: `${name}-recovered`,
        verdict: 'fail',
        detail: recoveryMs === null
          ? `after the ${wordOf(w.kind)} replies stopped, no write through ${o.via} was acknowledged again`
          : `the first write acknowledged after the ${wordOf(w.kind)} replies stopped came ${fmt(recoveryMs)} later (budget ${fmt(o.recoveryBudgetMs)})`,
      });
    } else {
      checks.push({ name: `${name}-recovered`, verdict: 'pass', detail: `a write was acknowledged ${fmt(recoveryMs)} after the ${w.injected} ${wordOf(w.kind)} replies stopped` });
    }
    rounds.push({
      clientFailoverMs: recoveryMs,
      serverSwitchMs: null,
      oldMasterMs: null,
      stuckMs,
      unsettled,
      replyFault: { kind: w.kind, injected: w.injected, failedWithIt, okDuring },
    });
  }
  return { checks, rounds };
}
