import { expect } from 'chai';
import type { HistoryEvent, OpEvent, RoleObservation } from '../src/history/events.js';
import {
  checkAcknowledgedWrites,
  checkClusterState,
  checkCounter,
  checkFailback,
  checkFailoverTime,
  checkPromotion,
  checkSingleMaster,
  checkSlotCoverage,
  checkThresholds,
  checkUnavailability,
  combineVerdicts,
  concurrentWritable,
  failoverTime,
  unavailabilityWindows,
} from '../src/checkers/index.js';
import { standardChecks } from '../src/scenarios/common.js';
import type { Topology } from '../src/topology/model.js';

const S = 't';
function op(time: number, process: number, phase: OpEvent['phase'], value?: string, f = 'add', error?: string): OpEvent {
  const e: OpEvent = { type: 'op', scenario: S, process, f, via: 'haproxy', phase, time };
  if (value !== undefined) e.value = value;
  if (error !== undefined) e.error = error;
  return e;
}
function readAll(time: number, values: string[]): OpEvent {
  return { type: 'op', scenario: S, process: 99, f: 'read-all', via: 'haproxy', phase: 'ok', value: values, time };
}
function obs(time: number, instance: string, role: string, writable: boolean, extra: Partial<RoleObservation> = {}): RoleObservation {
  return { type: 'observation', scenario: S, source: 'info', instance, role, writable, time, ...extra };
}

describe('checkers: acknowledged writes (Jepsen set semantics)', () => {
  it('counts lost, unexpected, recovered and indeterminate against the final read', () => {
    const h: HistoryEvent[] = [
      op(1, 0, 'invoke', 'a'), op(2, 0, 'ok', 'a'),
      op(3, 1, 'invoke', 'b'), op(4, 1, 'ok', 'b'),
      op(5, 2, 'invoke', 'c'), op(6, 2, 'info', 'c', 'add', 'Command timed out'),
      op(7, 3, 'invoke', 'd'), op(8, 3, 'info', 'd', 'add', 'Connection is closed.'),
      op(9, 4, 'invoke', 'e'), op(10, 4, 'fail', 'e', 'add', 'READONLY You can\'t write against a read only replica.'),
      readAll(20, ['a', 'c', 'zz']),
    ];
    const r = checkAcknowledgedWrites(h);
    expect(r.counts).to.deep.equal({ attempted: 5, acknowledged: 2, lost: 1, unexpected: 1, recovered: 1, indeterminate: 2 });
    expect(r.lost).to.deep.equal(['b']);
    expect(r.unexpected).to.deep.equal(['zz']);
    expect(r.result.verdict).to.equal('fail');
  });

  it('passes within the allowed loss and says why, fails beyond it', () => {
    const h: HistoryEvent[] = [op(1, 0, 'invoke', 'a'), op(2, 0, 'ok', 'a'), op(3, 1, 'invoke', 'b'), op(4, 1, 'ok', 'b'), readAll(9, ['a'])];
    const ok = checkAcknowledgedWrites(h, { maxLost: 1, lossRationale: 'async replication' });
    expect(ok.result.verdict).to.equal('pass');
    expect(ok.result.detail).to.contain('async replication');
    expect(checkAcknowledgedWrites(h, { maxLost: 0 }).result.verdict).to.equal('fail');
  });

  it('fails when a definitely failed write shows up, and when the final read never succeeded', () => {
    const h: HistoryEvent[] = [op(1, 0, 'invoke', 'a'), op(2, 0, 'fail', 'a', 'add', 'READONLY x'), readAll(5, ['a'])];
    const r = checkAcknowledgedWrites(h);
    expect(r.failedButPresent).to.deep.equal(['a']);
    expect(r.result.verdict).to.equal('fail');
    const noRead = checkAcknowledgedWrites([op(1, 0, 'invoke', 'a'), op(2, 0, 'ok', 'a')]);
    expect(noRead.result.verdict).to.equal('fail');
    expect(noRead.result.detail).to.contain('final read');
    expect(checkAcknowledgedWrites([]).result.verdict).to.equal('skip');
  });

  it('identifies key-per-write ops by key=value so a stale value is unexpected', () => {
    const w = (t: number, phase: OpEvent['phase'], key: string, value: string): OpEvent => ({ type: 'op', scenario: S, process: 0, f: 'write', via: 'x', phase, key, value, time: t });
    const h: HistoryEvent[] = [w(1, 'invoke', 'k1', 'v1'), w(2, 'ok', 'k1', 'v1'), w(3, 'invoke', 'k2', 'v2'), w(4, 'ok', 'k2', 'v2'), readAll(9, ['k1=v1', 'k2=old'])];
    const r = checkAcknowledgedWrites(h);
    expect(r.lost).to.deep.equal(['k2=v2']);
    expect(r.unexpected).to.deep.equal(['k2=old']);
  });

  it('counter: final value must lie between acknowledged and acknowledged + indeterminate', () => {
    const inc = (t: number, phase: OpEvent['phase']): OpEvent => ({ type: 'op', scenario: S, process: 0, f: 'incr', via: 'x', phase, time: t });
    const base: HistoryEvent[] = [inc(1, 'invoke'), inc(2, 'ok'), inc(3, 'invoke'), inc(4, 'ok'), inc(5, 'invoke'), inc(6, 'info')];
    expect(checkCounter([...base, readAll(9, ['3'])]).verdict).to.equal('pass');
    expect(checkCounter([...base, readAll(9, ['2'])]).verdict).to.equal('pass');
    expect(checkCounter([...base, readAll(9, ['1'])]).verdict).to.equal('fail');
    expect(checkCounter([...base, readAll(9, ['4'])]).verdict).to.equal('fail');
  });
});

