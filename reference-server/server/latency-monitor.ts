/**
 * Redis 7.0's latency monitor (latency.c): per event class, the last 160 seconds that had a sample at or above
 * latency-monitor-threshold (one sample per second, the highest), the all-time maximum, and the texts LATENCY
 * DOCTOR and LATENCY GRAPH build from them.
 */

/** LATENCY_TS_LEN: samples kept per event. */
const TS_LEN = 160;
const GRAPH_COLS = 80;
const GRAPH_ROWS = 4;

interface Sample {
  /** Unix seconds, 0 = unused slot. */
  time: number;
  /** Milliseconds. */
  latency: number;
}

interface TimeSeries {
  idx: number;
  max: number;
  samples: Sample[];
}

/** What LATENCY DOCTOR's advice depends on besides the events. */
export interface DoctorSettings {
  threshold: number;
  slowlogSlowerThan: number;
  hz: number;
}

/** The advice latency.c's report gives for each event class this server records (besides the slow log settings). */
const EVENT_ADVICE: Record<string, string[]> = {
  command: ['slowlog-inspect', 'large-objects'],
  'fast-command': ['scheduler'],
  'expire-cycle': ['hz', 'large-objects'],
  'eviction-del': ['large-objects'],
  'eviction-cycle': ['mass-eviction'],
};

export class LatencyMonitor {
  /** Insertion-ordered like the dict iteration a fresh Redis shows for a few events. */
  private readonly events = new Map<string, TimeSeries>();

