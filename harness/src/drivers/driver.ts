/**
 * What a driver gives the rest of the harness: a running deployment it can break and must stop.
 * A driver knows nothing about workloads or checkers.
 */
import type { Target, Topology } from '../topology/model.js';

export interface Endpoint {
  /** Address the harness process connects to (loopback alias, namespace address or container IP). */
  host: string;
  port: number;
}

export type InstanceKind = 'redis' | 'sentinel' | 'haproxy' | 'toxiproxy';

export interface RunningInstance {
  /** The name from the topology (instance, sentinel, haproxy), or "toxiproxy". */
  name: string;
  kind: InstanceKind;
  /** Host name from the topology. */
  host: string;
  endpoint: Endpoint;
  target?: Target;
  /** Absolute path of its log in the run folder. */
  logFile: string;
}

/** Partitions are expressed over topology host names. */
export type PartitionSpec =
  /** `clients`: also cut the harness's side (its observer and the client adapters reach hosts from outside them). */
  | { kind: 'isolate'; host: string; clients?: boolean }
  | { kind: 'split'; sides: [string[], string[]] }
  /** `from` cannot reach `to`; `to` can still reach `from`. */
  | { kind: 'one-way'; from: string; to: string };

export interface GeneratedFile {
  /** Which instance it belongs to. */
  instance: string;
  /** e.g. "redis.conf", "sentinel.conf", "haproxy.cfg". */
  kind: string;
  path: string;
  content: string;
}

export interface UpOptions {
  runId: string;
  runDir: string;
  /** Overrides the per-role target of the topology ("as the topology says" when undefined). */
  target?: Target;
  log?: (line: string) => void;
}

export interface Deployment {
  readonly runId: string;
  readonly runDir: string;
  readonly topology: Topology;
  readonly driverName: string;
  instances(): RunningInstance[];
  /** Where the harness reaches an instance; also for the HAProxy and toxiproxy. */
  endpoint(name: string): Endpoint;
  /** Address an instance is known by inside the topology (what Sentinel/Cluster announce). */
  internalAddress(name: string): Endpoint;
  /** Toxiproxy API base URL, when the topology routes links through it. */
  readonly toxiproxyUrl?: string;
  /** Where the workload connects for a link the topology routes through Toxiproxy. */
  linkEndpoint?(linkName: string): Endpoint;
  /** Why partitions are impossible here (e.g. not root), or undefined when they work. */
  readonly partitionUnsupportedReason?: string;
  generatedFiles(): GeneratedFile[];
  versions(): Promise<Record<string, string>>;

  // Faults, by instance name.
  kill(name: string): Promise<void>;
  terminate(name: string): Promise<void>;
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** Start again with the same config and data dir (after kill/terminate/stop). */
  start(name: string): Promise<void>;
  restart(name: string): Promise<void>;
  stopHost(host: string): Promise<void>;
  startHost(host: string): Promise<void>;
  partition(spec: PartitionSpec): Promise<void>;
  heal(): Promise<void>;
  isRunning(name: string): boolean;

  /** Stops everything it started; idempotent; safe to call from a signal handler. */
  down(): Promise<void>;
}

export interface Driver {
  readonly name: 'local' | 'docker';
  up(topology: Topology, opts: UpOptions): Promise<Deployment>;
}