describe('checkers: single writable master and split-brain windows', () => {
  it('finds the window where two instances were writable and who they were', () => {
    const h: HistoryEvent[] = [
      obs(0, 'a', 'master', true), obs(0, 'b', 'replica', false),
      obs(100, 'b', 'master', true),
      obs(350, 'a', 'replica', false),
      obs(500, 'a', 'master', true),
      obs(520, 'a', 'master', false),
    ];
    const { intervals, who } = concurrentWritable(h);
    expect(intervals).to.deep.equal([{ start: 100, end: 350 }, { start: 500, end: 520 }]);
    expect(who).to.deep.equal([['a', 'b'], ['a', 'b']]);
    const c = checkSingleMaster(h);
    expect(c.verdict).to.equal('fail');
    expect(c.detail).to.contain('270 ms');
    expect(checkSingleMaster(h, { maxSplitBrainMs: 300 }).verdict).to.equal('pass');
    expect(checkSingleMaster(h, { ignoreShorterThanMs: 300 }).verdict).to.equal('pass');
  });

  it('passes a clean switch and treats down/blocked masters as not writable', () => {
    const h: HistoryEvent[] = [obs(0, 'a', 'master', true), obs(10, 'a', 'down', false), obs(20, 'b', 'master', true), obs(30, 'a', 'master', false)];
    expect(checkSingleMaster(h).verdict).to.equal('pass');
  });
});

describe('checkers: promotion and failback', () => {
  const h: HistoryEvent[] = [
    obs(0, 'r1', 'master', true), obs(0, 'r2', 'replica', false, { master: '10.0.0.1:6379', linkUp: true }),
    { type: 'fault', scenario: S, name: 'kill', targets: ['r1'], phase: 'start', time: 1000 },
    obs(1001, 'r1', 'down', false),
    obs(4500, 'r2', 'master', true),
    { type: 'observation', scenario: S, source: 'sentinel', instance: 's1', role: 'sentinel-switch', master: '10.0.0.2:6379', time: 4700 },
    obs(8000, 'r1', 'master', true),
    obs(9000, 'r1', 'replica', false, { master: '10.0.0.2:6379', linkUp: false }),
    obs(9500, 'r1', 'replica', false, { master: '10.0.0.2:6379', linkUp: true }),
  ];
  it('reports which replica became master and when', () => {
    const p = checkPromotion(h, { oldMaster: 'r1', faultAt: 1000, withinMs: 5000 });
    expect(p.verdict).to.equal('pass');
    expect(p.newMaster).to.equal('r2');
    expect(p.promotedAt).to.equal(4500);
    expect(p.switchAt).to.equal(4700);
    expect(checkPromotion(h, { oldMaster: 'r1', faultAt: 1000, withinMs: 3000 }).verdict).to.equal('fail');
    expect(checkPromotion(h, { oldMaster: 'r1', faultAt: 1000, candidates: ['r3'] }).verdict).to.equal('fail');
    expect(checkPromotion(h.slice(0, 4), { oldMaster: 'r1', faultAt: 1000 }).verdict).to.equal('fail');
  });
  it('names the Sentinel that led the failover and its kind: the last +elected-leader before the switch', () => {
    const sentinel = (time: number, instance: string, role: string, target: string): RoleObservation =>
      ({ type: 'observation', scenario: S, source: 'sentinel', instance, role, detail: { event: role, message: '', target }, time });
    // s2 (reference) was elected first but its attempt aborted; s3 (a redis-sentinel) was elected next and switched.
    const led: HistoryEvent[] = [...h.slice(0, 4), sentinel(500, 's1', '+elected-leader', 'reference'), sentinel(2000, 's2', '+elected-leader', 'reference'),
      sentinel(3000, 's3', '+elected-leader', 'redis'), ...h.slice(4)];
    const p = checkPromotion(led, { oldMaster: 'r1', faultAt: 1000 });
    expect(p.leader).to.deep.equal({ instance: 's3', target: 'redis' });
    expect(p.detail).to.equal('r2 became master 3500 ms after r1 failed (+switch-master at 3700 ms, led by s3, a redis-sentinel)');
    expect(p.data).to.include({ leader: 's3', leaderTarget: 'redis' });
    expect(checkPromotion(h, { oldMaster: 'r1', faultAt: 1000 }).leader).to.equal(undefined);
  });
  it('counts only a replica -> master transition as promotion (other shard masters, a returning old master)', () => {
    const c: HistoryEvent[] = [
      obs(0, 'm1', 'master', true), obs(0, 'm2', 'master', true), obs(0, 's2', 'replica', false),
      obs(1000, 'm2', 'down', false),
      obs(1500, 'm1', 'master', true),
      obs(2000, 'x', 'down', false), obs(2500, 'x', 'master', true),
      obs(4000, 's2', 'master', true),
    ];
    const p = checkPromotion(c, { oldMaster: 'm2', faultAt: 1000 });
    expect(p.newMaster).to.equal('s2');
    expect(p.promotedAt).to.equal(4000);
  });

  it('requires the old master back as a replica of the new one with link up', () => {
    const fb = checkFailback(h, { oldMaster: 'r1', newMaster: 'r2', newMasterAddress: '10.0.0.2:6379', after: 7000 });
    expect(fb.verdict).to.equal('pass');
    expect(fb.data?.['rejoinMs']).to.equal(2500);
    expect(fb.data?.['wasMasterFirst']).to.equal(true);
    const noLink = checkFailback(h.slice(0, -1), { oldMaster: 'r1', newMaster: 'r2', newMasterAddress: '10.0.0.2:6379', after: 7000 });
    expect(noLink.verdict).to.equal('fail');
    expect(noLink.detail).to.contain('link down');
  });
});

