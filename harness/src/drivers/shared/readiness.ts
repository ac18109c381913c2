/**
 * Readiness probes both drivers run: the same conditions, whatever starts the processes (child processes or
 * containers). A driver supplies where instances answer and how to wait on one (which knows when it died).
 */
import net from 'node:net';
import type { Endpoint, InstanceKind } from '../driver.js';
import type { RedisInstanceSpec, SentinelSpec, Topology } from '../../topology/model.js';
import { pairs, respCall } from '../local/probe.js';
import { FatalWaitError } from '../../support/time.js';
import { parseInfo } from '../../support/info.js';
import { ExpectationNotMet } from '../../results/expectation.js';

/** A running instance that never reaches the state its configuration promises: the configuration failing (exit 1), with a hint. */
async function expectConfigured<T>(check: string, hint: string, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (e) {
    if (e instanceof FatalWaitError || !(e instanceof Error) || !e.message.startsWith('timed out')) throw e;
    throw new ExpectationNotMet(check, `${e.message.replace(/^timed out after (\d+) ms waiting for (.*)$/, (_m, ms: string, what: string) => `${what}: not within ${Math.round(Number(ms) / 1000)} s of starting`)}: ${hint}`);
  }
}

export interface ReadinessTarget {
  readonly topology: Topology;
  endpoint(name: string): Endpoint;
  /** Polls check until it holds, failing at once when the instance has exited. */
  awaitMember<T>(name: string, what: string, check: () => Promise<T | false | undefined>): Promise<T>;
}

export async function waitRedisPing(t: ReadinessTarget, r: RedisInstanceSpec): Promise<void> {
  const ep = t.endpoint(r.name);
  await t.awaitMember(r.name, `${r.name} to answer PING`, async () => (await respCall(ep.host, ep.port, ['PING'], r.password, 500)) === 'PONG');
}

export async function waitReplicaLinkUp(t: ReadinessTarget, r: RedisInstanceSpec): Promise<void> {
  const ep = t.endpoint(r.name);
  await expectConfigured('replication', `check ${r.name}'s replicaof and masterauth, and that it can reach ${r.replicaof}`, () => t.awaitMember(r.name, `${r.name} replication link to ${r.replicaof} up`, async () => {
    const info = parseInfo(await respCall(ep.host, ep.port, ['INFO', 'replication'], r.password, 500));
    return info.master_link_status === 'up';
  }));
}

export async function waitSentinelSeesAll(t: ReadinessTarget, s: SentinelSpec): Promise<void> {
  const ep = t.endpoint(s.name);
  const replicas = t.topology.redis.filter((r) => r.replicaof === s.monitors).length;
  const peers = t.topology.sentinels.filter((x) => x.masterName === s.masterName && x.name !== s.name).length;
  await expectConfigured('sentinel-discovery', `check ${s.name}'s sentinel monitor, auth-pass and announce settings, and that it reaches the instances and the other Sentinels`, () => t.awaitMember(s.name, `${s.name} to see ${s.masterName} with ${replicas} replica(s) and ${peers} other sentinel(s)`, async () => {
    const master = pairs(await respCall(ep.host, ep.port, ['SENTINEL', 'MASTER', s.masterName], undefined, 500));
    if (master.flags !== 'master' || Number(master['num-slaves']) < replicas || Number(master['num-other-sentinels']) < peers) return false;
    const reps = await respCall(ep.host, ep.port, ['SENTINEL', 'REPLICAS', s.masterName], undefined, 500);
    return Array.isArray(reps) && reps.map(pairs).every((p) => p.flags === 'slave' && p['master-link-status'] === 'ok');
  }));
}

/** After start(): HAProxy (and the kinds in tcpKinds) only accept connections; servers must answer PING. */
export async function waitAnswering(t: ReadinessTarget, name: string, kind: InstanceKind, tcpKinds: InstanceKind[]): Promise<void> {
  const ep = t.endpoint(name);
  if (tcpKinds.includes(kind)) {
    await t.awaitMember(name, `${name} to accept connections`, () => tcpOpen(ep.host, ep.port));
  } else {
    const pw = kind === 'redis' ? t.topology.redis.find((r) => r.name === name)?.password : undefined;
    await t.awaitMember(name, `${name} to answer PING`, async () => (await respCall(ep.host, ep.port, ['PING'], pw, 500)) === 'PONG');
  }
}

export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** One command on HAProxy's admin socket; resolves with everything it answered. */
export function haproxyAdmin(socketPath: string, command: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const c = net.connect({ path: socketPath });
    let out = '';
    const timer = setTimeout(() => c.destroy(new Error('haproxy admin socket: no answer')), 1000);
    c.on('connect', () => c.write(`${command}\n`));
    c.on('data', (d) => (out += d.toString()));
    c.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Status per bk_redis server name ("Redis1"), from `show stat`. */
export async function haproxyStat(socketPath: string): Promise<Record<string, string>> {
  const lines = (await haproxyAdmin(socketPath, 'show stat')).split('\n').filter(Boolean);
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const [iPx, iSv, iStatus] = ['pxname', 'svname', 'status'].map((k) => header.indexOf(k));
  const out: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const cols = l.split(',');
    if (cols[iPx] === 'bk_redis' && cols[iSv] !== 'BACKEND') out[cols[iSv]] = cols[iStatus];
  }
  return out;
}

/** The instance HAProxy must route to once ready: the monitored master, or the topology's master without Sentinel. */
export function haproxyMaster(topology: Topology): string | undefined {
  return topology.sentinels[0]?.monitors ?? topology.redis.find((r) => r.replicaof === undefined)?.name;
}

/** HAProxy names a backend server after its instance, capitalised (config-gen does the same). */
export function haproxyServerName(instance: string): string {
  return instance.charAt(0).toUpperCase() + instance.slice(1);
}

/** Backend status per instance name ("UP", "DOWN", "UP 1/2", ...), or {} without an HAProxy. */
export async function haproxyBackendStatus(topology: Topology, socketPath: string): Promise<Record<string, string>> {
  const h = topology.haproxy;
  if (!h) return {};
  const raw = await haproxyStat(socketPath);
  const out: Record<string, string> = {};
  for (const b of h.backends) out[b] = raw[haproxyServerName(b)] ?? 'unknown';
  return out;
}
