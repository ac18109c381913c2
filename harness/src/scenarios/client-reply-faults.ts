/**
 * client-reply-faults (issue 15): the reference servers answer the client's own commands, for a few seconds each,
 * with every error reply a Redis deployment gives in a bad moment: MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING, BUSY,
 * MASTERDOWN and READONLY (DEBUG REPLY-FAULT, seeded). No cluster has to reshard and no master has to load a
 * dataset for the client's handling of each reply to be tested; the checks (checkers/reply-faults.ts) demand that
 * every command settles and that the client writes again once the replies stop. Reference target only.
 */
import type { ClientWorkload } from '../adapters/workload.js';
import { checkReplyFaults } from '../checkers/reply-faults.js';
import { dataPassword } from '../clients/index.js';
import { delay, scaled, waitFor } from '../support/time.js';
import type { ReplyFaultWindow } from '../history/events.js';
import { clientResult, clientWait, LOSS, MAX_STUCK_MS, untilClient, waitClusterOk } from './clients.js';
import { adminCommand, initialMaster, markWorkloadEnd, markWorkloadStart, standardChecks, waitReplicationSettled } from './common.js';
import type { CheckOutput, Scenario, ScenarioContext } from './types.js';

/** In the order a client meets them least to most often in production; each gets its own window. */
export const REPLY_FAULT_KINDS = ['moved', 'ask', 'tryagain', 'clusterdown', 'loading', 'busy', 'masterdown', 'readonly'] as const;

/** Answers per server and window: enough to see a pattern, few enough that a client which retries gets through. */
const ANSWERS_PER_SERVER = 10;
const PROBABILITY = '0.5';
/** The workload's keys (adapters/workload.ts keyPrefix default): the rules match nothing else. */
const KEY_PATTERN = 'client*';

/** The servers the client writes to: the master, or every cluster master. */
function writeTargets(ctx: ScenarioContext): string[] {
  if (ctx.topology.kind === 'cluster') {
    return [...ctx.observer.current].filter(([, s]) => s.role === 'master').map(([n]) => n).sort();
  }
  // Nothing fails over here: the master is the one replication settled on (an observer sample that timed out
  // must not make it look absent).
  return [initialMaster(ctx.topology)];
}

/** Sums `matched=` and `injected=` over the STATS lines of every target. */
async function ruleStats(ctx: ScenarioContext, targets: string[], password: string | undefined): Promise<{ matched: number; injected: number }> {
  let matched = 0;
  let injected = 0;
  for (const t of targets) {
    const lines = (await adminCommand(ctx, t, ['DEBUG', 'REPLY-FAULT', 'STATS'], password)) as string[];
    for (const l of lines) {
      matched += Number(/matched=(\d+)/.exec(l)?.[1] ?? 0);
      injected += Number(/injected=(\d+)/.exec(l)?.[1] ?? 0);
    }
  }
  return { matched, injected };
}

