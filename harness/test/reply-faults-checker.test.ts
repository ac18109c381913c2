/** checkReplyFaults over hand-made histories: what a careful reader concludes from each, and why. */
import { expect } from 'chai';
import { checkReplyFaults } from '../src/checkers/reply-faults.js';
import type { HistoryEvent, OpEvent, ReplyFaultWindow } from '../src/history/events.js';

const via = 'client:lib';
const opts = { via, recoveryBudgetMs: 2000, maxStuckMs: 5000 };

function op(time: number, process: number, phase: OpEvent['phase'], extra: Partial<OpEvent> = {}): HistoryEvent {
  return { type: 'op', scenario: 's', time, process, f: 'add', via, phase, key: 'client:set:0', value: `v${process}`, ...extra };
}

function window(kind: string, startAt: number, endAt: number, injected = 3): ReplyFaultWindow {
  return { kind, targets: ['redis1'], rule: [kind.toUpperCase(), 'KEY', 'client*'], startAt, endAt, matched: injected * 2, injected };
}

const verdicts = (checks: { name: string; verdict: string }[]): Record<string, string> => Object.fromEntries(checks.map((c) => [c.name, c.verdict]));

describe('reply-faults checker', () => {
  it('a client that fails the faulted commands and writes again after the window passes, and the counts say how it surfaced them', () => {
    const ev = [
      op(1000, 1, 'invoke'), op(1010, 1, 'fail', { error: 'LOADING Redis is loading the dataset in memory' }),
      op(1100, 2, 'invoke'), op(1120, 2, 'ok'),
      op(2100, 3, 'invoke'), op(2150, 3, 'ok'),
    ];
    const { checks, rounds } = checkReplyFaults(ev, [window('loading', 900, 2000)], opts);
    expect(verdicts(checks)).to.deep.equal({ 'reply-fault-loading-settled': 'pass', 'reply-fault-loading-recovered': 'pass' });
    expect(rounds[0]).to.deep.include({ clientFailoverMs: 150, stuckMs: 20, unsettled: 0 });
    expect(rounds[0]!.replyFault).to.deep.equal({ kind: 'loading', injected: 3, failedWithIt: 1, okDuring: 1 });
  });

  it('a command sent during the window that never settles fails -settled, naming the reply', () => {
    const ev = [
      op(1000, 1, 'invoke'), op(9000, 1, 'info', { error: 'unsettled: no answer', unsettled: true }),
      op(2100, 3, 'invoke'), op(2150, 3, 'ok'),
    ];
    const { checks } = checkReplyFaults(ev, [window('moved', 900, 2000)], opts);
    const settled = checks.find((c) => c.name === 'reply-fault-moved-settled')!;
    expect(settled.verdict).to.equal('fail');
    expect(settled.detail).to.equal('1 command(s) sent while the servers answered MOVED never settled (limit 5.00 s)');
  });

  it('a client that never writes again after the replies stop fails -recovered; one that is slow fails it with the time', () => {
    const never = checkReplyFaults([op(1000, 1, 'invoke'), op(1010, 1, 'fail', { error: 'READONLY x' })], [window('readonly', 900, 2000)], opts);
    expect(never.checks.find((c) => c.name === 'reply-fault-readonly-recovered')!.detail).to.equal('after the READONLY replies stopped, no write through client:lib was acknowledged again');
    const slow = checkReplyFaults([op(2100, 1, 'invoke'), op(4600, 1, 'ok')], [window('readonly', 900, 2000)], opts);
    const r = slow.checks.find((c) => c.name === 'reply-fault-readonly-recovered')!;
    expect(r.verdict).to.equal('fail');
    expect(r.detail).to.equal('the first write acknowledged after the READONLY replies stopped came 2.60 s later (budget 2.00 s)');
  });

  it('no evidence, no pass: a rule that answered nothing, or no window at all, fails', () => {
    const none = checkReplyFaults([op(2100, 1, 'invoke'), op(2150, 1, 'ok')], [window('busy', 900, 2000, 0)], opts);
    expect(verdicts(none.checks)['reply-fault-busy-applied']).to.equal('fail');
    expect(checkReplyFaults([], [], opts).checks).to.deep.equal([{ name: 'reply-faults-applied', verdict: 'fail', detail: 'no reply-fault window was recorded, so the client was never tested' }]);
  });

  it('only the client under test counts: another path\'s ops are not the client\'s', () => {
    const other = (e: HistoryEvent): HistoryEvent => ({ ...(e as OpEvent), via: 'direct:redis1' });
    const ev = [other(op(1000, 1, 'invoke')), op(2100, 3, 'invoke'), op(2150, 3, 'ok')];
    const { checks } = checkReplyFaults(ev, [window('ask', 900, 2000)], opts);
    expect(verdicts(checks)['reply-fault-ask-settled']).to.equal('pass');
  });
});
