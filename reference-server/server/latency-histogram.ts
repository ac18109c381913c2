/**
 * A command's latency histogram as Redis 7.0 keeps it (INFO latencystats, LATENCY HISTOGRAM): an HDR histogram
 * tracking 1 ns to 1 s with 2 significant digits, fed the command's duration in whole microseconds times 1000.
 * Recording is an index computation and one increment, with no Map traffic on the command path.
 */

/** LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE, in ns. */
const MIN_NS = 1;
const MAX_NS = 1_000_000_000;
/** 2 significant digits: 256 sub-buckets, half of them (128) per bucket after the first. */
const HALF_MAGNITUDE = 7;
const HALF = 1 << HALF_MAGNITUDE;
/** 23 buckets cover 1e9 (256 << 22 > 1e9); counts_len = (buckets + 1) * 128. */
const COUNTS_LEN = 24 * HALF;

/** hdr counts_index_for(v) with unit magnitude 0. */
function indexOf(v: number): number {
  const bucket = 24 - Math.clz32(v | 255);
  return ((bucket + 1) << HALF_MAGNITUDE) + ((v >>> bucket) - HALF);
}

/** hdr_value_at_index. */
function valueAt(index: number): number {
  let bucket = (index >> HALF_MAGNITUDE) - 1;
  let sub = (index & (HALF - 1)) + HALF;
  if (bucket < 0) {
    sub -= HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

/** The highest value sharing v's bucket slot (what Redis reports). */
export function highestEquivalent(v: number): number {
  const bucket = 24 - Math.clz32(v | 255);
  const lowest = (v >>> bucket) * 2 ** bucket;
  return lowest + 2 ** bucket - 1;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(COUNTS_LEN);
  total = 0;

  /** Redis's updateCommandLatencyHistogram(duration_us * 1000), clamped to the tracked range. */
  record(micros: number): void {
    let v = micros * 1000;
    if (v < MIN_NS) v = MIN_NS;
    else if (v > MAX_NS) v = MAX_NS;
    this.counts[indexOf(v)]++;
    this.total++;
  }

  /** hdr_value_at_percentile, in ns. */
  valueAtPercentile(percentile: number): number {
    const p = Math.min(percentile, 100);
    const want = Math.max(1, Math.floor((p / 100) * this.total + 0.5));
    let seen = 0;
    let index = 0;
    for (; index < COUNTS_LEN; index++) {
      seen += this.counts[index]!;
      if (seen >= want) break;
    }
    const v = valueAt(Math.min(index, COUNTS_LEN - 1));
    return percentile === 0 ? v : highestEquivalent(v);
  }

  /**
   * fillCommandCDF: the log iterator from 1024 ns doubling, each level's highest equivalent value in µs with the
   * count of samples up to it, reported only where that count grew.
   */
  cdf(): [number, number][] {
    const rows: [number, number][] = [];
    let seen = 0;
    let index = 0;
    for (let level = 1024; seen < this.total; level *= 2) {
      const upTo = highestEquivalent(level);
      const before = seen;
      while (index < COUNTS_LEN && valueAt(index) <= upTo) seen += this.counts[index++]!;
      if (seen > before) rows.push([Math.floor(upTo / 1000), seen]);
      if (index >= COUNTS_LEN) break;
    }
    return rows;
  }
}
