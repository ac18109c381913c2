/** Steps and check bundles shared by scenarios. */
import { Redis } from 'ioredis';
import type { HistoryEvent } from '../history/events.js';
import type { Topology } from '../topology/model.js';
import type { CheckResult } from '../results/types.js';
import type { ClientPath } from '../clients/index.js';
import { scaled, waitFor } from '../support/time.js';
import { ExpectationNotMet } from '../results/expectation.js';
import type { ScenarioContext } from './types.js';

export { evidenceChecks, standardChecks, type StandardCheckOptions } from '../checkers/standard.js';

/** What a scenario waits for, worded for the failure: which check it fails, what did not happen, why it might not. */
export interface Expectation {
  /** The check an unmet expectation fails, e.g. 'promotion'. */
  check: string;
  /** What did not happen, e.g. "no replica was promoted". */
  failure: string;
  /** The event the wait counts from, e.g. "killing redis1". */
  since?: string;
  /** Which settings to look at, e.g. "check down-after-milliseconds and replica-priority". */
  hint?: string;
}

export function expectationMessage(exp: Expectation, waitedMs: number, lastError?: string): string {
  const secs = waitedMs % 1000 === 0 ? String(waitedMs / 1000) : (waitedMs / 1000).toFixed(1);
  return `${exp.failure} within ${secs} s${exp.since ? ` of ${exp.since}` : ''}${exp.hint ? `: ${exp.hint}` : ''}${lastError ? ` (last error: ${lastError})` : ''}`;
}

/**
 * Waits for something the system under test must do; when it never happens that is the system failing, so the
 * timeout becomes an ExpectationNotMet (a failed check, exit 1) worded by `exp`, not a harness error.
 */
export async function expectWithin<T>(exp: Expectation, cond: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs: number, intervalMs?: number): Promise<T> {
  try {
    return await waitFor(exp.failure, cond, timeoutMs, intervalMs);
  } catch (e) {
    const last = e instanceof Error ? /\(last error: (.*)\)$/.exec(e.message)?.[1] : undefined;
    throw new ExpectationNotMet(exp.check, expectationMessage(exp, scaled(timeoutMs), last));
  }
}

/** Which settings decide whether and how fast a failover happens in this topology. */
export function promotionHint(t: Topology): string {
  if (t.kind === 'cluster') {
    return `check cluster-node-timeout (${t.cluster?.nodeTimeoutMs ?? 15_000} ms here), cluster-replica-no-failover and cluster-replica-validity-factor`;
  }
  if (t.sentinels.length === 0) return 'nothing in this topology promotes a replica (no Sentinel)';
  const downAfter = Math.max(...t.sentinels.map((s) => s.downAfterMs));
  const quorum = t.sentinels[0]!.quorum;
  return `check down-after-milliseconds (${downAfter} ms here), the quorum (${quorum} of ${t.sentinels.length} Sentinel(s)) and replica-priority (a replica with priority 0 is never promoted)`;
}

/** The instance Sentinel monitors first, else the first instance that replicates from no one. */
export function initialMaster(t: Topology): string {
  const monitored = t.sentinels[0]?.monitors;
  if (monitored) return monitored;
  const m = t.redis.find((r) => r.replicaof === undefined);
  if (!m) throw new Error(`topology "${t.name}" has no master`);
  return m.name;
}

/** The client path a sentinel scenario writes through: HAProxy when present, else Sentinel-aware. */
export function writePath(t: Topology): ClientPath {
  if (t.kind === 'cluster') return { kind: 'cluster' };
  if (t.haproxy) return { kind: 'haproxy' };
  if (t.sentinels.length > 0) return { kind: 'sentinel' };
  return { kind: 'direct', instance: initialMaster(t) };
}

/** Current writable master according to the observer (undefined when none or several). */
export function currentMaster(ctx: ScenarioContext): string | undefined {
  const masters = [...ctx.observer.current].filter(([, s]) => s.role === 'master' && s.writable).map(([n]) => n);
  return masters.length === 1 ? masters[0] : undefined;
}

/**
 * Waits until replication is settled: the master writable, each replica linked to it, and each sentinel
 * knowing all replicas and the other sentinels (otherwise a failover cannot reach its quorum).
 */
