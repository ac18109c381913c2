/** Per-command statistics (INFO commandstats / latencystats, LATENCY HISTOGRAM) and error counters. */
import { LatencyHistogram } from './latency-histogram.js';

export interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  /** Latency histogram for INFO latencystats and LATENCY HISTOGRAM, created at the first sample. */
  hist: LatencyHistogram | null;
}

/** commandStats: counts clears so the dispatcher's cached stat entry is dropped on CONFIG RESETSTAT. */
export class StatMap extends Map<string, CommandStat> {
  epoch = 0;
  override clear(): void {
    this.epoch++;
    super.clear();
  }
  override delete(k: string): boolean {
    this.epoch++;
    return super.delete(k);
  }

  /** The entry for a command name, created on first use. */
  of(name: string): CommandStat {
    let s = this.get(name);
    if (!s) {
      s = { calls: 0, usec: 0, rejected: 0, failed: 0, hist: null };
      this.set(name, s);
    }
    return s;
  }
}

/** errorstats: replies counted by their error prefix (Redis's afterErrorReply). */
export function countError(stats: Record<string, number>, errorStats: Map<string, number>, msg: string): void {
  stats.total_error_replies++;
  const sp = msg.indexOf(' ');
  const prefix = sp < 0 ? msg : msg.slice(0, sp);
  errorStats.set(prefix, (errorStats.get(prefix) ?? 0) + 1);
}