  constructor(private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {}

  /** latencyAddSample: a second's sample keeps the highest latency seen in it. */
  add(event: string, latencyMs: number): void {
    let ts = this.events.get(event);
    if (ts === undefined) {
      ts = { idx: 0, max: 0, samples: Array.from({ length: TS_LEN }, () => ({ time: 0, latency: 0 })) };
      this.events.set(event, ts);
    }
    const now = this.nowSeconds();
    if (latencyMs > ts.max) ts.max = latencyMs;
    const prev = ts.samples[(ts.idx + TS_LEN - 1) % TS_LEN]!;
    if (prev.time === now) {
      if (latencyMs > prev.latency) prev.latency = latencyMs;
      return;
    }
    const slot = ts.samples[ts.idx]!;
    slot.time = now;
    slot.latency = latencyMs;
    ts.idx = (ts.idx + 1) % TS_LEN;
  }

  /** LATENCY LATEST rows: event, time of its last sample, that sample, all-time max. */
  latest(): [string, number, number, number][] {
    const out: [string, number, number, number][] = [];
    for (const [event, ts] of this.events) {
      const last = ts.samples[(ts.idx + TS_LEN - 1) % TS_LEN]!;
      out.push([event, last.time, last.latency, ts.max]);
    }
    return out;
  }

  /** LATENCY HISTORY: [time, latency] oldest first; undefined for an unknown event. */
  history(event: string): [number, number][] | undefined {
    const ts = this.events.get(event);
    if (ts === undefined) return undefined;
    return this.ordered(ts).map((s) => [s.time, s.latency]);
  }

  /** LATENCY RESET: drops one event (or all with no name); how many were dropped. */
  reset(event?: string): number {
    if (event === undefined) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    return this.events.delete(event) ? 1 : 0;
  }

  get size(): number {
    return this.events.size;
  }

  private ordered(ts: TimeSeries): Sample[] {
    const out: Sample[] = [];
    for (let j = 0; j < TS_LEN; j++) {
      const s = ts.samples[(ts.idx + j) % TS_LEN]!;
      if (s.time !== 0) out.push(s);
    }
    return out;
  }

  /** LATENCY GRAPH: the header, a rule and a 4-row sparkline labelled with each sample's age; undefined if unknown. */
  graph(event: string): string | undefined {
    const ts = this.events.get(event);
    if (ts === undefined) return undefined;
    const samples = this.ordered(ts);
    const now = this.nowSeconds();
    let min = 0;
    let max = 0;
    samples.forEach((s, i) => {
      if (i === 0) min = max = s.latency;
      else {
        max = Math.max(max, s.latency);
        min = Math.min(min, s.latency);
      }
    });
    const labelled = samples.map((s) => ({ value: s.latency, label: ageLabel(now - s.time) }));
    let out = `${event} - high ${max} ms, low ${min} ms (all time high ${ts.max} ms)\n${'-'.repeat(GRAPH_COLS)}\n`;
    for (let j = 0; j < labelled.length; j += GRAPH_COLS) {
      if (j !== 0) out += '\n';
      out += sparkline(labelled, min, max, j, Math.min(GRAPH_COLS, labelled.length - j));
    }
    return out;
  }

  /** LATENCY DOCTOR's report, with the advice latency.c gives for the events this server records. */
  doctor(settings: DoctorSettings): string {
    if (this.events.size === 0 && settings.threshold === 0) {
      return 'I\'m sorry, Dave, I can\'t do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren\'t in a deep space mission I\'d suggest to take a look at https://redis.io/topics/latency-monitor.\n';
    }
    const now = this.nowSeconds();
    let report = '';
    let n = 0;
    const advise = new Set<string>();
    for (const [event, ts] of this.events) {
      n++;
      if (n === 1) report += 'Dave, I have observed latency spikes in this Redis instance. You don\'t mind talking about it, do you Dave?\n\n';
      const st = stats(ts.samples.filter((s) => s.time !== 0), now);
      report += `${n}. ${event}: ${st.samples} latency spikes (average ${st.avg}ms, mean deviation ${st.mad}ms, period ${(st.period / st.samples).toFixed(2)} sec). Worst all time event ${ts.max}ms.`;
      for (const a of EVENT_ADVICE[event] ?? []) advise.add(a);
      if (event === 'command') {
        if (settings.slowlogSlowerThan < 0) advise.add('slowlog-enable');
        else if (Math.trunc(settings.slowlogSlowerThan / 1000) > settings.threshold) advise.add('slowlog-tune');
      }
      report += '\n';
    }
    if (n === 0) {
      return report + 'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n';
    }
    if (advise.size === 0) {
      return report + '\nWhile there are latency events logged, I\'m not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n';
    }
    report += '\nI have a few advices for you:\n\n';
    const us = settings.threshold * 1000;
    if (advise.has('slowlog-enable')) report += `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`;
    if (advise.has('slowlog-tune')) report += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${us}'.\n`;
    if (advise.has('slowlog-inspect')) report += '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n';
    if (advise.has('scheduler')) {
      report += '- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n'
        + '  1) Lower the system load.\n'
        + '  2) Use a computer / VM just for Redis if you are running other software in the same system.\n'
        + '  3) Check if you have a "noisy neighbour" problem.\n'
        + '  4) Check with \'redis-cli --intrinsic-latency 100\' what is the intrinsic latency in your system.\n'
        + '  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n';
    }
    if (advise.has('hz') && settings.hz < 100) report += '- In order to make the Redis keys expiring process more incremental, try to set the \'hz\' configuration parameter to 100 using \'CONFIG SET hz 100\'.\n';
    if (advise.has('large-objects')) report += '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
    if (advise.has('mass-eviction')) report += '- Sudden changes to the \'maxmemory\' setting via \'CONFIG SET\', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n';
    return report;
  }
}

/** analyzeLatencyForEvent: count, integer average, mean absolute deviation, seconds since the oldest sample. */
function stats(samples: Sample[], now: number): { samples: number; avg: number; mad: number; period: number } {
  if (samples.length === 0) return { samples: 0, avg: 0, mad: 0, period: 0 };
  let sum = 0;
  let oldest = 0;
  for (const s of samples) {
    sum += s.latency;
    if (oldest === 0 || s.time < oldest) oldest = s.time;
  }
  const avg = Math.trunc(sum / samples.length);
  let dev = 0;
  for (const s of samples) dev += Math.abs(avg - s.latency);
  return { samples: samples.length, avg, mad: Math.trunc(dev / samples.length), period: Math.max(1, now - oldest) };
}

/** How long ago, as the graph labels it: seconds, minutes, hours or days. */
function ageLabel(elapsed: number): string {
  if (elapsed < 60) return `${elapsed}s`;
  if (elapsed < 3600) return `${Math.trunc(elapsed / 60)}m`;
  if (elapsed < 86400) return `${Math.trunc(elapsed / 3600)}h`;
  return `${Math.trunc(elapsed / 86400)}d`;
}

/** sparklineRenderRange with SPARKLINE_FILL: bars of "_o#" and "|", then the labels written downwards. */
function sparkline(seq: { value: number; label: string }[], min: number, max: number, offset: number, len: number): string {
  const fill = '_o#';
  const steps = fill.length * GRAPH_ROWS;
  const relmax = max - min === 0 ? 1 : max - min;
  let out = '';
  for (let row = 0; ; row++) {
    const chars: string[] = new Array<string>(len).fill(' ');
    let more = false;
    for (let j = 0; j < len; j++) {
      const s = seq[offset + j]!;
      let step = Math.trunc(Math.trunc((s.value - min) * steps) / relmax);
      step = Math.min(Math.max(step, 0), steps - 1);
      if (row < GRAPH_ROWS) {
        more = true;
        const idx = step - (GRAPH_ROWS - row - 1) * fill.length;
        if (idx >= 0 && idx < fill.length) chars[j] = fill[idx]!;
        else if (idx >= fill.length) chars[j] = '|';
      } else {
        // One blank row between the bars and the labels.
        if (row - GRAPH_ROWS < 1) {
          more = true;
          break;
        }
        const at = row - GRAPH_ROWS - 1;
        if (s.label.length > at) {
          more = true;
          chars[j] = s.label[at]!;
        }
      }
    }
    if (!more) return out;
    out += chars.join('') + '\n';
  }
}
