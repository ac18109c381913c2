/** Toxiproxy scenarios: degraded links (latency, stalls, resets, truncation) must cost availability, never data. */
import type { HistoryEvent, OpEvent } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import type { Topology } from '../topology/model.js';
import { delay, scaled } from '../support/time.js';
import type { ScheduledFault } from '../nemesis/faults.js';
import { checkToxicEffect } from '../checkers/index.js';
import { expectWithin, initialMaster, markWorkloadEnd, markWorkloadStart, SCENARIO_RATE, standardChecks, waitReplicationSettled } from './common.js';
import type { CheckOutput, Scenario } from './types.js';
import { medianLatency } from '../checkers/latency.js';

export { medianLatency };

const LATENCY_MS = 400;

/** The link the workload itself goes through (from "client"). */
function clientLink(t: Topology): string | undefined {
  return t.toxiproxy?.links.find((l) => l.from === 'client')?.name;
}


export const toxicClientLink: Scenario = {
  name: 'toxic-client-link',
  description: `Degrade the client's link to HAProxy through Toxiproxy, one toxic at a time (latency ${LATENCY_MS} ms, a stalled link, reset_peer, limit_data): writes slow down or end indeterminate, but no acknowledged write may be lost, and writes recover once the toxics are removed.`,
  topologyKinds: ['sentinel', 'standalone'],
  requires: ['toxiproxy'],
  unsupported: (t) => (clientLink(t) ? undefined : 'needs a Toxiproxy link from "client"'),
  async run(ctx) {
    const link = clientLink(ctx.topology)!;
    await waitReplicationSettled(ctx, initialMaster(ctx.topology));
    const wl = await ctx.startWorkload({ kind: 'set', path: { kind: 'toxiproxy', link }, processes: 16, rate: SCENARIO_RATE });
    markWorkloadStart(ctx, wl.via);
    await delay(scaled(1000));
    const toxics: ScheduledFault[] = [
      { at: 0, fault: 'toxic-latency', targets: [link], duration: 0, attributes: { latency: LATENCY_MS, jitter: 0 } },
      { at: 0, fault: 'toxic-timeout', targets: [link], duration: 0, attributes: { timeout: 0 } },
      { at: 0, fault: 'toxic-reset_peer', targets: [link], duration: 0, attributes: { timeout: 0 } },
      // Replies are a few bytes each: 256 bytes cut each connection within a second at this rate (2048 never did in 2 s).
      { at: 0, fault: 'toxic-limit_data', targets: [link], duration: 0, attributes: { bytes: 256 } },
    ];
    const windows: Record<string, [number, number]> = {};
    for (const f of toxics) {
      const undo = await ctx.nemesis.apply(f);
      const start = ctx.history.now();
      if (!ctx.facts.faultAt) ctx.note('faultAt', start);
      await delay(scaled(2000));
      await undo();
      windows[f.fault] = [start, ctx.history.now()];
      await delay(scaled(1000));
    }
    ctx.note('windows', windows);
    ctx.note('healAt', ctx.history.mark('heal', 'toxics removed').time);
    await expectWithin({ check: 'recovery', failure: `no write via ${wl.via} was acknowledged`, since: 'removing the toxics', hint: 'check that the link and the proxy behind it accept connections again' }, () => wl.lastOkInvokedAt >= (ctx.facts.healAt ?? 0), 20_000);
    await delay(scaled(1000));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, facts, t): CheckOutput {
    // No instance fails here, so no acknowledged write may be lost.
    const out = standardChecks(events, facts, t, { maxLost: 0, noFailover: true });
    // A stalled link stops writes by design; the availability budget is not what this scenario judges.
    out.checks = out.checks.filter((c) => c.name !== 'unavailability' && c.name !== 'budgets');
    const windows = facts.windows ?? {};
    const via = facts.via;
    // Each toxic is judged by its own effect; "nothing was lost" alone would not show the toxic did anything.
    const effective: CheckResult[] = (['latency', 'timeout', 'reset_peer', 'limit_data'] as const).map((tox) =>
      checkToxicEffect(events, tox, windows[`toxic-${tox}`], { latencyMs: LATENCY_MS, ...(via !== undefined ? { via } : {}) }),
    );
    const healAt = facts.healAt;
    const recovered = healAt !== undefined && events.some((e) => e.type === 'op' && e.f === 'add' && e.phase === 'ok' && e.time > healAt);
    out.checks.push(...effective, {
      name: 'recovery',
      verdict: recovered ? 'pass' : 'fail',
      detail: recovered ? 'writes were acknowledged again once every toxic was removed' : 'no write was acknowledged after the toxics were removed',
    });
    return out;
  },
};
