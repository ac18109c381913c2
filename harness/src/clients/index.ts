/**
 * ioredis clients per path (direct, HAProxy, Sentinel-aware, Cluster-aware, Toxiproxy link), all with short
 * explicit timeouts and no offline queue, so a failed op comes back as fail/info instead of hanging.
 */
import { Cluster, Redis } from 'ioredis';
import type { NatMap, RedisOptions } from 'ioredis';
import type { Deployment, Endpoint } from '../drivers/driver.js';
import { scaled } from '../support/time.js';

export type ClientPath =
  | { kind: 'direct'; instance: string }
  | { kind: 'haproxy' }
  | { kind: 'sentinel' }
  | { kind: 'cluster' }
  | { kind: 'toxiproxy'; link: string };

export type RedisLike = Redis | Cluster;

export interface ClientTimeouts {
  connectMs: number;
  commandMs: number;
}

export const DEFAULT_TIMEOUTS: ClientTimeouts = { connectMs: 1000, commandMs: 1000 };

/** The `via` label recorded on every op. */
export function pathLabel(path: ClientPath): string {
  switch (path.kind) {
    case 'direct':
      return `direct:${path.instance}`;
    case 'toxiproxy':
      return `toxiproxy:${path.link}`;
    default:
      return path.kind;
  }
}

export function parsePath(label: string): ClientPath {
  if (label === 'haproxy' || label === 'sentinel' || label === 'cluster') return { kind: label };
  if (label.startsWith('direct:')) return { kind: 'direct', instance: label.slice(7) };
  if (label.startsWith('toxiproxy:')) return { kind: 'toxiproxy', link: label.slice(10) };
  throw new Error(`unknown client path "${label}" (use haproxy, sentinel, cluster, direct:<instance> or toxiproxy:<link>)`);
}

/** The password a client needs for data instances (the topology uses one password for the whole set). */
export function dataPassword(dep: Deployment): string | undefined {
  const withPass = dep.topology.redis.find((r) => r.password !== undefined);
  return withPass?.password ?? dep.topology.haproxy?.password;
}

/** Maps what Sentinel/Cluster announce (internal addresses) to what this process can reach. */
export function natMapFor(dep: Deployment): Record<string, Endpoint> | undefined {
  const map: Record<string, Endpoint> = {};
  let differs = false;
  for (const r of dep.topology.redis) {
    let internal: Endpoint;
    let external: Endpoint;
    try {
      internal = dep.internalAddress(r.name);
      external = dep.endpoint(r.name);
    } catch {
      continue;
    }
    map[`${internal.host}:${internal.port}`] = external;
    if (internal.host !== external.host || internal.port !== external.port) differs = true;
  }
  return differs ? map : undefined;
}

function baseOptions(t: ClientTimeouts, password: string | undefined): RedisOptions {
  const opts: RedisOptions = {
    connectTimeout: scaled(t.connectMs),
    commandTimeout: scaled(t.commandMs),
    // A black-holed connection (partition behind a proxy) must be dropped and reopened, not waited on forever.
    socketTimeout: scaled(t.commandMs) + 50,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    enableReadyCheck: false,
    lazyConnect: true,
    retryStrategy: () => scaled(100),
  };
  if (password !== undefined) opts.password = password;
  return opts;
}

export interface OpenedClient {
  redis: RedisLike;
  via: string;
  close(): Promise<void>;
}

