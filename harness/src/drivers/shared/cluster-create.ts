/**
 * Creating a Redis Cluster with redis-cli from the harness process, the same way for both drivers (the nodes'
 * addresses are reachable from the host in both), and the checks that it formed.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RedisInstanceSpec, Topology } from '../../topology/model.js';
import { respCall } from '../local/probe.js';
import { parseInfo } from '../../support/info.js';
import type { ReadinessTarget } from './readiness.js';

/**
 * Runs `redis-cli --cluster create` over the topology's cluster nodes (in seed order); its output goes to
 * cluster-create.log with the password masked. `created` runs once redis-cli has exited, before its exit code is judged.
 */
export async function redisCliClusterCreate(
  topology: Topology, driverName: string, runDir: string, describe: (name: string) => string, created?: () => void,
): Promise<RedisInstanceSpec[]> {
  const c = topology.cluster!;
  if (c.create !== 'redis-cli') throw new Error(`cluster.create: ${c.create} is not supported by the ${driverName} driver; use redis-cli`);
  const nodes = c.nodes.map((n) => topology.redis.find((r) => r.name === n)!);
  const pw = nodes[0].password;
  const args = ['--cluster', 'create', ...nodes.map((r) => describe(r.name)), '--cluster-replicas', String(c.replicasPerMaster), '--cluster-yes'];
  if (pw !== undefined) args.push('-a', pw, '--no-auth-warning');
  const logFile = path.join(runDir, 'cluster-create.log');
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d.toString()));
    child.stderr.on('data', (d) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
    child.on('error', (e) => resolve({ code: -1, output: e.message }));
  });
  writeFileSync(logFile, `redis-cli ${args.map((a) => (a === pw ? '***' : a)).join(' ')}\n${output}`);
  created?.();
  if (code !== 0) throw new Error(`redis-cli --cluster create failed (exit ${code}); see ${logFile}:\n${output.trim().split('\n').slice(-5).join('\n')}`);
  return nodes;
}

/** Every node reports cluster_state:ok and knows all the others. */
export async function waitClusterStateOk(t: ReadinessTarget, nodes: RedisInstanceSpec[]): Promise<void> {
  await Promise.all(nodes.map((r) => {
    const ep = t.endpoint(r.name);
    return t.awaitMember(r.name, `${r.name} cluster_state:ok with ${nodes.length} known nodes`, async () => {
      const info = parseInfo(await respCall(ep.host, ep.port, ['CLUSTER', 'INFO'], r.password, 500));
      return info.cluster_state === 'ok' && Number(info.cluster_known_nodes) === nodes.length;
    });
  }));
}

/** Whether no replica shares a host with its master. */
export function antiAffinity(replicaOf: Record<string, string>, hostOf: (instance: string) => string): boolean {
  return Object.entries(replicaOf).every(([r, m]) => hostOf(r) !== hostOf(m));
}