export async function waitReplicationSettled(ctx: ScenarioContext, master: string, timeoutMs = 30_000): Promise<void> {
  const replicas = ctx.topology.redis.filter((r) => r.name !== master).map((r) => r.name);
  const masterAddr = ctx.addressOf(master);
  await expectWithin(
    { check: 'replication', failure: `${master} did not become a master with ${replicas.length} linked replica(s)`, since: 'the start', hint: 'check replicaof, masterauth and that the replicas can reach the master' },
    () => {
      const m = ctx.observer.current.get(master);
      if (!m || m.role !== 'master') return false;
      return replicas.every((r) => {
        const s = ctx.observer.current.get(r);
        return s?.role === 'replica' && s.master === masterAddr && s.linkUp === true;
      });
    },
    timeoutMs,
  );
  await waitSentinelsSettled(ctx, replicas.length, timeoutMs);
}

export async function waitSentinelsSettled(ctx: ScenarioContext, replicas: number, timeoutMs = 30_000): Promise<void> {
  const sentinels = ctx.topology.sentinels;
  if (sentinels.length === 0) return;
  const { Redis } = await import('ioredis');
  const clients = sentinels.map((s) => {
    const ep = ctx.endpoint(s.name);
    const c = new Redis({ host: ep.host, port: ep.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: 1000, retryStrategy: () => 100 });
    c.on('error', () => undefined);
    return c;
  });
  try {
    await expectWithin(
      { check: 'sentinel-discovery', failure: `the Sentinels did not all learn of ${replicas} replica(s) and of each other`, hint: 'check that each Sentinel reaches the master and the others (announce-ip, bind, auth-pass)' },
      async () => {
        for (let i = 0; i < clients.length; i++) {
          const c = clients[i]!;
          if (c.status === 'wait' || c.status === 'end') await c.connect();
          const raw = (await c.call('SENTINEL', 'MASTER', sentinels[i]!.masterName)) as string[];
          const kv: Record<string, string> = {};
          for (let j = 0; j + 1 < raw.length; j += 2) kv[raw[j]!] = raw[j + 1]!;
          if (Number(kv['num-slaves']) < replicas) return false;
          if (Number(kv['num-other-sentinels']) < sentinels.length - 1) return false;
          if ((kv['flags'] ?? '').includes('down')) return false;
        }
        return true;
      },
      timeoutMs,
      200,
    );
  } finally {
    for (const c of clients) c.disconnect();
  }
}

/** Waits for an instance other than `old` to be a writable master. */
export async function waitPromotion(ctx: ScenarioContext, old: string, timeoutMs: number, since = `the fault on ${old}`): Promise<string> {
  return expectWithin(
    { check: 'promotion', failure: 'no replica was promoted', since, hint: promotionHint(ctx.topology) },
    () => {
      const m = currentMaster(ctx);
      return m !== undefined && m !== old ? m : undefined;
    },
    timeoutMs,
  );
}

/** Waits until `name` is a replica of `master` with its link up. */
export async function waitReplicaOf(ctx: ScenarioContext, name: string, master: string, timeoutMs: number, check = 'failback'): Promise<void> {
  const addr = ctx.addressOf(master);
  await expectWithin(
    { check, failure: `${name} did not rejoin as a replica of ${master} with its link up`, hint: `check that ${name} can reach ${master} (masterauth, replica-announce-ip) and that Sentinel reconfigures returning masters` },
    () => {
      const s = ctx.observer.current.get(name);
      return s?.role === 'replica' && s.master === addr && s.linkUp === true;
    },
    timeoutMs,
  );
}




/** Marks the workload window in the facts and history. */
export function markWorkloadStart(ctx: ScenarioContext, via: string): void {
  ctx.note('workloadStart', ctx.history.mark('workload-start', via).time);
  ctx.note('via', via);
}

export function markWorkloadEnd(ctx: ScenarioContext): void {
  ctx.note('workloadEnd', ctx.history.mark('workload-end').time);
}

/** Default rate for scenario workloads: enough to see every transition, small enough for a compact history. */
export const SCENARIO_RATE = 1000;

/** One command on one instance over its own short-lived connection (admin steps: DEBUG, SENTINEL, CLUSTER FAILOVER). */
export async function adminCommand(ctx: ScenarioContext, name: string, args: string[], password?: string): Promise<unknown> {
  const ep = ctx.endpoint(name);
  const r = new Redis({ host: ep.host, port: ep.port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: scaled(2000), commandTimeout: scaled(5000), ...(password ? { password } : {}) });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.call(args[0]!, ...args.slice(1));
  } finally {
    r.disconnect();
  }
}
