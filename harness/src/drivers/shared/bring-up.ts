/**
 * The start order both drivers follow (masters, then replicas, sentinels, HAProxy; or the cluster), each step
 * awaited, so a scenario never starts on a half-ready deployment. A driver supplies how to start an instance.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GeneratedFile } from '../driver.js';
import { waitRedisPing, waitReplicaLinkUp, waitSentinelSeesAll, type ReadinessTarget } from './readiness.js';

export interface BringUpSteps extends ReadinessTarget {
  startMember(name: string): Promise<void>;
  createCluster(): Promise<void>;
  waitHaproxyRoutesToMaster(): Promise<void>;
  /** "address:port" for the log. */
  describe(name: string): string;
  log(line: string): void;
}

export async function startInOrder(s: BringUpSteps): Promise<void> {
  const topo = s.topology;
  if (topo.cluster) {
    await Promise.all(topo.redis.map((r) => s.startMember(r.name)));
    await Promise.all(topo.redis.map((r) => waitRedisPing(s, r)));
    await s.createCluster();
  } else {
    const masters = topo.redis.filter((r) => r.replicaof === undefined);
    const replicas = topo.redis.filter((r) => r.replicaof !== undefined);
    await Promise.all(masters.map((r) => s.startMember(r.name)));
    await Promise.all(masters.map((r) => waitRedisPing(s, r)));
    await Promise.all(replicas.map((r) => s.startMember(r.name)));
    await Promise.all(replicas.map((r) => waitReplicaLinkUp(s, r)));
    s.log(`redis ready: ${topo.redis.map((r) => r.name).join(', ')}`);
  }
  if (topo.sentinels.length) {
    await Promise.all(topo.sentinels.map((x) => s.startMember(x.name)));
    await Promise.all(topo.sentinels.map((x) => waitSentinelSeesAll(s, x)));
    s.log(`sentinels ready: ${topo.sentinels.map((x) => x.name).join(', ')}`);
  }
  if (topo.haproxy) {
    await s.startMember(topo.haproxy.name);
    await s.waitHaproxyRoutesToMaster();
    s.log(`haproxy ready: ${s.describe(topo.haproxy.name)}`);
  }
}

/** Writes the generated configs into the run folder (the same files for both drivers). */
export function writeGeneratedFiles(files: GeneratedFile[]): void {
  for (const f of files) {
    mkdirSync(path.dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
}

export function configFileOf(files: GeneratedFile[], instance: string): string {
  const f = files.find((x) => x.instance === instance);
  if (!f) throw new Error(`no generated config for ${instance}`);
  return f.path;
}

/** Node flags for the reference server: a small young generation keeps its RSS near redis-server's (same as the bin's shebang). */
export const REFERENCE_SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
