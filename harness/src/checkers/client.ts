/**
 * What the application saw through a client adapter (via `client:<name>`), from the history alone: failover as
 * the client saw it (fault -> first acknowledged write through it) beside the server-side switch, how long it
 * kept sending to the old master, the longest a command stayed unsettled (and those that never settled), and
 * whether its subscriber heard messages published after the failover.
 */
import type { HistoryEvent, OpEvent } from '../history/events.js';
import type { CheckResult, ClientRound } from '../results/types.js';
import { findPromotion } from './masters.js';
import { observations, ops } from './timeline.js';

/** One round's measures, with the client path they were taken through. */
export interface ClientMeasures extends ClientRound {
  via: string;
}

export interface ClientCheckOptions {
  via: string;
  faultAt: number;
  /** Instance that failed, for the server-side switch. */
  oldMaster?: string;
  /** "host:port" forms of the old master the adapter may report as addr. */
  oldMasterAddrs?: string[];
  /** Only writes to these keys count (a cluster's failed shard). */
  keyFilter?: (key: string) => boolean;
  failoverBudgetMs: number;
  /** A command may take this long to settle (a client with a timeout settles well within it). */
  maxStuckMs: number;
  pubsub?: boolean;
  /** Acknowledged writes the final read did not find: an old master acknowledging them is no recovery. */
  lost?: ReadonlySet<string>;
  /** Suffix for check names when a scenario has several rounds ("-2"). */
  round?: string;
}

const WRITE_FS = new Set(['add']);