async function faultWindow(ctx: ScenarioContext, c: ClientWorkload, kind: string, targets: string[], password: string | undefined): Promise<ReplyFaultWindow> {
  const seed = ctx.rng.int(0, 2 ** 31 - 1);
  const rule = [kind.toUpperCase(), 'KEY', KEY_PATTERN, 'PROBABILITY', PROBABILITY, 'COUNT', String(ANSWERS_PER_SERVER), 'SEED', String(seed)];
  const startAt = ctx.history.now();
  ctx.history.fault({ name: 'reply-fault', targets, phase: 'start', detail: rule.join(' ') });
  for (const t of targets) await adminCommand(ctx, t, ['DEBUG', 'REPLY-FAULT', ...rule], password);
  // Until every rule has given its answers, or a few seconds if the client stopped sending (judged by the checks).
  let stats = { matched: 0, injected: 0 };
  try {
    await waitFor(`${kind} answered ${ANSWERS_PER_SERVER} times on ${targets.join(', ')}`, async () => {
      stats = await ruleStats(ctx, targets, password);
      return stats.injected >= ANSWERS_PER_SERVER * targets.length;
    }, scaled(8000), 200);
  } catch {
    ctx.log(`${kind}: ${stats.injected} of ${ANSWERS_PER_SERVER * targets.length} answers given before the window closed`);
  }
  stats = await ruleStats(ctx, targets, password);
  for (const t of targets) await adminCommand(ctx, t, ['DEBUG', 'REPLY-FAULT', 'OFF'], password);
  const endAt = ctx.history.now();
  ctx.history.fault({ name: 'reply-fault', targets, phase: 'end', detail: `${kind.toUpperCase()}: ${stats.injected} answered of ${stats.matched} matched` });
  const window: ReplyFaultWindow = { kind, targets, rule, startAt, endAt, ...stats };
  ctx.noteItem('replyFaults', window);
  await untilClient(ctx, c, `a write through ${c.via} acknowledged after the ${kind} replies stopped`, () => c.lastOkInvokedAt >= endAt, clientWait(ctx.topology));
  return window;
}

export const clientReplyFaults: Scenario = {
  name: 'client-reply-faults',
  description:
    "The reference servers answer the client adapter's commands with MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING, BUSY, MASTERDOWN and READONLY in turn (DEBUG REPLY-FAULT: half of the matching commands, 10 answers per server, seeded), a window each: every command must settle within 5 s and the client must acknowledge a write within the failover budget after each window. Reference target only.",
  topologyKinds: ['sentinel', 'cluster'],
  redisConfig: { 'enable-debug-command': 'yes' },
  unsupported: (t) => {
    const real = t.redis.filter((r) => r.target !== 'reference').map((r) => r.name);
    if (real.length) return `needs the reference server's DEBUG REPLY-FAULT on every Redis server (${real.join(', ')} run redis-server): run with --target reference`;
    return t.kind === 'sentinel' && t.redis.length < 1 ? 'needs a Redis server' : undefined;
  },
  async run(ctx) {
    const t = ctx.topology;
    if (t.kind === 'cluster') await waitClusterOk(ctx);
    else await waitReplicationSettled(ctx, initialMaster(t));
    const password = dataPassword(ctx.dep);
    const c = await ctx.startClient();
    ctx.note('client', { name: ctx.clientAdapter.name, library: c.client });
    markWorkloadStart(ctx, c.via);
    if (!(await untilClient(ctx, c, `a write acknowledged through ${c.via} before the faults`, () => c.lastOkAt >= 0, 20_000))) {
      ctx.note('clientNoWriteBeforeFault', true);
    } else {
      await delay(scaled(500));
      const targets = writeTargets(ctx);
      for (const kind of REPLY_FAULT_KINDS) {
        const w = await faultWindow(ctx, c, kind, targets, password);
        if (kind === REPLY_FAULT_KINDS[0]) ctx.note('faultAt', w.startAt);
        ctx.note('healAt', w.endAt);
        ctx.log(`${kind}: ${w.injected} answered of ${w.matched} matched`);
      }
    }
    await delay(scaled(1000));
    await c.stop();
    markWorkloadEnd(ctx);
    await c.finalRead();
  },
  check(events, facts, t): CheckOutput {
    const out = standardChecks(events, facts, t, { noFailover: true, maxLost: 0, lossRationale: LOSS });
    const via = facts.via ?? 'client';
    if (facts.clientNoWriteBeforeFault) {
      out.checks.push({ name: 'reply-faults-applied', verdict: 'fail', detail: `${via} never acknowledged a write before the faults, so the scenario could not start` });
      return out;
    }
    const r = checkReplyFaults(events, facts.replyFaults ?? [], { via, recoveryBudgetMs: t.budgets.failoverMs, maxStuckMs: MAX_STUCK_MS });
    out.checks.push(...r.checks);
    out.client = clientResult(facts, via, r.rounds);
    return out;
  },
};
