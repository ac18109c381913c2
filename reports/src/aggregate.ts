/** Turns a scenario's history into time buckets and intervals small enough to inline in a page. */
import type { Interval } from '../../harness/src/results/types.js';
import type { InstanceRoles, Outcome, ScenarioHistory } from './load.js';

/** Upper bound of buckets per chart: keeps a 200,000-operation run small and fast to draw. */
export const MAX_BUCKETS = 600;
const NICE_BUCKET_MS = [1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000, 300000, 600000];

export interface Buckets {
  bucketMs: number;
  /** Bucket start, seconds since the scenario start. */
  t: number[];
  /** Completions per second, by outcome. */
  rate: Record<Outcome, number[]>;
  /** Latency (ms) of completed operations, by outcome; null where a bucket had none. */
  p50: Record<Outcome, (number | null)[]>;
  p99: Record<Outcome, (number | null)[]>;
  max: Record<Outcome, (number | null)[]>;
}

export function chooseBucketMs(spanMs: number): number {
  for (const ms of NICE_BUCKET_MS) if (spanMs / ms <= MAX_BUCKETS) return ms;
  return Math.ceil(spanMs / MAX_BUCKETS);
}

function percentile(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

const OUTCOMES: Outcome[] = ['ok', 'fail', 'info'];

export function bucketize(h: ScenarioHistory, t0: number, t1: number): Buckets {
  const span = Math.max(1, t1 - t0);
  const bucketMs = chooseBucketMs(span);
  const n = Math.max(1, Math.ceil(span / bucketMs));
  const counts: Record<Outcome, number[]> = { ok: new Array(n).fill(0), fail: new Array(n).fill(0), info: new Array(n).fill(0) };
  const lat: Record<Outcome, number[][]> = { ok: [], fail: [], info: [] };
  for (const o of OUTCOMES) for (let i = 0; i < n; i++) lat[o].push([]);
  for (let i = 0; i < h.completionTime.length; i++) {
    const b = Math.min(n - 1, Math.max(0, Math.floor((h.completionTime[i]! - t0) / bucketMs)));
    const o = h.completionOutcome[i]!;
    counts[o][b]!++;
    const l = h.completionLatency[i]!;
    if (!Number.isNaN(l)) lat[o][b]!.push(l);
  }
  const perSecond = 1000 / bucketMs;
  const out: Buckets = {
    bucketMs,
    t: [],
    rate: { ok: [], fail: [], info: [] },
    p50: { ok: [], fail: [], info: [] },
    p99: { ok: [], fail: [], info: [] },
    max: { ok: [], fail: [], info: [] },
  };
  for (let i = 0; i < n; i++) out.t.push(round((i * bucketMs) / 1000, 3));
  for (const o of OUTCOMES) {
    for (let i = 0; i < n; i++) {
      out.rate[o].push(round(counts[o][i]! * perSecond, 2));
      const l = lat[o][i]!;
      if (l.length === 0) {
        out.p50[o].push(null);
        out.p99[o].push(null);
        out.max[o].push(null);
      } else {
        l.sort((a, b) => a - b);
        out.p50[o].push(round(percentile(l, 50), 2));
        out.p99[o].push(round(percentile(l, 99), 2));
        out.max[o].push(round(l[l.length - 1]!, 2));
      }
    }
  }
  return out;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export type RoleClass = 'master' | 'replica' | 'down' | 'other';

/** Cluster flags ("myself,master", "slave", "master,fail") and INFO roles map to one of four colours. */
export function roleClass(role: string): RoleClass {
  const r = role.toLowerCase();
  if (/\b(fail|down|pfail|noaddr|handshake)\b/.test(r) || r.includes('fail?')) return 'down';
  if (r.includes('master') || r === 'primary') return 'master';
  if (r.includes('slave') || r.includes('replica')) return 'replica';
  return 'other';
}

/** Windows where two or more instances were writable masters at the same time. */
export function masterOverlaps(roles: Iterable<InstanceRoles>): Interval[] {
  const edges: { time: number; delta: number }[] = [];
  for (const entry of roles) {
    if (entry.source === 'sentinel') continue;
    for (const seg of entry.segments) {
      if (roleClass(seg.role) === 'master' && seg.writable !== false && seg.end > seg.start) {
        edges.push({ time: seg.start, delta: 1 }, { time: seg.end, delta: -1 });
      }
    }
  }
  edges.sort((a, b) => a.time - b.time || a.delta - b.delta);
  const out: Interval[] = [];
  let level = 0;
  let openedAt = 0;
  for (const e of edges) {
    const before = level;
    level += e.delta;
    if (before < 2 && level >= 2) openedAt = e.time;
    if (before >= 2 && level < 2 && e.time > openedAt) out.push({ start: openedAt, end: e.time });
  }
  return out;
}

/** "master → down → replica": the instance's roles with repeats collapsed. */
export function roleSequence(entry: InstanceRoles): string[] {
  const seq: string[] = [];
  for (const seg of entry.segments) {
    const label = roleClass(seg.role) === 'other' ? seg.role : roleClass(seg.role);
    if (seq[seq.length - 1] !== label) seq.push(label);
  }
  return seq;
}
