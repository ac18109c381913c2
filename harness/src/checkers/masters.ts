/** Single writable master at a time, promotion of a replica, and failback of the old master as a replica. */
import type { HistoryEvent } from '../history/events.js';
import type { CheckResult, Interval } from '../results/types.js';
import { concurrentWritable, observations, totalLength } from './timeline.js';

export interface SingleMasterOptions {
  /** Total split-brain time tolerated (e.g. the known window of an isolated master without min-replicas). */
  maxSplitBrainMs?: number;
  /** Longest single window tolerated (default: no per-window bound). */
  maxWindowMs?: number;
  /** Windows shorter than this are sampling artefacts of a switch observed on two instances at different instants. */
  ignoreShorterThanMs?: number;
}

export function checkSingleMaster(events: HistoryEvent[], opts: SingleMasterOptions = {}): CheckResult & { intervals: Interval[] } {
  const { intervals: raw, who } = concurrentWritable(events, 2);
  const ignore = opts.ignoreShorterThanMs ?? 0;
  const keep = raw.map((iv, i) => ({ iv, who: who[i]! })).filter((x) => x.iv.end - x.iv.start >= ignore);
  const intervals = keep.map((x) => x.iv);
  const total = totalLength(intervals);
  const max = opts.maxSplitBrainMs ?? 0;
  const longest = intervals.reduce((m, i) => Math.max(m, i.end - i.start), 0);
  const windowTooLong = opts.maxWindowMs !== undefined && longest > opts.maxWindowMs;
  const desc = keep.map((x) => `${x.who.join('+')} at ${Math.round(x.iv.start)}-${Math.round(x.iv.end)} ms`).join(', ');
  return {
    name: 'single-master',
    verdict: total > max || windowTooLong ? 'fail' : 'pass',
    detail:
      intervals.length === 0
        ? 'at most one writable master was observed at any time'
        : `${intervals.length} split-brain window(s), ${Math.round(total)} ms in total (allowed ${max} ms${opts.maxWindowMs !== undefined ? `, at most ${opts.maxWindowMs} ms each` : ''}): ${desc}`,
    data: { windows: intervals.length, totalMs: total, longestMs: longest, maxSplitBrainMs: max, ...(opts.maxWindowMs !== undefined ? { maxWindowMs: opts.maxWindowMs } : {}) },
    intervals,
  };
}

export interface PromotionFacts {
  newMaster?: string;
  /** Time the new master was first observed as master. */
  promotedAt?: number;
  /** Time a sentinel announced +switch-master. */
  switchAt?: number;
  /** The Sentinel that led the failover (it published +elected-leader), and its kind (redis / reference). */
  leader?: { instance: string; target?: string };
}

/** First replica -> master transition after `after` (a master that was already master, or a returning old master, is no promotion). */
export function findPromotion(events: HistoryEvent[], oldMaster: string, after: number): PromotionFacts {
  const facts: PromotionFacts = {};
  const lastLive = new Map<string, string>();
  for (const o of observations(events, ['info', 'cluster'])) {
    const prev = lastLive.get(o.instance);
    if (o.role !== 'down') lastLive.set(o.instance, o.role);
    if (o.time < after || o.instance === oldMaster || o.role !== 'master' || prev !== 'replica') continue;
    facts.newMaster = o.instance;
    facts.promotedAt = o.time;
    break;
  }
  for (const o of observations(events, ['sentinel'])) {
    if (o.time < after) continue;
    // The leader publishes +elected-leader before it promotes; the last one before the switch won (an attempt may abort and be retried).
    if (o.role === '+elected-leader') facts.leader = { instance: o.instance, ...(o.detail?.target !== undefined ? { target: String(o.detail.target) } : {}) };
    if (o.role === 'sentinel-switch') {
      facts.switchAt = o.time;
      break;
    }
  }
  return facts;
}

