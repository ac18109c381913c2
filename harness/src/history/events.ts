/**
 * One line of history.jsonl. Times are ms since the run's monotonic start (performance.now based).
 * Checkers read only these.
 */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface OpEvent {
  type: 'op';
  scenario: string;
  /** Logical client (Jepsen's process); a crashed ('info') process is not reused. */
  process: number;
  /** 'add' (set workload), 'write' / 'read' (key per write), 'incr', 'read-all' (final read). */
  f: string;
  /** Which path: 'direct:redis1', 'haproxy', 'sentinel', 'cluster', 'toxiproxy:client-haproxy'. */
  via: string;
  phase: OpType;
  /** Key and value written, or what a read returned. */
  key?: string;
  value?: unknown;
  error?: string;
  /** Client adapters: the server ("host:port") the adapter says the command went to. */
  addr?: string;
  /** Client adapters: the client never settled this command; recorded as 'info' when the workload stopped. */
  unsettled?: boolean;
  time: number;
}

export interface FaultEvent {
  type: 'fault';
  scenario: string;
  /** e.g. 'kill', 'pause', 'restart', 'stop-host', 'partition-isolate', 'toxic-latency', 'heal'. */
  name: string;
  targets: string[];
  phase: 'start' | 'end';
  detail?: string;
  time: number;
}

export interface RoleObservation {
  type: 'observation';
  scenario: string;
  source: 'info' | 'sentinel' | 'cluster';
  /** Instance observed (or the sentinel that reported). */
  instance: string;
  /** 'master' | 'replica' | 'down' | 'sentinel-switch' | cluster node flags. */
  role: string;
  /** For replicas: "host:port" of its master; for sentinel: the current master address. */
  master?: string;
  /** Whether a write would be accepted (master, not min-replicas-blocked, cluster ok). */
  writable?: boolean;
  linkUp?: boolean;
  detail?: Record<string, string | number | boolean>;
  time: number;
}

export interface MarkEvent {
  type: 'mark';
  scenario: string;
  /** Named instants the checkers use: 'scenario-start', 'fault', 'heal', 'workload-end', 'scenario-end'. */
  name: string;
  detail?: string;
  time: number;
}

export type HistoryEvent = OpEvent | FaultEvent | RoleObservation | MarkEvent;