describe('checkers: failover time and unavailability', () => {
  const h: HistoryEvent[] = [
    op(0, 0, 'invoke', 'a'), op(5, 0, 'ok', 'a'),
    op(900, 1, 'invoke', 'b'), op(1100, 1, 'info', 'b'),
    op(1000, 2, 'invoke', 'c'), op(1200, 2, 'fail', 'c'),
    op(1210, 2, 'invoke', 'd'), op(4200, 2, 'ok', 'd'),
    op(4300, 3, 'invoke', 'e'), op(4310, 3, 'ok', 'e'),
  ];
  it('measures fault -> first acknowledged write invoked after the fault', () => {
    expect(failoverTime(h, 1000).failoverMs).to.equal(3200);
    expect(failoverTime(h, 1000).interval).to.deep.equal({ start: 1000, end: 4200 });
    expect(failoverTime(h, 5000).failoverMs).to.equal(null);
    expect(checkFailoverTime(h, 1000, 3000).verdict).to.equal('fail');
    expect(checkFailoverTime(h, 1000, 4000).verdict).to.equal('pass');
    expect(checkFailoverTime(h, 1000, 4000, 'other-path').failoverMs).to.equal(null);
  });
  it('standardChecks counts from the fault but credits no ack before the fault was in effect (a container kill takes a while)', () => {
    // Told to stop at 1000; the old master acknowledges e at 1050; the kill is recorded done at 1080.
    const killed: HistoryEvent[] = [
      op(0, 0, 'invoke', 'a'), op(5, 0, 'ok', 'a'),
      op(1010, 1, 'invoke', 'e'), op(1050, 1, 'ok', 'e'),
      { type: 'fault', scenario: S, name: 'stop-host', targets: ['host1'], phase: 'start', time: 1080 },
      op(1100, 1, 'invoke', 'f'), op(4200, 1, 'ok', 'f'),
      readAll(5000, ['a', 'e', 'f']),
    ];
    const topo = { kind: 'cluster', budgets: { failoverMs: 10_000, unavailabilityMs: 15_000 } } as Topology;
    const out = standardChecks(killed, { faultAt: 1000 }, topo, { maxLost: Number.POSITIVE_INFINITY, workloadNeeds: ['any'] });
    expect(out.failoverMs).to.equal(3200);
    expect(out.checks.find((c) => c.name === 'failover-time')!.detail).to.match(/^first acknowledged write 3200 ms after the fault/);
    // Without the fault's record (a scenario that marks nothing), the first ack after the fault counts, as before.
    expect(standardChecks(killed.filter((e) => e.type !== 'fault'), { faultAt: 1000 }, topo, { maxLost: Number.POSITIVE_INFINITY, workloadNeeds: ['any'] }).failoverMs).to.equal(50);
  });

  it('does not count a write that was later lost as recovery', () => {
    expect(failoverTime(h, 1000, undefined, undefined, new Set(['d'])).failoverMs).to.equal(3310);
    expect(failoverTime(h, 1000, undefined, (k) => k === 'nope').failoverMs).to.equal(null);
    expect(unavailabilityWindows(h, 0, 4400, 500, undefined, undefined, new Set(['d']))).to.deep.equal([{ start: 5, end: 4310 }]);
  });

  it('finds gaps without acknowledged writes', () => {
    expect(unavailabilityWindows(h, 0, 5000, 500)).to.deep.equal([{ start: 5, end: 4200 }, { start: 4310, end: 5000 }]);
    const c = checkUnavailability(h, 0, 4400, 4000, 500);
    expect(c.longestMs).to.equal(4195);
    expect(c.verdict).to.equal('fail');
  });
});

