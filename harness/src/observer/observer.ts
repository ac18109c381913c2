/**
 * Samples every instance's role at a fixed interval (INFO replication, CLUSTER INFO/NODES) and listens to
 * every sentinel's events, writing RoleObservations into the history. A sample is recorded when it changes,
 * and at least once a second, so the history stays small yet every transition is visible.
 */
import { Redis } from 'ioredis';
import type { Deployment } from '../drivers/driver.js';
import type { RoleObservation } from '../history/events.js';
import type { HistoryWriter } from '../history/writer.js';
import type { Target } from '../topology/model.js';
import { dataPassword } from '../clients/index.js';
import { delay, scaled } from '../support/time.js';
import { parseInfo } from '../support/info.js';

export { parseInfo };

export interface ObserverOptions {
  intervalMs?: number;
  /** Re-record an unchanged state this often. */
  heartbeatMs?: number;
  /** Per-sample command timeout. */
  timeoutMs?: number;
}

export interface InstanceState {
  role: string;
  master?: string;
  writable: boolean;
  linkUp?: boolean;
  detail: Record<string, string | number | boolean>;
}

/** Role state from INFO replication; minReplicas is the instance's min-replicas-to-write (0 = off). */
export function stateFromReplicationInfo(info: Record<string, string>, minReplicas: number): InstanceState {
  const role = info['role'] === 'slave' ? 'replica' : (info['role'] ?? 'unknown');
  const detail: Record<string, string | number | boolean> = {};
  const st: InstanceState = { role, writable: false, detail };
  if (role === 'replica') {
    st.master = `${info['master_host']}:${info['master_port']}`;
    st.linkUp = info['master_link_status'] === 'up';
    detail['master_link_status'] = info['master_link_status'] ?? '';
  } else if (role === 'master') {
    const connected = Number(info['connected_slaves'] ?? '0');
    detail['connected_slaves'] = connected;
    const good = info['min_slaves_good_slaves'];
    let blocked = false;
    if (minReplicas > 0) {
      const goodN = good !== undefined ? Number(good) : connected;
      detail['min_slaves_good_slaves'] = goodN;
      blocked = goodN < minReplicas;
    }
    detail['min_replicas_blocked'] = blocked;
    st.writable = !blocked;
  }
  return st;
}

/** Detail fields whose change is a transition worth recording (counters such as connected_slaves are not). */
const TRACKED = ['cluster_state', 'slots', 'flags', 'min_replicas_blocked', 'master_link_status', 'cluster_slots_ok'];

function sameState(a: InstanceState | undefined, b: InstanceState): boolean {
  return (
    !!a &&
    a.role === b.role &&
    a.master === b.master &&
    a.writable === b.writable &&
    a.linkUp === b.linkUp &&
    TRACKED.every((k) => a.detail[k] === b.detail[k])
  );
}

interface Watched {
  name: string;
  client: Redis;
  minReplicas?: number;
  minReplicasReadAt: number;
  last?: InstanceState;
  lastRecordedAt: number;
}

export class Observer {
  private readonly watched: Watched[] = [];
  private subscribers: Redis[] = [];
  private ctl = new AbortController();
  private loop?: Promise<void>;
  private readonly intervalMs: number;
  private readonly heartbeatMs: number;
  private readonly timeoutMs: number;
  /** Latest state per instance, for scenarios that wait on roles. */
  readonly current = new Map<string, InstanceState>();

  constructor(
    private readonly dep: Deployment,
    private readonly history: HistoryWriter,
    opts: ObserverOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 100;
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 500;
  }

  private direct(name: string, password: string | undefined): Redis {
    const ep = this.dep.endpoint(name);
    const c = new Redis({
      host: ep.host,
      port: ep.port,
      ...(password !== undefined ? { password } : {}),
      connectTimeout: scaled(this.timeoutMs),
      commandTimeout: scaled(this.timeoutMs),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      lazyConnect: true,
      retryStrategy: () => scaled(this.intervalMs),
    });
    c.on('error', () => undefined);
    return c;
  }

  async start(): Promise<void> {
    const password = dataPassword(this.dep);
    for (const r of this.dep.topology.redis) {
      const mr = r.config['min-replicas-to-write'] ?? r.config['min-slaves-to-write'];
      const w: Watched = { name: r.name, client: this.direct(r.name, password), lastRecordedAt: -Infinity, minReplicasReadAt: -Infinity };
      if (mr !== undefined) w.minReplicas = Number(Array.isArray(mr) ? mr[mr.length - 1] : mr);
      this.watched.push(w);
    }
    for (const s of this.dep.topology.sentinels) await this.subscribeSentinel(s.name, s.target);
    await this.sampleAll();
    this.loop = this.run();
  }