function fmt(ms: number | null): string {
  return ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`;
}

export function measureClient(events: HistoryEvent[], o: ClientCheckOptions): ClientMeasures {
  const mine = ops(events, (e) => e.via === o.via);
  const invokes = new Map<number, OpEvent>();
  let firstOk: number | null = null;
  let stuckMs = 0;
  let unsettled = 0;
  const promo = o.oldMaster ? findPromotion(events, o.oldMaster, o.faultAt) : {};
  const switchAt = promo.switchAt ?? promo.promotedAt;
  let lastToOld: number | undefined;
  const oldAddrs = new Set(o.oldMasterAddrs ?? []);
  for (const e of mine) {
    if (e.f === 'read-all' || e.f === 'deliver') continue;
    if (e.phase === 'invoke') {
      invokes.set(e.process, e);
      continue;
    }
    const inv = invokes.get(e.process);
    if (!inv) continue;
    stuckMs = Math.max(stuckMs, e.time - inv.time);
    if (e.unsettled) unsettled++;
    if (switchAt !== undefined && e.addr !== undefined && oldAddrs.has(e.addr) && inv.time >= switchAt) lastToOld = Math.max(lastToOld ?? 0, inv.time);
    // Writes the old master took before the switch (a graceful failover) or lost after it are no sign of recovery.
    if (e.phase === 'ok' && WRITE_FS.has(e.f) && inv.time >= Math.max(o.faultAt, switchAt ?? o.faultAt) && !o.lost?.has(String(e.value)) && (!o.keyFilter || (e.key !== undefined && o.keyFilter(e.key)))) {
      if (firstOk === null || e.time < firstOk) firstOk = e.time;
    }
  }
  const m: ClientMeasures = {
    via: o.via,
    clientFailoverMs: firstOk === null ? null : firstOk - o.faultAt,
    serverSwitchMs: switchAt === undefined ? null : switchAt - o.faultAt,
    oldMasterMs: lastToOld === undefined || switchAt === undefined ? null : lastToOld - switchAt,
    stuckMs,
    unsettled,
  };
  if (o.pubsub) {
    const after = firstOk ?? Number.POSITIVE_INFINITY;
    const published = new Set(
      mine.filter((e) => e.f === 'publish' && e.phase === 'ok' && (invokes.get(e.process)?.time ?? 0) >= after).map((e) => String(e.value)),
    );
    const delivered = new Set(mine.filter((e) => e.f === 'deliver' && published.has(String(e.value))).map((e) => String(e.value)));
    m.publishedAfter = published.size;
    m.deliveredAfter = delivered.size;
  }
  return m;
}

/**
 * Acknowledged writes invoked after the server-side switch that the final read did not find: the new master does not
 * lose what it acknowledged, so the client sent them to the old one (a stale pooled connection revived by a heal or
 * a resume), which acknowledged them until Sentinel or the cluster converted it.
 */
function staleWrites(events: HistoryEvent[], o: ClientCheckOptions, m: ClientMeasures): { count: number; firstMs: number | null; lastMs: number | null } {
  if (!o.lost || o.lost.size === 0 || m.serverSwitchMs === null) return { count: 0, firstMs: null, lastMs: null };
  const switchAt = o.faultAt + m.serverSwitchMs;
  const invokedAt = new Map<number, number>();
  let count = 0, first = Number.POSITIVE_INFINITY, last = Number.NEGATIVE_INFINITY;
  for (const e of ops(events, (x) => x.via === o.via && WRITE_FS.has(x.f))) {
    if (e.phase === 'invoke') { invokedAt.set(e.process, e.time); continue; }
    if (e.phase !== 'ok' || !o.lost.has(String(e.value)) || (invokedAt.get(e.process) ?? 0) < switchAt) continue;
    if (o.keyFilter && (e.key === undefined || !o.keyFilter(e.key))) continue;
    count++;
    first = Math.min(first, e.time);
    last = Math.max(last, e.time);
  }
  return { count, firstMs: count ? first - o.faultAt : null, lastMs: count ? last - o.faultAt : null };
}

export function checkClient(events: HistoryEvent[], o: ClientCheckOptions): { checks: CheckResult[]; measures: ClientMeasures } {
  const m = measureClient(events, o);
  const r = o.round ?? '';
  const checks: CheckResult[] = [];
  const server = m.serverSwitchMs === null ? 'the server side never switched' : `the server side switched after ${fmt(m.serverSwitchMs)}`;
  const old = m.oldMasterMs !== null ? `; it kept sending to the old master for ${fmt(m.oldMasterMs)} after the switch` : '';
  const data = { clientFailoverMs: m.clientFailoverMs, serverSwitchMs: m.serverSwitchMs, oldMasterMs: m.oldMasterMs };
  if (m.clientFailoverMs === null) {
    checks.push({ name: `client-failover${r}`, verdict: 'fail', detail: `${o.via} never acknowledged a write after the fault, though ${server}${old}`, data });
  } else {
    const late = m.clientFailoverMs > o.failoverBudgetMs;
    checks.push({
      name: `client-failover${r}`,
      verdict: late ? 'fail' : 'pass',
      detail: `${o.via} acknowledged its first write ${fmt(m.clientFailoverMs)} after the fault (${server})${old}${late ? `: over the ${fmt(o.failoverBudgetMs)} budget` : ''}`,
      data,
    });
  }
  const stale = staleWrites(events, o, m);
  if (stale.count > 0) {
    checks.push({
      name: `client-stale-master${r}`,
      verdict: 'fail',
      detail: `${stale.count} write(s) ${o.via} invoked after the server side switched were acknowledged and then lost (acknowledged ${fmt(stale.firstMs)} to ${fmt(stale.lastMs)} after the fault): the client wrote to ${o.oldMaster ?? 'the old master'}, no longer the master, which took them until it was converted`,
      data: { staleWrites: stale.count },
    });
  }
  if (!r) {
    const stuck = m.stuckMs > o.maxStuckMs;
    checks.push({
      name: 'client-settles',
      verdict: stuck || m.unsettled > 0 ? 'fail' : 'pass',
      detail:
        m.unsettled > 0
          ? `${m.unsettled} command(s) via ${o.via} never settled (no reply, no error, no timeout); the longest waited ${fmt(m.stuckMs)}`
          : `the longest command via ${o.via} took ${fmt(m.stuckMs)} to settle${stuck ? `, over the ${fmt(o.maxStuckMs)} a client with a command timeout needs` : ''}`,
      data: { stuckMs: m.stuckMs, unsettled: m.unsettled, maxStuckMs: o.maxStuckMs },
    });
  }
  if (o.pubsub) {
    const ok = (m.deliveredAfter ?? 0) > 0;
    checks.push({
      name: 'client-pubsub',
      verdict: ok ? 'pass' : 'fail',
      detail: ok
        ? `the subscriber received ${m.deliveredAfter} of ${m.publishedAfter} messages published after the client's failover`
        : m.publishedAfter
          ? `the subscriber received none of ${m.publishedAfter} messages published after the client's failover: it went silent`
          : 'no message was published after the failover, so delivery could not be judged',
      data: { publishedAfter: m.publishedAfter ?? 0, deliveredAfter: m.deliveredAfter ?? 0 },
    });
  }
  return { checks, measures: m };
}

/**
 * client-demote's evidence: the old master turned replica after the fault and stayed up (a demotion, not a failure),
 * and what the client surfaced meanwhile: READONLY errors (the demoted master answering) until it reached the new one.
 */
export function checkDemotion(events: HistoryEvent[], o: { via: string; oldMaster: string; faultAt: number }): CheckResult {
  const demotedAt = observations(events, ['info']).find((x) => x.instance === o.oldMaster && x.time >= o.faultAt && x.role === 'replica')?.time;
  if (demotedAt === undefined) {
    return { name: 'demotion', verdict: 'fail', detail: `${o.oldMaster} was never seen as a replica after the fault: it was not demoted` };
  }
  const readonly = ops(events, (e) => e.via === o.via && e.phase === 'fail' && e.time >= o.faultAt && /^READONLY/i.test(e.error ?? ''));
  const span = readonly.length > 1 ? ` over ${fmt(readonly[readonly.length - 1]!.time - readonly[0]!.time)}` : '';
  return {
    name: 'demotion',
    verdict: 'pass',
    detail: `${o.oldMaster} turned replica ${fmt(demotedAt - o.faultAt)} after the fault, its clients still connected; ${o.via} surfaced ${readonly.length} READONLY error(s)${span}`,
    data: { demotedMs: demotedAt - o.faultAt, readonlyErrors: readonly.length },
  };
}