/** Opens (connects) a client on the given path; the connect itself may fail and is retried by the caller. */
export function createClient(dep: Deployment, path: ClientPath, timeouts: ClientTimeouts = DEFAULT_TIMEOUTS): OpenedClient {
  const password = dataPassword(dep);
  const opts = baseOptions(timeouts, password);
  let redis: RedisLike;
  switch (path.kind) {
    case 'direct': {
      const ep = dep.endpoint(path.instance);
      redis = new Redis({ ...opts, host: ep.host, port: ep.port });
      break;
    }
    case 'haproxy': {
      const hp = dep.topology.haproxy;
      if (!hp) throw new Error(`topology "${dep.topology.name}" has no haproxy; choose another client path`);
      const ep = dep.endpoint(hp.name);
      redis = new Redis({ ...opts, host: ep.host, port: ep.port });
      break;
    }
    case 'toxiproxy': {
      if (!dep.linkEndpoint) throw new Error(`deployment has no Toxiproxy links (link "${path.link}")`);
      const ep = dep.linkEndpoint(path.link);
      redis = new Redis({ ...opts, host: ep.host, port: ep.port });
      break;
    }
    case 'sentinel': {
      const sentinels = dep.topology.sentinels;
      if (sentinels.length === 0) throw new Error(`topology "${dep.topology.name}" has no sentinels`);
      const nat = natMapFor(dep) as NatMap | undefined;
      const sentinelOpts: RedisOptions = {
        ...opts,
        name: sentinels[0]!.masterName,
        sentinels: sentinels.map((s) => dep.endpoint(s.name)),
        sentinelRetryStrategy: () => scaled(100),
        sentinelMaxConnections: 3,
      };
      if (nat) sentinelOpts.natMap = nat;
      redis = new Redis(sentinelOpts);
      break;
    }
    case 'cluster': {
      const cl = dep.topology.cluster;
      if (!cl) throw new Error(`topology "${dep.topology.name}" is not a cluster`);
      const nat = natMapFor(dep) as NatMap | undefined;
      const { enableOfflineQueue: _e, retryStrategy: _r, ...redisOptions } = opts;
      const cluster = new Cluster(
        cl.nodes.map((n) => dep.endpoint(n)),
        {
          redisOptions,
          enableOfflineQueue: false,
          lazyConnect: true,
          maxRedirections: 4,
          retryDelayOnFailover: scaled(100),
          retryDelayOnClusterDown: scaled(100),
          retryDelayOnTryAgain: scaled(100),
          clusterRetryStrategy: () => scaled(200),
          slotsRefreshTimeout: scaled(timeouts.commandMs),
          ...(nat ? { natMap: nat } : {}),
        },
      );
      redis = cluster;
      break;
    }
  }
  // Errors are surfaced per command; an unhandled 'error' event would crash the run.
  redis.on('error', () => undefined);
  return {
    redis,
    via: pathLabel(path),
    close: async () => {
      redis.disconnect();
    },
  };
}

/**
 * Calls `onRedirect` with each MOVED / ASK reply ("MOVED 3999 127.0.0.1:7002") the Cluster client gets and follows.
 * ioredis handles redirections inside its (untyped) handleError, so that method is wrapped.
 */
export function watchRedirects(redis: RedisLike, onRedirect: (reply: string) => void): void {
  if (!(redis instanceof Cluster)) return;
  const c = redis as unknown as { handleError(error: Error, ttl: unknown, handlers: unknown): void };
  const original = c.handleError.bind(c);
  c.handleError = (error, ttl, handlers) => {
    const msg = error?.message ?? '';
    if (msg.startsWith('MOVED ') || msg.startsWith('ASK ')) onRedirect(msg);
    original(error, ttl, handlers);
  };
}

/** Outcome class of a failed command: 'fail' when it certainly did not take effect, 'info' when unknown. */
export function classifyError(err: unknown): { type: 'fail' | 'info'; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  if (name === 'ReplyError') return { type: 'fail', message };
  // Never written to the socket: the offline queue is off.
  if (/isn't writeable|isn't ready and enableOfflineQueue|None of startup nodes|Failed to refresh slots cache|connection in subscriber mode/i.test(message)) {
    return { type: 'fail', message };
  }
  if (/^(READONLY|NOREPLICAS|CLUSTERDOWN|MOVED|ASK|TRYAGAIN|LOADING|MASTERDOWN|NOAUTH|WRONGPASS|ERR|WRONGTYPE|BUSY|OOM|MISCONF|NOPERM|CROSSSLOT)\b/.test(message)) {
    return { type: 'fail', message };
  }
  // Timeouts and connections closed after sending: the write may or may not have been applied.
  return { type: 'info', message };
}

/** Connects, tolerating a deployment that is still settling; throws after the deadline. */
export async function connectWithin(client: OpenedClient, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + scaled(timeoutMs);
  let lastErr: unknown;
  while (performance.now() < deadline) {
    try {
      if (client.redis.status === 'wait' || client.redis.status === 'end') await client.redis.connect();
      if (client.redis.status === 'ready' || client.redis.status === 'connect') return;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, 50));
    if (client.redis.status === 'ready') return;
  }
  throw new Error(`could not connect via ${client.via}: ${lastErr instanceof Error ? lastErr.message : 'timeout'}`);
}
