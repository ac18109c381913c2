/** Checks of a sharded (cluster) history: key slots, writes judged per shard, the isolated minority stopping. */
import type { HistoryEvent, RoleObservation } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { ops } from './timeline.js';
import type { CheckOutput } from './output.js';

/** CRC16-XMODEM slot of a key, honouring {hash tags}, as CLUSTER KEYSLOT computes it. */
export function keySlot(key: string): number {
  let k = key;
  const open = k.indexOf('{');
  if (open >= 0) {
    const close = k.indexOf('}', open + 1);
    if (close > open + 1) k = k.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(k, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

export function inSlotRanges(ranges: string, slot: number): boolean {
  for (const part of ranges.split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a !== undefined && slot >= a && slot <= (b ?? a)) return true;
  }
  return false;
}

/**
 * Acknowledged writes judged per shard: losses in the failed shard's slots are bounded by `maxInShard`
 * (the documented window), losses anywhere else are never acceptable.
 */
export function checkShardedWrites(events: HistoryEvent[], out: CheckOutput, ranges: string | undefined, maxInShard: number, rationale: string): CheckResult {
  const keyOf = new Map<string, string>();
  for (const e of events) if (e.type === 'op' && e.f === 'add' && e.phase === 'invoke' && e.key !== undefined && e.value !== undefined) keyOf.set(String(e.value), e.key);
  const base = out.checks.find((c) => c.name === 'acknowledged-writes');
  const lost = out.lostAll ?? [];
  let inShard = 0;
  let outside = 0;
  for (const v of lost) {
    const k = keyOf.get(v);
    if (ranges && k !== undefined && inSlotRanges(ranges, keySlot(k))) inShard++;
    else outside++;
  }
  const w = out.writes;
  const summary = w ? `${w.acknowledged}/${w.attempted} acknowledged, ${w.lost} lost (${inShard} in the failed shard, ${outside} elsewhere), ${w.unexpected} unexpected, ${w.indeterminate} indeterminate` : 'no writes';
  if (!w || w.attempted === 0) return base ?? { name: 'acknowledged-writes', verdict: 'skip', detail: 'no writes were attempted' };
  if (base && /final read never succeeded/.test(base.detail)) return base;
  const problems: string[] = [];
  if (outside > 0) problems.push(`${outside} acknowledged writes lost outside the failed shard`);
  if (inShard > maxInShard) problems.push(`${inShard} lost in the failed shard (allowed ${maxInShard})`);
  if (w.unexpected > 0) problems.push(`${w.unexpected} values never written`);
  // The base rule holds per shard too: a write that got a definite error must not be in the final read.
  const failedPresent = Number(base?.data?.['failedButPresent'] ?? 0);
  if (failedPresent > 0) problems.push(`${failedPresent} writes that got a definite error are present`);
  if (w.acknowledged === 0) problems.push('no write was acknowledged, so no write could be verified');
  return {
    name: 'acknowledged-writes',
    verdict: problems.length ? 'fail' : 'pass',
    detail: problems.length ? `${problems.join('; ')}: ${summary}` : `${summary}${inShard > 0 ? `; up to ${maxInShard} accepted in the failed shard (${rationale})` : ''}`,
    data: { ...w, lostInShard: inShard, lostElsewhere: outside, maxLostInShard: maxInShard, failedButPresent: failedPresent, verified: w.acknowledged > 0 },
  };
}

/** Acknowledged writes to keys in `ranges` during [from, to]: all an isolated shard can have taken and then lost. */
export function writesToShardDuring(events: HistoryEvent[], ranges: string | undefined, from: number | undefined, to: number | undefined): number {
  if (!ranges || from === undefined) return 0;
  const end = to ?? Number.POSITIVE_INFINITY;
  return ops(events, (o) => o.f === 'add' && o.phase === 'ok' && o.key !== undefined && o.time >= from && o.time <= end && inSlotRanges(ranges, keySlot(o.key))).length;
}

/** The isolated master must stop accepting writes (cluster_state:fail on its side) before the heal, about node-timeout after the cut. */
export function checkMinorityStopped(events: HistoryEvent[], master: string, faultAt: number | undefined, healAt: number | undefined, nodeTimeoutMs: number): CheckResult {
  const name = 'minority-stops-writes';
  if (faultAt === undefined) return { name, verdict: 'fail', detail: 'the partition never happened' };
  const end = healAt ?? Number.POSITIVE_INFINITY;
  const answered = events.filter((e): e is RoleObservation => e.type === 'observation' && e.instance === master && e.role !== 'down' && e.time >= faultAt && e.time <= end);
  const refused = answered.find((o) => o.writable === false);
  if (!refused) {
    return { name, verdict: 'fail', detail: answered.length ? `the isolated master ${master} stayed writable until the heal (${answered.length} samples, cluster_state:${String(answered[answered.length - 1]!.detail?.['cluster_state'])})` : `the isolated master ${master} was never observed during the partition, so whether it stopped is unknown` };
  }
  const after = refused.time - faultAt;
  return {
    name,
    verdict: 'pass',
    detail: `the isolated master ${master} stopped accepting writes (cluster_state:${String(refused.detail?.['cluster_state'])}) ${Math.round(after)} ms after the partition (cluster-node-timeout ${nodeTimeoutMs} ms)`,
    data: { stoppedAfterMs: after },
  };
}