  /** Records every event a Sentinel publishes; `target` says which kind published it (mixed quorums: who led). */
  private async subscribeSentinel(name: string, target: Target): Promise<void> {
    const sub = this.direct(name, undefined);
    this.subscribers.push(sub);
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
      const ev: Omit<RoleObservation, 'type' | 'scenario' | 'time'> = {
        source: 'sentinel',
        instance: name,
        role: channel === '+switch-master' ? 'sentinel-switch' : channel,
        detail: { event: channel, message, target },
      };
      if (channel === '+switch-master') {
        // "<name> <old-ip> <old-port> <new-ip> <new-port>"
        const p = message.split(' ');
        if (p.length >= 5) ev.master = `${p[3]}:${p[4]}`;
      }
      this.history.observation(ev);
    });
    // Sentinel events matter from the first second; retry the subscription in the background if it fails now.
    const trySub = async (): Promise<void> => {
      try {
        if (sub.status === 'wait') await sub.connect();
        await sub.psubscribe('*');
      } catch {
        if (!this.ctl.signal.aborted) setTimeout(() => void trySub(), scaled(200)).unref();
      }
    };
    await trySub();
  }

  /** One loop per instance: a slow or timed-out instance must not delay the samples of the others. */
  private async run(): Promise<void> {
    const signal = this.ctl.signal;
    await Promise.all(
      this.watched.map(async (w) => {
        while (!signal.aborted) {
          const started = performance.now();
          await this.sample(w);
          const wait = this.intervalMs - (performance.now() - started);
          if (wait > 0) await delay(wait, signal);
        }
      }),
    );
  }

  private async sampleAll(): Promise<void> {
    await Promise.all(this.watched.map((w) => this.sample(w)));
  }

  private async sample(w: Watched): Promise<void> {
    let st: InstanceState;
    try {
      if (w.client.status === 'wait' || w.client.status === 'end') await w.client.connect();
      // Re-read every second: scenarios change min-replicas-to-write at runtime with CONFIG SET.
      if (performance.now() - w.minReplicasReadAt > 1000) {
        const cfg = (await w.client.config('GET', 'min-replicas-to-write')) as string[];
        w.minReplicas = Number(cfg[1] ?? '0');
        w.minReplicasReadAt = performance.now();
      }
      st = stateFromReplicationInfo(parseInfo(await w.client.info('replication')), w.minReplicas ?? 0);
      if (this.dep.topology.kind === 'cluster') {
        const ci = parseInfo((await w.client.cluster('INFO')) as string);
        const nodes = String(await w.client.cluster('NODES'));
        const myself = nodes.split('\n').find((l) => l.includes('myself')) ?? '';
        st.detail['cluster_state'] = ci['cluster_state'] ?? '';
        st.detail['cluster_slots_assigned'] = Number(ci['cluster_slots_assigned'] ?? '0');
        st.detail['cluster_slots_ok'] = Number(ci['cluster_slots_ok'] ?? '0');
        st.detail['cluster_known_nodes'] = Number(ci['cluster_known_nodes'] ?? '0');
        st.detail['flags'] = myself.split(' ')[2] ?? '';
        st.detail['failed_nodes'] = nodes.split('\n').filter((l) => /\bfail\b/.test(l.split(' ')[2] ?? '')).length;
        if (ci['cluster_state'] !== 'ok') st.writable = false;
        // Slots this node serves, so coverage can be judged across nodes.
        const ranges = myself.split(' ').slice(8).filter((x) => /^\d/.test(x));
        st.detail['slots'] = ranges.join(',');
      }
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      // A timed-out sample is unknown (slow, paused or cut off), not proof the instance is down.
      st = { role: 'down', writable: false, detail: { error, ...(/timed? ?out|ETIMEDOUT/i.test(error) ? { unknown: true } : {}) } };
    }
    this.current.set(w.name, st);
    const now = this.history.now();
    if (sameState(w.last, st) && now - w.lastRecordedAt < this.heartbeatMs) return;
    w.last = st;
    w.lastRecordedAt = now;
    const obs: Omit<RoleObservation, 'type' | 'scenario' | 'time'> = {
      source: this.dep.topology.kind === 'cluster' && st.role !== 'down' ? 'cluster' : 'info',
      instance: w.name,
      role: st.role,
      writable: st.writable,
      detail: st.detail,
    };
    if (st.master !== undefined) obs.master = st.master;
    if (st.linkUp !== undefined) obs.linkUp = st.linkUp;
    this.history.observation(obs);
  }

  /** Roles now, instance -> role. */
  roles(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const w of this.watched) out[w.name] = this.current.get(w.name)?.role ?? 'unknown';
    return out;
  }

  async stop(): Promise<void> {
    this.ctl.abort();
    await this.loop;
    for (const w of this.watched) w.client.disconnect();
    for (const s of this.subscribers) s.disconnect();
    this.subscribers = [];
  }
}