describe('checkers: cluster, thresholds, composition', () => {
  const node = (time: number, instance: string, role: string, slots: string, state = 'ok'): RoleObservation => ({
    type: 'observation', scenario: S, source: 'cluster', instance, role, writable: state === 'ok', time, detail: { slots, cluster_state: state },
  });
  it('slot coverage counts slots served by masters only', () => {
    const full = [node(0, 'm1', 'master', '0-5460'), node(0, 'm2', 'master', '5461-10922'), node(0, 'm3', 'master', '10923-16383'), node(0, 's1', 'replica', '')];
    expect(checkSlotCoverage(full, { expectFull: true }).verdict).to.equal('pass');
    const lost = [...full, { ...node(10, 'm2', 'down', ''), source: 'info' as const }];
    const c = checkSlotCoverage(lost, { expectFull: true });
    expect(c.verdict).to.equal('fail');
    expect(c.data?.['covered']).to.equal(16384 - 5462);
    expect(checkSlotCoverage(lost, { expectFull: true, at: 5 }).verdict).to.equal('pass');
  });
  it('cluster_state must be the expected value on the named nodes', () => {
    const h = [node(0, 'm1', 'master', '0-16383'), node(0, 'm2', 'master', '', 'fail')];
    expect(checkClusterState(h, { expect: 'ok' }).verdict).to.equal('fail');
    expect(checkClusterState(h, { expect: 'ok', nodes: ['m1'] }).verdict).to.equal('pass');
  });
  it('threshold and composition', () => {
    expect(checkThresholds([{ name: 'failover', value: 100, max: 200 }]).verdict).to.equal('pass');
    expect(checkThresholds([{ name: 'failover', value: null, max: 200 }]).verdict).to.equal('fail');
    expect(combineVerdicts([{ verdict: 'pass' }, { verdict: 'skip' }])).to.equal('pass');
    expect(combineVerdicts([{ verdict: 'pass' }, { verdict: 'fail' }])).to.equal('fail');
    expect(combineVerdicts([{ verdict: 'fail' }, { verdict: 'error' }])).to.equal('error');
    expect(combineVerdicts([{ verdict: 'skip' }])).to.equal('skip');
  });
});

describe('checkers: fault evidence', () => {
  it('lists each fault once (the nemesis event and the scenario mark for it are one) with the writes acknowledged after it', async () => {
    const { faultEvidence } = await import('../src/checkers/fault-evidence.js');
    const ev = (e: object): HistoryEvent => ({ scenario: 's', ...e }) as HistoryEvent;
    const events = [
      ev({ type: 'op', process: 0, f: 'add', via: 'x', phase: 'ok', value: 1, time: 10 }),
      ev({ type: 'fault', name: 'partition-isolate', targets: ['redis1'], phase: 'start', time: 100 }),
      ev({ type: 'mark', name: 'fault', detail: 'isolate redis1', time: 100.2 }),
      ev({ type: 'op', process: 0, f: 'add', via: 'x', phase: 'ok', value: 2, time: 150 }),
      ev({ type: 'mark', name: 'fault', detail: 'stop redis2', time: 5000 }),
      ev({ type: 'op', process: 0, f: 'add', via: 'x', phase: 'fail', value: 3, time: 5100 }),
    ];
    expect(faultEvidence(events)).to.deep.equal([
      { fault: 'partition-isolate redis1', at: 100, acknowledgedAfter: 1 },
      { fault: 'stop redis2', at: 5000, acknowledgedAfter: 0 },
    ]);
  });
});
