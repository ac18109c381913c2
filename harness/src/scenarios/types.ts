/**
 * A scenario is plain data: what it needs, the steps it takes on a deployment (workload + nemesis), and
 * the checks that judge the history afterwards (pure functions of the events and the facts the steps noted).
 */
import type { Deployment, Endpoint } from '../drivers/driver.js';
import type { HistoryEvent } from '../history/events.js';
import type { HistoryWriter } from '../history/writer.js';
import type { NemesisExecutor } from '../nemesis/executor.js';
import type { Observer } from '../observer/observer.js';
import type { Prng } from '../random/prng.js';
import type { CheckResult, ClientResult, Interval, WriteCounts } from '../results/types.js';
import type { Topology, TopologyKind } from '../topology/model.js';
import type { Workload, WorkloadOptions } from '../workload/workload.js';
import type { AdapterSpec } from '../adapters/process.js';
import type { ClientWorkload, ClientWorkloadOptions } from '../adapters/workload.js';

export type Requirement = 'partition' | 'haproxy' | 'sentinel' | 'toxiproxy' | 'replicas';

export interface ScenarioContext {
  dep: Deployment;
  topology: Topology;
  history: HistoryWriter;
  observer: Observer;
  nemesis: NemesisExecutor;
  rng: Prng;
  seed: number;
  log: (line: string) => void;
  /** Creates, connects and starts a workload (stopped and closed by the engine if the scenario does not). */
  startWorkload(opts: WorkloadOptions): Promise<Workload>;
  /** The client adapter under test (--client; the shipped ioredis adapter by default). */
  clientAdapter: AdapterSpec;
  /** Starts the adapter and its workload (closed by the engine if the scenario does not). */
  startClient(opts?: Omit<ClientWorkloadOptions, 'spec'>): Promise<ClientWorkload>;
  /** Facts the steps note for the checks (fault times, instance names, ...). */
  facts: ScenarioFacts;
  /** Internal "host:port" of an instance, as replicas and sentinels report it. */
  addressOf(name: string): string;
  /** Instance name for an internal "host:port". */
  nameOfAddress(addr: string): string | undefined;
  endpoint(name: string): Endpoint;
}

export interface ScenarioFacts {
  /** When the (main) fault took effect. */
  faultAt?: number;
  /** When the deployment was healed / the failed node returned. */
  healAt?: number;
  workloadStart?: number;
  workloadEnd?: number;
  /** The instance that failed. */
  oldMaster?: string;
  /** Via label of the workload judged for failover time. */
  via?: string;
  /** Free-form facts for scenario-specific checks. */
  [key: string]: unknown;
}

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

export interface Scenario {
  name: string;
  description: string;
  topologyKinds: TopologyKind[];
  requires?: Requirement[];
  /** Extra reason this topology cannot run the scenario (undefined = it can). */
  unsupported?(topology: Topology): string | undefined;
  run(ctx: ScenarioContext): Promise<void>;
  check(events: HistoryEvent[], facts: ScenarioFacts, topology: Topology): CheckOutput;
}
