/** What a scenario's checks return: the check results and the measurements results.json records. */
import type { CheckResult, ClientResult, Interval, WriteCounts } from '../results/types.js';

export interface CheckOutput {
  checks: CheckResult[];
  failoverMs?: number | null;
  failoverInterval?: Interval;
  unavailabilityMs?: number | null;
  unavailabilityIntervals?: Interval[];
  splitBrainIntervals?: Interval[];
  writes?: WriteCounts;
  lostSample?: string[];
  /** Every lost acknowledged write (for per-shard judgement; not written to results). */
  lostAll?: string[];
  unexpectedSample?: string[];
  warnings?: string[];
  /** Client scenarios: what the adapter saw. */
  client?: ClientResult;
}
