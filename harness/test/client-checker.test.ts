import { expect } from 'chai';
import { checkClient, measureClient } from '../src/checkers/client.js';
import type { HistoryEvent, OpEvent } from '../src/history/events.js';

const via = 'client:lib';

function op(time: number, process: number, phase: OpEvent['phase'], extra: Partial<OpEvent> = {}): HistoryEvent {
  return { type: 'op', scenario: 's', time, process, f: 'add', via, phase, key: 'client:set:{0}', value: `v${process}`, ...extra };
}

function role(time: number, instance: string, r: string): HistoryEvent {
  return { type: 'observation', scenario: 's', source: 'info', instance, role: r, time };
}

/** redis1 master, redis2 replica; fault at 1000; redis2 promoted at 4000. */
function base(): HistoryEvent[] {
  return [role(0, 'redis1', 'master'), role(0, 'redis2', 'replica'), op(500, 1, 'invoke'), op(510, 1, 'ok', { addr: '10.0.0.1:6379' }), role(4000, 'redis2', 'master')];
}

describe('client checker', () => {
  it('client failover is fault -> first acknowledged write invoked after it; the switch and the old-master window beside it', () => {
    const ev = [
      ...base(),
      op(1100, 2, 'invoke'),
      op(2100, 2, 'info', { error: 'Command timed out', addr: '10.0.0.1:6379' }),
      op(4500, 3, 'invoke'),
      op(5500, 3, 'info', { error: 'Command timed out', addr: '10.0.0.1:6379' }),
      op(6000, 4, 'invoke'),
      op(6020, 4, 'ok', { addr: '10.0.0.2:6379' }),
    ].sort((a, b) => a.time - b.time);
    const m = measureClient(ev, { via, faultAt: 1000, oldMaster: 'redis1', oldMasterAddrs: ['10.0.0.1:6379'], failoverBudgetMs: 10_000, maxStuckMs: 5000 });
    expect(m.clientFailoverMs).to.equal(5020);
    expect(m.serverSwitchMs).to.equal(3000);
    expect(m.oldMasterMs).to.equal(500);
    expect(m.stuckMs).to.equal(1000);
    expect(m.unsettled).to.equal(0);
    const { checks } = checkClient(ev, { via, faultAt: 1000, oldMaster: 'redis1', oldMasterAddrs: ['10.0.0.1:6379'], failoverBudgetMs: 5000, maxStuckMs: 5000 });
    const fo = checks.find((c) => c.name === 'client-failover')!;
    expect(fo.verdict).to.equal('fail');
    expect(fo.detail).to.equal('client:lib acknowledged its first write 5.02 s after the fault (the server side switched after 3.00 s); it kept sending to the old master for 0.50 s after the switch: over the 5.00 s budget');
    expect(checks.find((c) => c.name === 'client-settles')!.verdict).to.equal('pass');
  });

  it('a client that never writes again fails with the server switch in the reason; unsettled commands fail client-settles', () => {
    const ev = [...base(), op(1200, 2, 'invoke'), op(30_000, 2, 'info', { error: 'unsettled: no answer 28800 ms after it was sent', unsettled: true })].sort((a, b) => a.time - b.time);
    const { checks, measures } = checkClient(ev, { via, faultAt: 1000, oldMaster: 'redis1', failoverBudgetMs: 10_000, maxStuckMs: 5000 });
    expect(measures.clientFailoverMs).to.equal(null);
    expect(measures.unsettled).to.equal(1);
    expect(checks.find((c) => c.name === 'client-failover')!.detail).to.equal('client:lib never acknowledged a write after the fault, though the server side switched after 3.00 s');
    const settles = checks.find((c) => c.name === 'client-settles')!;
    expect(settles.verdict).to.equal('fail');
    expect(settles.detail).to.match(/^1 command\(s\) via client:lib never settled/);
  });

  it('a graceful failover: writes the old master took before the switch, or lost after it, are no recovery', () => {
    const ev = [
      ...base(),
      op(1100, 2, 'invoke'),
      op(1110, 2, 'ok', { addr: '10.0.0.1:6379' }),
      op(4200, 3, 'invoke'),
      op(4210, 3, 'ok', { addr: '10.0.0.1:6379' }),
      op(4300, 4, 'invoke'),
      op(4310, 4, 'ok', { addr: '10.0.0.2:6379' }),
    ].sort((a, b) => a.time - b.time);
    const o = { via, faultAt: 1000, oldMaster: 'redis1', oldMasterAddrs: ['10.0.0.1:6379'], failoverBudgetMs: 10_000, maxStuckMs: 5000 };
    expect(measureClient(ev, o).clientFailoverMs).to.equal(3210);
    const m = measureClient(ev, { ...o, lost: new Set(['v3']) });
    expect(m.clientFailoverMs).to.equal(3310);
    expect(m.oldMasterMs).to.equal(200);
  });

  it('writes invoked after the switch, acknowledged and then lost, fail client-stale-master: the client wrote to the old master', () => {
    const ev = [
      ...base(),
      op(4300, 4, 'invoke'),
      op(4310, 4, 'ok'),
      // After a heal the old master takes writes again until it is converted; the final read does not have them.
      op(6000, 5, 'invoke'),
      op(6010, 5, 'ok'),
      op(6100, 6, 'invoke'),
      op(6110, 6, 'ok'),
    ].sort((a, b) => a.time - b.time);
    const o = { via, faultAt: 1000, oldMaster: 'redis1', failoverBudgetMs: 10_000, maxStuckMs: 5000 };
    expect(checkClient(ev, o).checks.map((c) => c.name)).to.not.include('client-stale-master');
    // v1 was lost too, but it was invoked before the switch: asynchronous replication, not the client.
    const { checks } = checkClient(ev, { ...o, lost: new Set(['v1', 'v5', 'v6']) });
    const stale = checks.find((c) => c.name === 'client-stale-master')!;
    expect(stale.verdict).to.equal('fail');
    expect(stale.data?.['staleWrites']).to.equal(2);
    expect(stale.detail).to.equal('2 write(s) client:lib invoked after the server side switched were acknowledged and then lost (acknowledged 5.01 s to 5.11 s after the fault): the client wrote to redis1, no longer the master, which took them until it was converted');
  });

  it('pub/sub: only messages published after the client failed over count, and at least one must arrive', () => {
    const pub = (t: number, p: number, msg: string): HistoryEvent[] => [
      { type: 'op', scenario: 's', time: t, process: p, f: 'publish', via, phase: 'invoke', key: 'chan', value: msg },
      { type: 'op', scenario: 's', time: t + 5, process: p, f: 'publish', via, phase: 'ok', key: 'chan', value: msg },
    ];
    const deliver = (t: number, msg: string): HistoryEvent => ({ type: 'op', scenario: 's', time: t, process: -1, f: 'deliver', via, phase: 'ok', key: 'chan', value: msg });
    const recovered = [op(5000, 9, 'invoke'), op(5010, 9, 'ok')];
    const silent = [...base(), ...recovered, ...pub(6000, 10, 'm-1'), ...pub(7000, 11, 'm-2'), deliver(600, 'm-0')].sort((a, b) => a.time - b.time);
    const opts = { via, faultAt: 1000, oldMaster: 'redis1', failoverBudgetMs: 10_000, maxStuckMs: 5000, pubsub: true };
    const bad = checkClient(silent, opts).checks.find((c) => c.name === 'client-pubsub')!;
    expect(bad.verdict).to.equal('fail');
    expect(bad.detail).to.equal("the subscriber received none of 2 messages published after the client's failover: it went silent");
    const good = checkClient([...silent, deliver(7010, 'm-2')].sort((a, b) => a.time - b.time), opts).checks.find((c) => c.name === 'client-pubsub')!;
    expect(good.verdict).to.equal('pass');
    expect(good.detail).to.equal("the subscriber received 1 of 2 messages published after the client's failover");
  });
});