export interface PromotionOptions {
  oldMaster: string;
  /** When the fault hit (promotion is looked for after it). */
  faultAt: number;
  /** Instances allowed to become master (default: any other). */
  candidates?: string[];
  /** Promotion must be observed within this many ms of the fault. */
  withinMs?: number;
}

export function checkPromotion(events: HistoryEvent[], opts: PromotionOptions): CheckResult & PromotionFacts {
  const facts = findPromotion(events, opts.oldMaster, opts.faultAt);
  const name = 'promotion';
  if (!facts.newMaster || facts.promotedAt === undefined) {
    return { name, verdict: 'fail', detail: `no replica was promoted after ${opts.oldMaster} failed`, ...facts };
  }
  const took = facts.promotedAt - opts.faultAt;
  const problems: string[] = [];
  if (opts.candidates && !opts.candidates.includes(facts.newMaster)) problems.push(`${facts.newMaster} is not one of ${opts.candidates.join(', ')}`);
  if (opts.withinMs !== undefined && took > opts.withinMs) problems.push(`took ${Math.round(took)} ms (budget ${opts.withinMs} ms)`);
  return {
    name,
    verdict: problems.length ? 'fail' : 'pass',
    detail: `${facts.newMaster} became master ${Math.round(took)} ms after ${opts.oldMaster} failed${switchNote(facts, opts.faultAt)}${problems.length ? `: ${problems.join('; ')}` : ''}`,
    data: {
      newMaster: facts.newMaster, promotionMs: took,
      ...(facts.switchAt !== undefined ? { switchMs: facts.switchAt - opts.faultAt } : {}),
      ...(facts.leader ? { leader: facts.leader.instance, ...(facts.leader.target ? { leaderTarget: facts.leader.target } : {}) } : {}),
    },
    ...facts,
  };
}

const SENTINEL_KIND: Record<string, string> = { redis: 'redis-sentinel', reference: 'reference Sentinel' };

/** " (+switch-master at 4210 ms, led by sentinel3, a redis-sentinel)": in a mixed quorum, which kind led matters. */
function switchNote(facts: PromotionFacts, faultAt: number): string {
  const parts: string[] = [];
  if (facts.switchAt !== undefined) parts.push(`+switch-master at ${Math.round(facts.switchAt - faultAt)} ms`);
  if (facts.leader) parts.push(`led by ${facts.leader.instance}${facts.leader.target ? `, a ${SENTINEL_KIND[facts.leader.target] ?? facts.leader.target}` : ''}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export interface FailbackOptions {
  oldMaster: string;
  newMaster: string;
  /** Internal "host:port" of the new master, as replicas report it. */
  newMasterAddress: string;
  /** Look only at observations after this time (the old master's return). */
  after: number;
}

/** The old master must come back as a replica of the new one with its link up. */
export function checkFailback(events: HistoryEvent[], opts: FailbackOptions): CheckResult {
  const name = 'failback';
  const mine = observations(events, ['info', 'cluster']).filter((o) => o.instance === opts.oldMaster && o.time >= opts.after);
  const good = mine.find((o) => o.role === 'replica' && o.master === opts.newMasterAddress && o.linkUp === true);
  const last = mine[mine.length - 1];
  if (!good) {
    const seen = last ? `${last.role}${last.master ? ` of ${last.master}` : ''}${last.linkUp === false ? ' (link down)' : ''}` : 'never observed';
    return { name, verdict: 'fail', detail: `${opts.oldMaster} did not rejoin as a replica of ${opts.newMaster} (${opts.newMasterAddress}) with link up; last seen: ${seen}` };
  }
  const asMaster = mine.filter((o) => o.time < good.time && o.role === 'master' && o.writable === true);
  return {
    name,
    verdict: 'pass',
    detail: `${opts.oldMaster} rejoined as a replica of ${opts.newMaster} with link up ${Math.round(good.time - opts.after)} ms after it returned${asMaster.length ? ` (it was briefly a writable master first)` : ''}`,
    data: { rejoinMs: good.time - opts.after, wasMasterFirst: asMaster.length > 0 },
  };
}
