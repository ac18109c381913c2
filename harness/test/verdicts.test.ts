/**
 * Verdicts a CI can trust: a corpus of hand-made histories, each with the verdict a careful reader gives, and
 * the engine's and the gate's rules (no pass without evidence; the system never doing what was awaited is a
 * failed check with exit 1, never a harness error).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HistoryEvent, OpEvent, RoleObservation } from '../src/history/events.js';
import {
  checkAcknowledgedWrites,
  checkClusterState,
  checkFailoverTime,
  checkFaultApplied,
  masterGoneAt,
  checkNoWritesToReplica,
  checkToxicEffect,
  checkSingleMaster,
  checkWorkloadEvidence,
  checkRedirectsFollowed,
  checkReshardRuns,
} from '../src/checkers/index.js';
import type { ReshardRun } from '../src/history/events.js';
import { checkMinorityStopped, checkShardedWrites, writesToShardDuring } from '../src/scenarios/cluster.js';
import { attributeLosses, randomChaos } from '../src/scenarios/chaos.js';
import { checkReplicasWiped } from '../src/scenarios/sentinel.js';
import { standardChecks } from '../src/scenarios/common.js';
import { judgeScenario } from '../src/gate/run.js';
import { exitCodeFor } from '../src/results/exit-code.js';
import { ExpectationNotMet } from '../src/results/expectation.js';
import type { RunResults, ScenarioResult } from '../src/results/types.js';
import { runScenarios } from '../src/engine/run.js';
import { loadTopologyText } from '../src/topology/load.js';
import type { Deployment, Driver } from '../src/drivers/driver.js';
import type { Topology } from '../src/topology/model.js';
import type { Scenario } from '../src/scenarios/types.js';
import { HistoryWriter } from '../src/history/writer.js';
import { applyFault, FaultNotApplicable } from '../src/nemesis/faults.js';
import { NemesisExecutor } from '../src/nemesis/executor.js';

const S = 's';
function op(time: number, process: number, phase: OpEvent['phase'], value?: string, extra: Partial<OpEvent> = {}): OpEvent {
  const e: OpEvent = { type: 'op', scenario: S, process, f: 'add', via: 'haproxy', phase, time, ...extra };
  if (value !== undefined) e.value = value;
  return e;
}
const ok = (t: number, p: number, v: string, extra: Partial<OpEvent> = {}): OpEvent[] => [op(t - 1, p, 'invoke', v, extra), op(t, p, 'ok', v, extra)];
const failed = (t: number, p: number, v: string, error: string, extra: Partial<OpEvent> = {}): OpEvent[] => [op(t - 1, p, 'invoke', v, extra), op(t, p, 'fail', v, { error, ...extra })];
function readAll(time: number, values: string[], via = 'haproxy'): OpEvent {
  return { type: 'op', scenario: S, process: 99, f: 'read-all', via, phase: 'ok', value: values, time };
}
function obs(time: number, instance: string, role: string, writable: boolean, detail?: Record<string, string | number | boolean>): RoleObservation {
  return { type: 'observation', scenario: S, source: 'info', instance, role, writable, time, ...(detail ? { detail } : {}) };
}
const fault = (time: number, name: string, targets: string[], phase: 'start' | 'end' = 'start'): HistoryEvent => ({ type: 'fault', scenario: S, name, targets, phase, time });
const mark = (time: number, name: string, detail?: string): HistoryEvent => ({ type: 'mark', scenario: S, name, time, ...(detail ? { detail } : {}) });

describe('verdicts: hand-made histories', () => {
  describe('acknowledged writes', () => {
    it('200 refused writes and a successful final read verify nothing: fail, not "0 lost"', () => {
      const h: HistoryEvent[] = [];
      for (let i = 0; i < 200; i++) h.push(...failed(10 + i * 2, i % 8, `v${i}`, 'CLUSTERDOWN The cluster is down'));
      h.push(readAll(1000, []));
      const r = checkAcknowledgedWrites(h);
      expect(r.result.verdict).to.equal('fail');
      expect(r.result.detail).to.contain('none of 200 attempted writes was acknowledged');
      expect(r.result.data?.['verified']).to.equal(false);
    });

    it('two acknowledged writes and no final read: fail, and the result says nothing was verified', () => {
      const r = checkAcknowledgedWrites([...ok(2, 0, 'a'), ...ok(4, 1, 'b')]);
      expect(r.result.verdict).to.equal('fail');
      expect(r.result.data?.['verified']).to.equal(false);
    });

    it('sharded check: a write that got a definite error yet is in the final read fails, as in the base check', () => {
      const h: HistoryEvent[] = [...ok(2, 0, 'a', { key: 'chaos:set:{0}' }), ...failed(4, 1, 'b', 'CLUSTERDOWN', { key: 'chaos:set:{0}' }), readAll(9, ['a', 'b'])];
      const out = standardChecks(h, { faultAt: 3 }, { kind: 'cluster', budgets: { failoverMs: 10_000, unavailabilityMs: 15_000 } } as Topology, { maxLost: Number.POSITIVE_INFINITY, noFailover: true, workloadNeeds: ['any'] });
      const c = checkShardedWrites(h, out, '0-16383', 100, 'test');
      expect(c.verdict).to.equal('fail');
      expect(c.detail).to.contain('1 writes that got a definite error are present');
      // The same history without the failed write is fine.
      const clean: HistoryEvent[] = [...ok(2, 0, 'a', { key: 'chaos:set:{0}' }), readAll(9, ['a'])];
      const out2 = standardChecks(clean, { faultAt: 3 }, { kind: 'cluster', budgets: { failoverMs: 10_000, unavailabilityMs: 15_000 } } as Topology, { maxLost: Number.POSITIVE_INFINITY, noFailover: true, workloadNeeds: ['any'] });
      expect(checkShardedWrites(clean, out2, '0-16383', 100, 'test').verdict).to.equal('pass');
    });
  });

  describe('workload and fault evidence', () => {
    it('cluster-routing\'s case: 200 CLUSTERDOWN failures and no acknowledged write fails and names the error', () => {
      const h: HistoryEvent[] = [];
      for (let i = 0; i < 200; i++) h.push(...failed(10 + i * 2, i % 8, `v${i}`, 'CLUSTERDOWN The cluster is down', { via: 'cluster' }));
      const c = checkWorkloadEvidence(h, { need: ['any'], via: 'cluster' });
      expect(c.verdict).to.equal('fail');
      expect(c.detail).to.match(/no write via cluster was acknowledged at all \(200 attempted, 200 failed: 200x "CLUSTERDOWN The cluster is down"\)/);
    });

    it('writes only before the fault do not show the system recovered; a write invoked before the fault and acked after does not count either', () => {
      const before: HistoryEvent[] = [...ok(5, 0, 'a'), op(99, 1, 'invoke', 'b'), op(150, 1, 'ok', 'b')];
      const c = checkWorkloadEvidence(before, { need: ['before-fault', 'after-fault'], faultAt: 100 });
      expect(c.verdict).to.equal('fail');
      expect(c.detail).to.contain('after the fault');
      const after = [...before, ...ok(200, 2, 'c')];
      expect(checkWorkloadEvidence(after, { need: ['before-fault', 'after-fault'], faultAt: 100 }).verdict).to.equal('pass');
      expect(checkWorkloadEvidence(after, { need: ['before-fault', 'after-heal'], faultAt: 100 }).detail, 'no heal noted').to.contain('never healed');
      expect(checkWorkloadEvidence([], { need: ['any'] }).detail).to.contain('attempted no write');
    });

    it('a fault that was never applied (skipped: not running) fails fault-applied with the reason; an applied one passes', () => {
      const skipped = [mark(50, 'fault-skipped', 'kill redis1: not running, so there is nothing to kill')];
      const c = checkFaultApplied(skipped, undefined);
      expect(c.verdict).to.equal('fail');
      expect(c.detail).to.contain('not running');
      expect(checkFaultApplied([fault(60, 'kill', ['redis1'])], 60).verdict).to.equal('pass');
      expect(checkFaultApplied([fault(60, 'kill', ['redis1'])], undefined).verdict, 'the steps never noted the fault').to.equal('fail');
    });
  });

  describe('failover time after a SIGTERM', () => {
    it('counts from the signal, and the dying master\'s own last acknowledgements are no failover', () => {
      // SIGTERM at 1000; redis1 still acknowledges a write at 1005 and is gone at 1800; redis2 takes writes from 4000.
      const h: HistoryEvent[] = [obs(0, 'redis1', 'master', true), op(1001, 0, 'invoke', 'a'), op(1005, 0, 'ok', 'a'), obs(1800, 'redis1', 'down', false, { error: 'connect ECONNREFUSED' }), ...ok(4000, 1, 'b')];
      const gone = masterGoneAt(h, 'redis1', 1000);
      expect(gone).to.equal(1800);
      expect(checkFailoverTime(h, 1000, 10_000, undefined, undefined, undefined, gone).failoverMs).to.equal(3000);
      expect(checkFailoverTime(h, 1000, 10_000).failoverMs, 'without knowing when the master went, the dying master\'s ack looks like a 5 ms failover').to.equal(5);
      expect(masterGoneAt([obs(1500, 'redis1', 'down', false, { error: 'Command timed out' })], 'redis1', 1000), 'a timed-out sample does not prove it gone').to.equal(undefined);
    });
  });

  describe('single master', () => {
    const twoMasters = (middle: RoleObservation): HistoryEvent[] => [
      obs(0, 'redis1', 'master', true), obs(0, 'redis2', 'replica', false),
      obs(1000, 'redis2', 'master', true),
      middle,
      obs(11_500, 'redis1', 'master', true),
      obs(21_000, 'redis1', 'replica', false),
      obs(22_000, 'redis2', 'master', true),
    ];

    it('one timed-out sample does not cut a 20 s two-master window into two that each pass a 15 s limit', () => {
      const h = twoMasters(obs(11_000, 'redis1', 'down', false, { error: 'Command timed out' }));
      const r = checkSingleMaster(h, { maxSplitBrainMs: Number.POSITIVE_INFINITY, maxWindowMs: 15_000 });
      expect(r.intervals).to.deep.equal([{ start: 1000, end: 21_000 }]);
      expect(r.verdict).to.equal('fail');
    });

    it('a refused connection is a real "down": the window ends there', () => {
      const h = twoMasters(obs(11_000, 'redis1', 'down', false, { error: 'connect ECONNREFUSED 127.0.0.1:6379' }));
      const r = checkSingleMaster(h, { maxSplitBrainMs: Number.POSITIVE_INFINITY, maxWindowMs: 15_000 });
      expect(r.intervals).to.deep.equal([{ start: 1000, end: 11_000 }, { start: 11_500, end: 21_000 }]);
      expect(r.verdict).to.equal('pass');
    });
  });

  describe('cluster state', () => {
    it('fails when no node answered, or a named node was never observed', () => {
      const down: HistoryEvent[] = [obs(1, 'm1', 'down', false, { error: 'connect ECONNREFUSED' }), obs(1, 'm2', 'down', false, { error: 'connect ECONNREFUSED' })];
      const c = checkClusterState(down, { expect: 'ok' });
      expect(c.verdict).to.equal('fail');
      expect(c.detail).to.contain('no cluster node answered');
      const one: HistoryEvent[] = [{ type: 'observation', scenario: S, source: 'cluster', instance: 'm1', role: 'master', writable: true, detail: { cluster_state: 'ok' }, time: 2 }];
      expect(checkClusterState(one, { expect: 'ok' }).verdict).to.equal('pass');
      expect(checkClusterState(one, { expect: 'ok', nodes: ['m1', 'm2'] }).detail).to.contain('m2=never observed');
    });
  });

  describe('random-chaos loss attribution', () => {
    it('blames a fault that began after the acknowledgement, never one that was over before it', () => {
      const h: HistoryEvent[] = [
        fault(1000, 'kill', ['m1']), fault(1500, 'kill', ['m1'], 'end'),
        op(3000, 0, 'ok', 'a'),
        fault(6000, 'kill', ['m2']),
        op(6500, 0, 'ok', 'b'),
        fault(8000, 'kill', ['m2'], 'end'),
      ];
      // a: kill(m1) was over 1.5 s before it was acknowledged; kill(m2) began after. b: no fault began after it.
      expect(attributeLosses(h, ['a', 'b'])).to.deep.equal(['kill(m2)@6000: 1', 'after the last fault: 1']);
    });
  });

  describe('HAProxy routing', () => {
    const roles: HistoryEvent[] = [
      obs(0, 'redis1', 'master', true), obs(0, 'redis2', 'replica', false),
      obs(1000, 'redis1', 'down', false, { error: 'connect ECONNREFUSED' }),
      obs(4000, 'redis2', 'master', true),
      obs(8000, 'redis1', 'master', true), // the old master returns, still a master
      obs(10_000, 'redis1', 'replica', false), // Sentinel demotes it
    ];
    const writesUntil = (end: number): HistoryEvent[] => {
      const h: HistoryEvent[] = [];
      for (let t = 100; t <= end; t += 500) h.push(...ok(t, t % 7, `w${t}`));
      return h;
    };
    const readonlyAt = (t: number): HistoryEvent[] => failed(t, 9, `r${t}`, "READONLY You can't write against a read only replica.");
    const opts = { via: 'haproxy', detectMs: 2500, backends: ['redis1', 'redis2'] };

    it('READONLY right after the old master\'s demotion, within the detection window, is tolerated', () => {
      const c = checkNoWritesToReplica([...roles, ...writesUntil(20_000), ...readonlyAt(10_400), ...readonlyAt(12_000)], opts);
      expect(c.verdict, c.detail).to.equal('pass');
    });

    it('READONLY long after the demotion means the proxy keeps sending writes to a replica: fail', () => {
      const c = checkNoWritesToReplica([...roles, ...writesUntil(20_000), ...readonlyAt(10_400), ...readonlyAt(16_000)], opts);
      expect(c.verdict).to.equal('fail');
      expect(c.detail).to.contain('1 writes via haproxy reached a replica (READONLY) outside the 2500 ms');
    });

    it('READONLY before any role change (a proxy that routes to the replica from the start) fails', () => {
      expect(checkNoWritesToReplica([...roles, ...writesUntil(20_000), ...readonlyAt(500)], opts).verdict).to.equal('fail');
    });

    it('a workload that stops right after the demotion cannot show misrouting: fail', () => {
      const c = checkNoWritesToReplica([...roles, ...writesUntil(11_000)], opts);
      expect(c.verdict).to.equal('fail');
      expect(c.detail).to.contain('could not show');
    });
  });

  describe('toxic-client-link: each toxic by its own effect', () => {
    const win: [number, number] = [1000, 3000];
    const slow = (t0: number, lat: number, p: number): OpEvent[] => [op(t0, p, 'invoke', `l${t0}`), op(t0 + lat, p, 'ok', `l${t0}`)];
    it('latency: the median write under the toxic is slower than the toxic\'s delay, else fail', () => {
      const h = [...slow(1300, 420, 0), ...slow(1800, 410, 1), ...slow(2300, 430, 2)];
      expect(checkToxicEffect(h, 'latency', win, { latencyMs: 400 }).verdict).to.equal('pass');
      const fast = [...slow(1300, 5, 0), ...slow(1800, 4, 1), ...slow(2300, 6, 2)];
      expect(checkToxicEffect(fast, 'latency', win, { latencyMs: 400 }).verdict).to.equal('fail');
    });
    it('timeout: a write acknowledged while the link should be stalled means the toxic did nothing', () => {
      const stalled = [op(1500, 0, 'invoke', 'a'), op(3500, 0, 'ok', 'a'), op(2000, 1, 'invoke', 'b'), op(2600, 1, 'info', 'b', { error: 'Command timed out' })];
      expect(checkToxicEffect(stalled, 'timeout', win).verdict).to.equal('pass');
      expect(checkToxicEffect([...stalled, ...slow(2000, 3, 2)], 'timeout', win).verdict).to.equal('fail');
    });
    it('reset_peer: writes must end with connection errors and none be acknowledged', () => {
      const reset = [op(1500, 0, 'invoke', 'a'), op(1501, 0, 'info', 'a', { error: 'read ECONNRESET' })];
      expect(checkToxicEffect(reset, 'reset_peer', win).verdict).to.equal('pass');
      expect(checkToxicEffect([...slow(1500, 2, 0), ...slow(2000, 2, 1)], 'reset_peer', win).detail).to.contain('the resets did not happen');
    });
    it('limit_data: at least one connection cut by the limit', () => {
      const cut = [...slow(1500, 2, 0), op(2000, 1, 'invoke', 'b'), op(2001, 1, 'info', 'b', { error: 'Connection is closed.' })];
      expect(checkToxicEffect(cut, 'limit_data', win).verdict).to.equal('pass');
      expect(checkToxicEffect([...slow(1500, 2, 0)], 'limit_data', win).verdict).to.equal('fail');
    });
    it('a toxic never applied, or with no write under it, fails', () => {
      expect(checkToxicEffect([], 'timeout', undefined).detail).to.contain('never applied');
      expect(checkToxicEffect([...slow(100, 2, 0)], 'timeout', win).detail).to.contain('no write was attempted');
    });
  });

  describe('cluster-minority-partition', () => {
    const cobs = (time: number, writable: boolean, state: string): RoleObservation => ({ type: 'observation', scenario: S, source: 'cluster', instance: 'm1', role: 'master', writable, time, detail: { cluster_state: state } });
    it('the isolated master must stop accepting writes before the heal', () => {
      expect(checkMinorityStopped([cobs(1000, true, 'ok'), cobs(4200, false, 'fail')], 'm1', 1000, 9000, 3000).verdict).to.equal('pass');
      const kept = checkMinorityStopped([cobs(1000, true, 'ok'), cobs(5000, true, 'ok'), cobs(8000, true, 'ok')], 'm1', 1000, 9000, 3000);
      expect(kept.verdict).to.equal('fail');
      expect(kept.detail).to.contain('stayed writable until the heal');
      expect(checkMinorityStopped([cobs(9500, false, 'fail')], 'm1', 1000, 9000, 3000).verdict, 'refusing only after the heal does not count').to.equal('fail');
    });
    it('the loss budget is the writes routed to the isolated shard during the partition', () => {
      // key1 is in slot 9189, key3 in slot 935.
      const h: HistoryEvent[] = [...ok(500, 0, 'a', { key: 'key1' }), ...ok(2000, 1, 'b', { key: 'key1' }), ...ok(2500, 2, 'c', { key: 'key3' }), ...ok(9500, 3, 'd', { key: 'key1' })];
      expect(writesToShardDuring(h, '5461-10922', 1000, 9000)).to.equal(1);
      expect(writesToShardDuring(h, '0-5460', 1000, 9000)).to.equal(1);
      expect(writesToShardDuring(h, undefined, 1000, 9000)).to.equal(0);
    });
  });

  describe('cluster-live-reshard', () => {
    const run = (over: Partial<ReshardRun> = {}): ReshardRun => ({ from: 'm1', to: 'm2', slots: 200, exitCode: 0, startAt: 1000, endAt: 5000, movedSlots: 200, hotSlotMoved: true, tail: '', ...over });
    const clean = { exitCode: 0, clean: true, tail: '' };
    it('every run must exit 0, move all its slots including the hot one, and the final check must be clean', () => {
      expect(checkReshardRuns({ hotSlot: 0, reshards: [run(), run({ from: 'm2', to: 'm1' })], clusterCheck: clean }, 2).verdict).to.equal('pass');
      const failedRun = checkReshardRuns({ hotSlot: 0, reshards: [run({ exitCode: 1, movedSlots: 37, tail: 'IOERR' }), run()], clusterCheck: clean }, 2);
      expect(failedRun.verdict).to.equal('fail');
      expect(failedRun.detail).to.contain('exited 1: IOERR').and.to.contain('moved 37 of 200 slots');
      expect(checkReshardRuns({ hotSlot: 0, reshards: [run({ hotSlotMoved: false }), run()], clusterCheck: clean }, 2).detail).to.contain("did not move the workload's slot 0");
      expect(checkReshardRuns({ hotSlot: 0, reshards: [run()], clusterCheck: clean }, 2).detail).to.contain('1 of 2 reshard runs');
      expect(checkReshardRuns({ hotSlot: 0, reshards: [run(), run()], clusterCheck: { exitCode: 1, clean: false, tail: '[WARNING] open slots' } }, 2).verdict).to.equal('fail');
      expect(checkReshardRuns({ hotSlot: 0, reshards: [run(), run()] }, 2).detail).to.contain('check did not run');
    });
    it('redirections: ASK and MOVED for the hot slot, and writes acknowledged during every run', () => {
      const w = (t: number, p: number): OpEvent[] => ok(t, p, `v${p}`, { f: 'write', key: `k${p}`, via: 'cluster' });
      const facts = { hotSlot: 0, reshards: [run()] };
      const good: HistoryEvent[] = [...w(2000, 0), mark(2500, 'redirect', 'ASK 0 10.0.0.2:6382'), mark(4000, 'redirect', 'MOVED 0 10.0.0.2:6382')];
      expect(checkRedirectsFollowed(good, facts).verdict).to.equal('pass');
      const noAsk = checkRedirectsFollowed([...w(2000, 0), mark(4000, 'redirect', 'MOVED 0 10.0.0.2:6382'), mark(4100, 'redirect', 'ASK 17 10.0.0.2:6382')], facts);
      expect(noAsk.verdict).to.equal('fail');
      expect(noAsk.detail).to.contain('no ASK for slot 0');
      expect(checkRedirectsFollowed([...w(2000, 0), mark(2500, 'redirect', 'ASK 0 10.0.0.2:6382')], facts).detail).to.contain('no MOVED for slot 0');
      const idle = checkRedirectsFollowed([...w(500, 0), ...w(6000, 1), mark(2500, 'redirect', 'ASK 0 a:1'), mark(4000, 'redirect', 'MOVED 0 a:1')], facts);
      expect(idle.detail).to.contain('no write was acknowledged while m1 -> m2 ran');
    });
  });

  describe('random-chaos', () => {
    const topo = { kind: 'sentinel', name: 't', redis: [], sentinels: [{ downAfterMs: 3000 }], budgets: { failoverMs: 10_000, unavailabilityMs: 15_000 } } as unknown as Topology;
    it('fails when no scheduled fault was applied (every one skipped), even though writes flowed', () => {
      const h: HistoryEvent[] = [...ok(100, 0, 'a'), mark(2000, 'fault-skipped', 'kill redis1: not running'), ...ok(5000, 1, 'b'), readAll(6000, ['a', 'b'])];
      const schedule = [{ at: 0, fault: 'kill' as const, targets: ['redis1'], duration: 1000 }];
      const out = randomChaos.check(h, { schedule, faultErrors: [], faultsSkipped: ['#1 kill redis1: not running'], healAt: 4000 }, topo);
      const byName = new Map(out.checks.map((c) => [c.name, c]));
      expect(byName.get('schedule')?.verdict).to.equal('fail');
      expect(byName.get('schedule')?.detail).to.contain('none of 1 scheduled faults was applied');
      expect(byName.get('fault-applied')?.verdict).to.equal('fail');
      const applied: HistoryEvent[] = [...ok(100, 0, 'a'), fault(2000, 'kill', ['redis1']), fault(3000, 'kill', ['redis1'], 'end'), ...ok(5000, 1, 'b'), readAll(6000, ['a', 'b'])];
      const good = randomChaos.check(applied, { schedule, faultErrors: [], faultsSkipped: [], healAt: 4000 }, topo);
      expect(good.checks.find((c) => c.name === 'schedule')?.verdict).to.equal('pass');
      expect(good.checks.find((c) => c.name === 'fault-applied')?.verdict).to.equal('pass');
    });
  });

  describe('restart-empty replicas', () => {
    const base: HistoryEvent[] = [...ok(2, 0, 'a'), ...ok(4, 1, 'b')];
    const replicaRead = (name: string, values: string[] | undefined): HistoryEvent =>
      values === undefined
        ? { type: 'op', scenario: S, process: -2, f: 'read-replica', via: `direct:${name}`, phase: 'fail', error: 'connect ECONNREFUSED', time: 50 }
        : { type: 'op', scenario: S, process: -2, f: 'read-replica', via: `direct:${name}`, phase: 'ok', value: values, time: 50 };
    it('a replica that kept its data fails; wiped replicas pass; an unreadable one is unconfirmed', () => {
      expect(checkReplicasWiped([...base, replicaRead('redis2', [])], ['redis2']).verdict).to.equal('pass');
      const kept = checkReplicasWiped([...base, replicaRead('redis2', []), replicaRead('redis3', ['a', 'b'])], ['redis2', 'redis3']);
      expect(kept.verdict).to.equal('fail');
      expect(kept.detail).to.contain('redis3 still holds 2 of 2 acknowledged writes');
      expect(checkReplicasWiped([...base, replicaRead('redis2', undefined)], ['redis2']).detail).to.contain('could not be read');
    });
  });
});

function result(over: Partial<ScenarioResult>): ScenarioResult {
  return {
    name: 's', description: '', topology: 't', target: 'redis', driver: 'local', verdict: 'pass', checks: [{ name: 'promotion', verdict: 'pass', detail: 'ok' }],
    writes: { attempted: 1000, acknowledged: 1000, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 }, lostSample: [], unexpectedSample: [], startedAt: 0, durationMs: 1, configFiles: [],
    ...over,
  };
}

describe('verdicts: the gate judges only what was verified', () => {
  const base = { checks: 'all' as const, allowSkip: false };

  it('maxLostWrites is not judged from a writes check that never read back: "0 of 2 lost" is no pass', () => {
    const s = result({
      writes: { attempted: 2, acknowledged: 2, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
      checks: [
        { name: 'promotion', verdict: 'pass', detail: 'ok' },
        { name: 'failover-time', verdict: 'pass', detail: 'ok' },
        { name: 'acknowledged-writes', verdict: 'fail', detail: 'the final read never succeeded, so none of 2 acknowledged writes could be confirmed', data: { verified: false } },
      ],
    });
    const j = judgeScenario(s, { ...base, checks: ['promotion', 'failover-time'], maxLostWrites: { count: 0 } });
    expect(j.ok).to.equal(false);
    const lost = j.thresholds.find((t) => t.name === 'max-lost-writes')!;
    expect(lost.ok).to.equal(false);
    expect(lost.detail).to.match(/^cannot be judged: the acknowledged-writes check failed: the final read never succeeded/);
    expect(j.thresholds.find((t) => t.name === 'evidence')?.ok, 'a named list still needs evidence').to.equal(false);
  });

  it('a named checks: list still fails when the workload or the fault gave no evidence', () => {
    const s = result({ checks: [{ name: 'promotion', verdict: 'pass', detail: 'ok' }, { name: 'workload', verdict: 'fail', detail: 'no write via haproxy was acknowledged after the fault' }] });
    const j = judgeScenario(s, { ...base, checks: ['promotion'] });
    expect(j.ok).to.equal(false);
    expect(j.thresholds.find((t) => t.name === 'evidence')!.detail).to.contain('no write via haproxy was acknowledged');
    const unmet = result({ checks: [{ name: 'failback', verdict: 'fail', detail: 'redis1 did not rejoin', data: { expectation: true } }, { name: 'promotion', verdict: 'pass', detail: 'ok' }] });
    expect(judgeScenario(unmet, { ...base, checks: ['promotion'] }).ok, 'an unmet expectation is evidence of failure').to.equal(false);
    const good = result({ checks: [{ name: 'promotion', verdict: 'pass', detail: 'ok' }, { name: 'workload', verdict: 'pass', detail: 'ok' }, { name: 'budgets', verdict: 'fail', detail: 'x' }] });
    expect(judgeScenario(good, { ...base, checks: ['promotion'] }).ok, 'other failed checks are left out by the list').to.equal(true);
  });

  it('allowSkip: false fails a scenario that ran but whose checks were all skipped', () => {
    const s = result({ verdict: 'skip', checks: [{ name: 'acknowledged-writes', verdict: 'skip', detail: 'no writes were attempted' }] });
    const j = judgeScenario(s, base);
    expect(j.ok).to.equal(false);
    expect(j.thresholds[0]!.detail).to.contain('every check was skipped');
    expect(judgeScenario(s, { ...base, allowSkip: true }).ok).to.equal(true);
  });

  it('run: every scenario skipped exits 1 (nothing verified); one pass among skips exits 0', () => {
    const run = (verdicts: ScenarioResult['verdict'][]): RunResults => ({
      tool: 'redis-ha-chaos', version: '0', runId: 'r', topology: 't', topologyFile: 'f', target: 'redis', driver: 'local', seed: 1, command: '', versions: {}, startedAt: '', durationMs: 0,
      verdict: verdicts.includes('pass') ? 'pass' : 'skip', scenarios: verdicts.map((v, i) => result({ name: `s${i}`, verdict: v, checks: [] })), history: 'h',
    });
    expect(exitCodeFor(run(['skip', 'skip']))).to.equal(1);
    expect(exitCodeFor(run([]))).to.equal(1);
    expect(exitCodeFor(run(['skip', 'pass']))).to.equal(0);
  });
});

/** A deployment whose instances refuse connections: enough for the engine to run a scenario's steps and checks. */
async function refusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function fakeDriver(port: number): Driver {
  return {
    name: 'local',
    async up(topology: Topology, opts): Promise<Deployment> {
      const ep = { host: '127.0.0.1', port };
      return {
        runId: opts.runId, runDir: opts.runDir, topology, driverName: 'local',
        instances: () => [], endpoint: () => ep, internalAddress: () => ep, generatedFiles: () => [], versions: async () => ({}),
        kill: async () => undefined, terminate: async () => undefined, pause: async () => undefined, resume: async () => undefined,
        start: async () => undefined, restart: async () => undefined, stopHost: async () => undefined, startHost: async () => undefined,
        partition: async () => undefined, heal: async () => undefined, isRunning: () => true, down: async () => undefined,
      };
    },
  };
}

