/** Test helpers: cluster engines on fake hosts (no keyspace, no replication), each with its own bus port. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterHost } from '../../cluster/cluster.js';
import { freeClusterPort } from './bus-peer.js';

export class FakeHost implements ClusterHost {
  readonly logs: string[] = [];
  readonly published: Array<[string, string, boolean]> = [];
  readonly config = new Map<string, string>([
    ['cluster-node-timeout', '1000'], ['cluster-port', '0'], ['cluster-announce-port', '0'], ['cluster-announce-bus-port', '0'],
    ['cluster-announce-ip', ''], ['cluster-announce-hostname', ''], ['cluster-replica-no-failover', 'no'],
    ['cluster-require-full-coverage', 'yes'], ['cluster-allow-replica-migration', 'yes'], ['cluster-migration-barrier', '1'],
    ['cluster-replica-validity-factor', '10'], ['repl-ping-replica-period', '10'],
  ]);
  masterHost: [string, number] | null = null;
  offset = 0n;

  constructor(port: number) {
    this.config.set('port', String(port));
  }

  log(level: string, msg: string): void { this.logs.push(`${level}: ${msg}`); }
  configNumber(name: string): number { return Number(this.config.get(name) ?? '0'); }
  configBool(name: string): boolean { return this.config.get(name) === 'yes'; }
  configString(name: string): string { return this.config.get(name) ?? ''; }
  replicationOffset(): bigint { return this.offset; }
  replicateFrom(ip: string, port: number): void { this.masterHost = [ip, port]; }
  stopReplicating(): void { this.masterHost = null; }
  hasMasterHost(): boolean { return this.masterHost !== null; }
  masterDataAgeMs(): number { return 0; }
  countKeysInSlot(): number { return 0; }
  delKeysInSlot(): number { return 0; }
  deliverPublish(channel: string, message: string, sharded: boolean): void { this.published.push([channel, message, sharded]); }
  pauseWrites(): void {}
}

export interface RunningEngine {
  cluster: Cluster;
  host: FakeHost;
  port: number;
  dir: string;
  stop(): void;
}

/** An engine with its nodes.conf in a temp dir, listening on 127.0.0.1, its cron running every 100 ms. */
export async function startEngine(extra: Record<string, string> = {}): Promise<RunningEngine> {
  const port = await freeClusterPort();
  const host = new FakeHost(port);
  for (const [k, v] of Object.entries(extra)) host.config.set(k, v);
  const dir = mkdtempSync(join(tmpdir(), 'rr-cluster-engine-'));
  const cluster = new Cluster(host, join(dir, 'nodes.conf'));
  cluster.init();
  await cluster.listen(['127.0.0.1']);
  const timer = setInterval(() => cluster.cron(), 100);
  let stopped = false;
  return {
    cluster, host, port, dir,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      cluster.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Gives a node the slots [from, to] and a config epoch, as ADDSLOTSRANGE + SET-CONFIG-EPOCH do. */
export function assignSlots(e: RunningEngine, from: number, to: number, epoch: bigint): void {
  for (let s = from; s <= to; s++) e.cluster.state.addSlot(e.cluster.myself, s);
  e.cluster.myself.configEpoch = epoch;
  if (e.cluster.state.currentEpoch < epoch) e.cluster.state.currentEpoch = epoch;
}

/** redis-cli's cluster signature: per node with slots, id and its slot ranges; sorted, joined. */
export function signature(nodesText: string): string {
  return nodesText
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.split(' ');
      const slots = f.slice(8).filter((s) => !s.startsWith('['));
      return slots.length ? `${f[0]}:${slots.sort().join(',')}` : '';
    })
    .filter((s) => s !== '')
    .sort()
    .join('|');
}

export { waitUntil } from '../util/wait.js';
