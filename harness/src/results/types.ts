/** results.json: what `run`, `gate` and `compare` write and what the report renders. */
import type { Target, Topology } from '../topology/model.js';

export type Verdict = 'pass' | 'fail' | 'skip' | 'error';

export interface CheckResult {
  /** e.g. 'acknowledged-writes', 'single-master', 'promotion', 'failback', 'failover-time', 'slot-coverage'. */
  name: string;
  verdict: Verdict;
  /** One human sentence: what was expected and what was seen. */
  detail: string;
  data?: Record<string, unknown>;
}

export interface WriteCounts {
  attempted: number;
  acknowledged: number;
  lost: number;
  unexpected: number;
  recovered: number;
  indeterminate: number;
}

export interface Interval {
  start: number;
  end: number;
}

export interface FaultEvidence {
  /** e.g. 'kill redis1', 'partition-isolate host1'. */
  fault: string;
  /** ms since run start when the fault took effect. */
  at: number;
  /** Writes acknowledged (invoked) after the fault took effect. */
  acknowledgedAfter: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  topology: string;
  target: Target | 'mixed';
  driver: string;
  verdict: Verdict;
  skipReason?: string;
  /** Harness error message when verdict is 'error'. */
  error?: string;
  checks: CheckResult[];
  /** Fault to the first acknowledged write through the client path; null when it never recovered. */
  failoverMs?: number | null;
  unavailabilityMs?: number | null;
  failoverInterval?: Interval;
  unavailabilityIntervals?: Interval[];
  /** Windows (ms since run start) where two writable masters coexisted. */
  splitBrainIntervals?: Interval[];
  writes: WriteCounts;
  /** First 100 lost acknowledged writes. */
  lostSample: string[];
  unexpectedSample: string[];
  startedAt: number;
  durationMs: number;
  /** Generated config files used: instance -> kind -> content. */
  configFiles: { instance: string; kind: string; content: string }[];
  /** Roles before the first fault and at the end, instance -> role. */
  rolesBefore?: Record<string, string>;
  rolesAfter?: Record<string, string>;
  warnings?: string[];
  /** Client adapter runs: the adapter, its library, and what the application saw (checkers/client.ts). */
  client?: ClientResult;
  /** The documented anomaly the scenario reproduces; a pass then reads "anomaly reproduced". */
  reproduces?: string;
  /** Each fault the history shows applied, and how many writes were acknowledged after it. */
  evidence?: FaultEvidence[];
  /** The validated topology the scenario ran on; the report draws its topology picture from it. */
  topologyModel?: Topology;
}

export interface RunResults {
  tool: 'redis-ha-chaos';
  version: string;
  runId: string;
  topology: string;
  topologyFile: string;
  target: Target | 'mixed';
  driver: string;
  seed: number;
  /** The command line that reproduces the run. */
  command: string;
  versions: Record<string, string>;
  startedAt: string;
  durationMs: number;
  verdict: Verdict;
  scenarios: ScenarioResult[];
  /** Relative path of the history file in the run folder. */
  history: string;
}

/** What a client adapter saw in one scenario (one entry per failover round). */
export interface ClientResult {
  /** Adapter name ("redis-py") and the library it reported ("redis-py 4.3.4 (sentinel)"). */
  name: string;
  library?: string;
  rounds: ClientRound[];
}

/** What the client experienced in one failover round. */
export interface ClientRound {
  /** Fault -> first acknowledged write invoked after the server-side switch (after the fault when no switch was seen), not lost (null: none). */
  clientFailoverMs: number | null;
  /** Fault -> the server side's switch (+switch-master, or the replica seen as master). */
  serverSwitchMs: number | null;
  /** Switch -> the last command the client sent to the old master (null: it never did after the switch, or the adapter does not say). */
  oldMasterMs: number | null;
  /** Longest time any command took to settle (unsettled ones count until the workload stopped). */
  stuckMs: number;
  unsettled: number;
  /** Pub/sub: messages acknowledged as published after the client's failover, and how many of them arrived. */
  publishedAfter?: number;
  deliveredAfter?: number;
  /** client-reply-faults: the reply the servers gave, how often, and what the client made of it (clientFailoverMs is then the recovery after the window). */
  replyFault?: { kind: string; injected: number; failedWithIt: number; okDuring: number };
}
