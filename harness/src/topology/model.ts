/**
 * The validated topology, with every default filled. topology/load.ts turns YAML into this;
 * everything downstream (drivers, config generation, scenarios, reports) reads only this.
 */
export type Target = 'redis' | 'reference';
export type TopologyKind = 'sentinel' | 'cluster' | 'standalone';

export interface HostSpec {
  name: string;
}

export interface RedisInstanceSpec {
  /** Unique name, e.g. "redis1" or "m1". */
  name: string;
  host: string;
  port: number;
  /** Initial role; a replica names its master instance. */
  replicaof?: string;
  /** requirepass; also used as masterauth unless masterauth is given. */
  password?: string;
  masterauth?: string;
  /** Extra redis.conf directives, appended after the generated ones (a list value repeats the directive). */
  config: Record<string, string | string[]>;
  /** The user's own redis.conf to start from (resolved absolute path). */
  configFile?: string;
  target: Target;
}

export interface SentinelSpec {
  name: string;
  host: string;
  port: number;
  /** The monitored master's name in Sentinel, e.g. "master01". */
  masterName: string;
  /** Instance name of the initial master. */
  monitors: string;
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  parallelSyncs: number;
  authPass?: string;
  config: Record<string, string | string[]>;
  configFile?: string;
  target: Target;
}

export interface HAProxyCheck {
  interMs: number;
  rise: number;
  fall: number;
  /** Check interval while a server changes state (HAProxy's fastinter); shortens detection after a failover. */
  fastinterMs?: number;
  /** The seed's tcp-check: AUTH, PING, info replication, expect role:master, QUIT. false = plain TCP check. */
  roleCheck: boolean;
}

export interface HAProxySpec {
  name: string;
  host: string;
  port: number;
  /** Instance names of the backends. */
  backends: string[];
  password?: string;
  check: HAProxyCheck;
  /** The user's own haproxy.cfg template (resolved absolute path). */
  template?: string;
}

export interface ClusterSpec {
  /** Instance names taking part, in the order given to `redis-cli --cluster create`. */
  nodes: string[];
  replicasPerMaster: number;
  nodeTimeoutMs: number;
  busPortOffset: number;
  requireFullCoverage: boolean;
  create: 'redis-cli' | 'manual';
}

export interface ToxiLinkSpec {
  /** Proxy name in Toxiproxy, e.g. "client-haproxy" or "haproxy-redis1". */
  name: string;
  /** Who uses the link: "client" (the workload) or an instance name (e.g. the HAProxy). */
  from: string;
  /** The instance the link leads to. */
  to: string;
  /** Port the proxy listens on (on the toxiproxy host). */
  listenPort: number;
}

export interface ToxiproxySpec {
  host: string;
  apiPort: number;
  links: ToxiLinkSpec[];
}

export interface Topology {
  name: string;
  /** Absolute path of the YAML it came from ("<embedded>" for built-ins). */
  file: string;
  kind: TopologyKind;
  hosts: HostSpec[];
  redis: RedisInstanceSpec[];
  sentinels: SentinelSpec[];
  haproxy?: HAProxySpec;
  cluster?: ClusterSpec;
  toxiproxy?: ToxiproxySpec;
  /** Failover budget the scenarios check against, in ms. */
  budgets: { failoverMs: number; unavailabilityMs: number };
  /** The profile applied (--profile), if any. */
  profile?: string;
  /** Names of the profiles the file defines. */
  profiles?: string[];
  /** Free text from the YAML. */
  description?: string;
  /** Docker images per role for the docker driver (redis, haproxy, toxiproxy, reference); unset roles use its defaults. */
  images?: Partial<Record<'redis' | 'haproxy' | 'toxiproxy' | 'reference', string>>;
}

/** The topology with `directives` added to every Redis server's config (a scenario's own needs, after the user's). */
export function withRedisConfig(topology: Topology, directives: Record<string, string> | undefined): Topology {
  if (!directives || Object.keys(directives).length === 0) return topology;
  return { ...topology, redis: topology.redis.map((r) => ({ ...r, config: { ...r.config, ...directives } })) };
}

/** The topology with every Redis server and Sentinel on `target` (`--target`, `compare`); unchanged without one. */
export function retarget(topology: Topology, target: Target | undefined): Topology {
  if (!target) return topology;
  return {
    ...topology,
    redis: topology.redis.map((r) => ({ ...r, target })),
    sentinels: topology.sentinels.map((s) => ({ ...s, target })),
  };
}
