/**
 * random-chaos, then final convergence: after every fault is undone the deployment must settle on its own into
 * one master per shard, every other instance its linked replica, the same data set everywhere (and, for a
 * cluster, cluster_state:ok with every slot served), within a deadline.
 */
import type { CheckResult } from '../results/types.js';
import { dataPassword } from '../clients/index.js';
import { waitFor } from '../support/time.js';
import { parseInfo } from '../observer/observer.js';
import { randomChaos } from './chaos.js';
import { observationChecks, observe, probeClient } from './seed-sentinel.js';
import type { CheckOutput, Scenario, ScenarioContext } from './types.js';

/** Sentinel converts a returning old master after about 10 s; a cluster replica resyncs after a failover. */
const CONVERGE_MS = 45_000;

async function replicationOf(ctx: ScenarioContext, name: string): Promise<Record<string, string>> {
  const c = probeClient(ctx, name, dataPassword(ctx.dep));
  try {
    await c.connect();
    const info = parseInfo(String(await c.info('replication')));
    info['dbsize'] = String(await c.dbsize());
    return info;
  } finally {
    c.disconnect();
  }
}

/** Undefined when converged; otherwise what is still off. */
async function divergence(ctx: ScenarioContext): Promise<string | undefined> {
  const t = ctx.topology;
  const infos = new Map<string, Record<string, string>>();
  for (const r of t.redis) {
    try {
      infos.set(r.name, await replicationOf(ctx, r.name));
    } catch (e) {
      return `${r.name} does not answer: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  const masters = [...infos].filter(([, i]) => i['role'] === 'master').map(([n]) => n);
  const shards = t.kind === 'cluster' ? t.redis.length / (1 + (t.cluster?.replicasPerMaster ?? 0)) : 1;
  if (masters.length !== shards) return `${masters.length} masters (${masters.join(', ')}), expected ${shards}`;
  const byAddr = new Map(t.redis.map((r) => [ctx.addressOf(r.name), r.name]));
  for (const [n, i] of infos) {
    if (i['role'] === 'master') continue;
    const m = byAddr.get(`${i['master_host']}:${i['master_port']}`);
    if (!m || !masters.includes(m)) return `${n} replicates ${i['master_host']}:${i['master_port']}, not a current master`;
    if (i['master_link_status'] !== 'up') return `${n}'s link to ${m} is ${i['master_link_status']}`;
    const mi = infos.get(m)!;
    if (i['master_replid'] !== mi['master_replid']) return `${n} has replid ${i['master_replid']}, ${m} has ${mi['master_replid']}`;
    if (i['master_repl_offset'] !== mi['master_repl_offset']) return `${n} at offset ${i['master_repl_offset']}, ${m} at ${mi['master_repl_offset']}`;
    if (i['dbsize'] !== mi['dbsize']) return `${n} holds ${i['dbsize']} keys, ${m} holds ${mi['dbsize']}`;
  }
  // The observer's view is what the results show (rolesAfter); a role change can drop its connection for a moment.
  for (const r of t.redis) {
    const seen = ctx.observer.current.get(r.name)?.role;
    if (seen !== infos.get(r.name)!['role'] && !(seen === 'replica' && infos.get(r.name)!['role'] === 'slave')) return `the observer still sees ${r.name} as ${String(seen)}`;
  }
  if (t.kind === 'cluster') {
    for (const r of t.redis) {
      const s = ctx.observer.current.get(r.name);
      if (s?.detail['cluster_state'] !== 'ok' || s.detail['cluster_slots_ok'] !== 16384) return `${r.name} reports cluster_state:${String(s?.detail['cluster_state'])} with ${String(s?.detail['cluster_slots_ok'])} slots ok`;
    }
  }
  return undefined;
}

export const randomChaosConvergence: Scenario = {
  name: 'random-chaos-convergence',
  description: `${randomChaos.description} Then, within ${CONVERGE_MS / 1000} s and without help, one master per shard, every other instance its linked replica at the same offset with the same keys, and (cluster) cluster_state:ok with all slots.`,
  topologyKinds: randomChaos.topologyKinds,
  ...(randomChaos.requires ? { requires: randomChaos.requires } : {}),
  ...(randomChaos.unsupported ? { unsupported: randomChaos.unsupported } : {}),
  async run(ctx) {
    await randomChaos.run(ctx);
    const from = ctx.history.now();
    let last: string | undefined = 'not checked';
    const ok = await waitFor('the deployment to converge', async () => {
      last = await divergence(ctx);
      return last === undefined;
    }, CONVERGE_MS, 500).then(() => true, () => false);
    ctx.note('convergedMs', ok ? ctx.history.now() - from : null);
    observe(ctx, 'convergence', ok, ok ? `converged ${Math.round(ctx.history.now() - from)} ms after the last check of the chaos run: one master per shard, replicas linked at the same offset with the same keys` : `not converged after ${CONVERGE_MS} ms: ${last}`);
  },
  check(events, facts, t): CheckOutput {
    const base = randomChaos.check(events, facts, t);
    const conv: CheckResult[] = observationChecks(facts, ['convergence']);
    return { ...base, checks: [...base.checks, ...conv] };
  },
};