describe('verdicts: a kill of a process that is not running is no fault', () => {
  it('applyFault refuses it without recording a fault; the executor counts it as skipped, not as an error', async () => {
    let killed = 0;
    const dep = { isRunning: () => false, kill: async () => void killed++ } as unknown as Deployment;
    const h = new HistoryWriter();
    let err: unknown;
    await applyFault(dep, h, { at: 0, fault: 'kill', targets: ['redis1'], duration: 0 }).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(FaultNotApplicable);
    expect((err as Error).message).to.contain('redis1: not running');
    expect(killed).to.equal(0);
    expect(h.events().filter((e) => e.type === 'fault')).to.deep.equal([]);
    const res = await new NemesisExecutor(dep, h).run([{ at: 0, fault: 'kill', targets: ['redis1'], duration: 0 }]);
    expect(res).to.deep.include({ applied: 0, errors: [] });
    expect(res.skipped[0]).to.match(/^#1 kill redis1: kill redis1: not running/);
    expect(checkFaultApplied(h.events(), undefined).detail).to.contain('not running');
  });
});

describe('verdicts: the engine', function () {
  this.timeout(30_000);
  let dir: string;
  let topology: Topology;
  let driver: Driver;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'chaos-verdicts-'));
    topology = loadTopologyText('name: solo\nkind: standalone\nhosts: [h1]\nredis:\n  - name: r1\n    host: h1\n    port: 6379\n', path.join(dir, 'solo.yml'));
    driver = fakeDriver(await refusedPort());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const scenario = (run: Scenario['run']): Scenario => ({
    name: 'probe', description: 'test', topologyKinds: ['standalone'], run,
    check: () => ({ checks: [{ name: 'promotion', verdict: 'fail', detail: 'no replica was promoted after r1 failed' }, { name: 'other', verdict: 'pass', detail: 'ok' }] }),
  });

  it('the system never doing what was awaited is a failed check (exit 1) with the scenario\'s reason, not a harness error', async () => {
    const res = await runScenarios({
      topology, seed: 1, outDir: path.join(dir, 'unmet'), driverInstance: driver,
      scenarioObjects: [scenario(async () => {
        throw new ExpectationNotMet('promotion', 'no replica was promoted within 20 s of killing r1: check down-after-milliseconds and replica-priority');
      })],
    });
    const s = res.scenarios[0]!;
    expect(s.verdict).to.equal('fail');
    expect(s.error).to.equal(undefined);
    expect(s.checks.filter((c) => c.name === 'promotion')).to.deep.equal([{ name: 'promotion', verdict: 'fail', detail: 'no replica was promoted within 20 s of killing r1: check down-after-milliseconds and replica-priority', data: { expectation: true } }]);
    expect(exitCodeFor(res)).to.equal(1);
  });

  it('a failure of the harness itself stays an error (exit 3)', async () => {
    const res = await runScenarios({ topology, seed: 1, outDir: path.join(dir, 'boom'), driverInstance: driver, scenarioObjects: [scenario(async () => { throw new Error('our own process would not start'); })] });
    expect(res.scenarios[0]!.verdict).to.equal('error');
    expect(exitCodeFor(res)).to.equal(3);
  });
});
