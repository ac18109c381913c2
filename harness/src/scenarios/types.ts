/**
 * A scenario is plain data: what it needs, the steps it takes on a deployment (workload + nemesis), and
 * the checks that judge the history afterwards (pure functions of the recorded events, facts included).
 */
import type { Deployment, Endpoint } from '../drivers/driver.js';
import type { FactName, FactValue, HistoryEvent, ListFactName, ScenarioFacts } from '../history/events.js';

export type { ScenarioFacts };
export type { CheckOutput } from '../checkers/output.js';
import type { CheckOutput } from '../checkers/output.js';
import type { HistoryWriter } from '../history/writer.js';
import type { NemesisExecutor } from '../nemesis/executor.js';
import type { Observer } from '../observer/observer.js';
import type { Prng } from '../random/prng.js';
import type { CheckResult, Interval, WriteCounts } from '../results/types.js';
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
  /** Facts noted so far (read-only: steps record them with note / noteItem, so they are in the history). */
  readonly facts: Readonly<ScenarioFacts>;
  /** Records a fact a step saw (fault time, victim, ...) as a history event the checks read back. */
  note<K extends FactName>(name: K, value: FactValue<K>): void;
  /** Records one more item of an accumulating fact. */
  noteItem<K extends ListFactName>(name: K, value: NonNullable<ScenarioFacts[K]>[number]): void;
  /** Internal "host:port" of an instance, as replicas and sentinels report it. */
  addressOf(name: string): string;
  /** Instance name for an internal "host:port". */
  nameOfAddress(addr: string): string | undefined;
  endpoint(name: string): Endpoint;
}


export interface Scenario {
  name: string;
  description: string;
  topologyKinds: TopologyKind[];
  requires?: Requirement[];
  /**
   * The documented anomaly this scenario exists to reproduce (e.g. an empty restart wiping the replicas): its
   * pass means "anomaly reproduced", and the report says so rather than showing a plain pass next to lost writes.
   */
  reproduces?: string;
  /** redis.conf directives this scenario adds to every Redis server it deploys (client-reply-faults: enable-debug-command). */
  redisConfig?: Record<string, string>;
  /** Extra reason this topology cannot run the scenario (undefined = it can). */
  unsupported?(topology: Topology): string | undefined;
  run(ctx: ScenarioContext): Promise<void>;
  /** `facts` is factsOf(events): what the steps recorded, read back from the history. */
  check(events: HistoryEvent[], facts: ScenarioFacts, topology: Topology): CheckOutput;
}
