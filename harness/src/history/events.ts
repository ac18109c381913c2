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

export type ToxicType = 'latency' | 'bandwidth' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data' | 'down';

export type FaultKind =
  | 'kill'
  | 'terminate'
  | 'pause'
  | 'restart'
  | 'stop-host'
  | 'partition-isolate'
  | 'partition-split'
  | 'partition-one-way'
  | `toxic-${ToxicType}`;

/** One fault of a nemesis schedule; recorded in the history as the plan a scenario followed. */
export interface ScheduledFault {
  /** Offset from the schedule's start, ms. */
  at: number;
  fault: FaultKind;
  /**
   * Instance names (kill/terminate/pause/restart), host names (stop-host, partitions: for split the
   * first `splitAt` hosts form one side; for one-way [from, to]) or Toxiproxy link names (toxics).
   */
  targets: string[];
  /** How long the fault lasts before it is undone (0 for restart). */
  duration: number;
  splitAt?: number;
  /** Toxic attributes (e.g. latency, jitter, rate, timeout, bytes). */
  attributes?: Record<string, number>;
}

/** One step of a seed walk-through: what the seed shows, and what this run saw. */
export interface SeedStep {
  step: string;
  ok: boolean;
  detail: string;
  at: number;
}

/** A SET sent straight to a surviving master while a cluster shard was lost. */
export interface ShardLossProbe {
  at: number;
  lostShardKey: string;
  otherKey: string;
  /** The lost shard's key was refused: CLUSTERDOWN, or MOVED to one of the dead instances (nothing can serve it). */
  lostRefused: boolean;
}

/** What a node answered when a key was sent to it directly (cluster routing). */
export interface RoutingReply {
  key: string;
  node: string;
  reply: string;
}

/** Round of a two-round failover scenario. */
export type Round = 1 | 2;

/**
 * What a scenario's steps saw, by name. Each is recorded as a FactEvent when the step sees it, so the
 * checkers read it from history.jsonl; `factsOf(events)` folds the events back into this record.
 */
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
  /** Rounds of a two-round failover (victim, fault, promoted replica, return of the victim). */
  faultAt1?: number;
  faultAt2?: number;
  victim1?: string;
  victim2?: string;
  promoted1?: string;
  promoted2?: string;
  healAt1?: number;
  healAt2?: number;
  /** Internal "host:port" of each instance, by name. */
  addresses?: Record<string, string>;
  /** Instance name of each internal "host:port". */
  nodeByAddress?: Record<string, string>;
  /** Cluster: the replica expected to take over, the failed master's slot ranges, the instances left. */
  replica?: string;
  victimSlots?: string;
  victims?: string[];
  survivors?: string[];
  host?: string;
  promotedAt?: number;
  /** When the survivors had (again) covered every slot, or agreed a shard was lost. */
  coverageAt?: number;
  degradedAt?: number;
  /** Hosts holding more than one master after the failover, and their masters. */
  crowdedHosts?: Record<string, string[]>;
  /** Which instance owns each routing key's slot. */
  slotOwner?: Record<string, string>;
  /** ms until the topology converged after the chaos, null when it never did. */
  convergedMs?: number | null;
  /** [start, end] of each toxic's time in effect, by fault kind. */
  windows?: Record<string, [number, number]>;
  persistenceOff?: boolean;
  schedule?: ScheduledFault[];
  faultErrors?: string[];
  faultsSkipped?: string[];
  testKeyBackMs?: number;
  routing?: RoutingReply[];
  /** Client scenarios: the adapter under test, and whether it wrote at all before the fault. */
  client?: { name: string; library: string };
  clientNoWriteBeforeFault?: boolean;
  /** The system never did what a step waited for: the check that fails, and why (recorded by the engine). */
  expectationNotMet?: { check: string; message: string };
  /** Facts that accumulate, one event per item. */
  seedSteps?: SeedStep[];
  shardLossProbes?: ShardLossProbe[];
  clientRounds?: ClientRound[];
  replyFaults?: ReplyFaultWindow[];
}

/** One window of protocol faults (client-reply-faults): the reference servers answered matching commands with `kind`. */
export interface ReplyFaultWindow {
  kind: string;
  targets: string[];
  /** The rule as sent after DEBUG REPLY-FAULT (kind, match, pattern, probability, count, seed). */
  rule: string[];
  startAt: number;
  endAt: number;
  /** Commands the rules matched, and how many of them they answered (DEBUG REPLY-FAULT STATS, summed over targets). */
  matched: number;
  injected: number;
}

/** One failover round of a client scenario: what failed, when, and how the client may name it. */
export interface ClientRound {
  round: number;
  victim: string;
  faultAt: number;
  /** "host:port" forms of the victim an adapter may report as the server it used. */
  victimAddrs: string[];
  /** Cluster: the victim's slot ranges (the keys judged for this round). */
  victimSlots?: string;
}

export type ListFactName = 'seedSteps' | 'shardLossProbes' | 'clientRounds' | 'replyFaults';
export type FactName = Exclude<keyof ScenarioFacts, ListFactName>;
export type FactValue<K extends FactName> = Exclude<ScenarioFacts[K], undefined>;
type ItemOf<K extends ListFactName> = Exclude<ScenarioFacts[K], undefined>[number];

/** A fact a scenario's step noted: one specific kind per name, with its value's type. */
export type FactEvent = { [K in FactName]: { type: 'fact'; scenario: string; name: K; value: FactValue<K>; time: number } }[FactName];

/** One more item of an accumulating fact (a seed step, a probe). */
export type FactItemEvent = { [K in ListFactName]: { type: 'fact-item'; scenario: string; name: K; value: ItemOf<K>; time: number } }[ListFactName];

export type HistoryEvent = OpEvent | FaultEvent | RoleObservation | MarkEvent | FactEvent | FactItemEvent;

/** Applies one fact event to a record of facts (later facts of the same name replace earlier ones). */
export function applyFact(facts: ScenarioFacts, ev: FactEvent | FactItemEvent): void {
  const bag = facts as Record<string, unknown>;
  if (ev.type === 'fact') bag[ev.name] = ev.value;
  else bag[ev.name] = [...((bag[ev.name] as unknown[] | undefined) ?? []), ev.value];
}

/** The facts a scenario's steps recorded, read back from its events. */
export function factsOf(events: readonly HistoryEvent[]): ScenarioFacts {
  const facts: ScenarioFacts = {};
  for (const e of events) if (e.type === 'fact' || e.type === 'fact-item') applyFact(facts, e);
  return facts;
}
