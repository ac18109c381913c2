/** Cluster health from the observer's CLUSTER INFO/NODES samples: slot coverage and cluster_state on every node. */
import type { HistoryEvent, RoleObservation } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { observations } from './timeline.js';

export const CLUSTER_SLOTS = 16384;

function latestPerNode(events: HistoryEvent[], at?: number): Map<string, RoleObservation> {
  const last = new Map<string, RoleObservation>();
  for (const o of observations(events, ['info', 'cluster'])) {
    if (at !== undefined && o.time > at) continue;
    last.set(o.instance, o);
  }
  return last;
}

/** Slots served by reachable masters, from each node's own "myself" line. */
export function coveredSlots(events: HistoryEvent[], at?: number): number {
  const covered = new Uint8Array(CLUSTER_SLOTS);
  for (const o of latestPerNode(events, at).values()) {
    if (o.role !== 'master' || typeof o.detail?.['slots'] !== 'string') continue;
    for (const part of (o.detail['slots'] as string).split(',')) {
      if (part === '') continue;
      const [a, b] = part.split('-').map(Number);
      if (a === undefined || Number.isNaN(a)) continue;
      for (let s = a; s <= (b ?? a); s++) covered[s] = 1;
    }
  }
  return covered.reduce((n, v) => n + v, 0);
}

export function checkSlotCoverage(events: HistoryEvent[], opts: { expectFull: boolean; at?: number } = { expectFull: true }): CheckResult {
  const n = coveredSlots(events, opts.at);
  const full = n === CLUSTER_SLOTS;
  return {
    name: 'slot-coverage',
    verdict: full === opts.expectFull ? 'pass' : 'fail',
    detail: `${n} of ${CLUSTER_SLOTS} slots served by a reachable master (expected ${opts.expectFull ? 'full' : 'partial'} coverage)`,
    data: { covered: n },
  };
}

export function checkClusterState(events: HistoryEvent[], opts: { expect?: 'ok' | 'fail'; nodes?: string[]; at?: number } = {}): CheckResult {
  const expect = opts.expect ?? 'ok';
  const last = latestPerNode(events, opts.at);
  const bad: string[] = [];
  let answered = 0;
  for (const [name, o] of last) {
    if (opts.nodes && !opts.nodes.includes(name)) continue;
    if (o.role === 'down') {
      if (!opts.nodes) continue;
      bad.push(`${name}=down`);
      continue;
    }
    answered++;
    const st = String(o.detail?.['cluster_state'] ?? 'unknown');
    if (st !== expect) bad.push(`${name}=${st}`);
  }
  // Named nodes never observed are no evidence of their state either.
  for (const n of opts.nodes ?? []) if (!last.has(n)) bad.push(`${n}=never observed`);
  // Every node down (or none observed) says nothing about cluster_state: that is a failure, not a pass.
  const none = answered === 0;
  return {
    name: 'cluster-state',
    verdict: bad.length || none ? 'fail' : 'pass',
    detail: bad.length ? `expected cluster_state:${expect} on every reachable node; saw ${bad.join(', ')}` : none ? 'no cluster node answered, so cluster_state could not be judged' : `cluster_state:${expect} on ${answered} reachable node(s)`,
  };
}
