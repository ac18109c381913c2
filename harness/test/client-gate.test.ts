import { expect } from 'chai';
import { parseGate } from '../src/gate/file.js';
import { judgeScenario } from '../src/gate/run.js';
import type { ScenarioResult } from '../src/results/types.js';

function result(rounds: { clientFailoverMs: number | null; stuckMs: number; unsettled: number }[]): ScenarioResult {
  return {
    name: 'client-kill', description: '', topology: 'sentinel-3', target: 'redis', driver: 'local', verdict: 'pass', checks: [],
    writes: { attempted: 10, acknowledged: 10, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
    lostSample: [], unexpectedSample: [], startedAt: 0, durationMs: 0, configFiles: [],
    client: { name: 'redis-py', rounds: rounds.map((r) => ({ ...r, serverSwitchMs: 4000, oldMasterMs: null })) },
  };
}

describe('gate: client thresholds', () => {
  it('a run entry names a client; maxClientFailoverSeconds and maxStuckSeconds are thresholds like the others', () => {
    const gate = parseGate(
      'runs:\n  - topology: sentinel-3\n    client: redis-py\n    thresholds: { maxClientFailoverSeconds: 8, maxStuckSeconds: 3 }\n    scenarios: [client-kill]\n',
      '/tmp/g.yml',
    );
    expect(gate.runs[0]!.client).to.equal('redis-py');
    expect(gate.runs[0]!.scenarios[0]!.thresholds).to.include({ maxClientFailoverSeconds: 8, maxStuckSeconds: 3 });
  });

  it('says where a bad client or threshold is', () => {
    expect(() => parseGate('runs:\n  - topology: sentinel-3\n    client: 7\n    thresholds: { maxStuckSeconds: soon }\n    scenarios: [client-kill]\n', '/tmp/g.yml')).to.throw(
      /g\.yml:3:\d+: runs\[0\]\.client: expected a client adapter[\s\S]*g\.yml:4:\d+: runs\[0\]\.thresholds\.maxStuckSeconds: expected a number of seconds >= 0/,
    );
  });

  it('judges the slowest round, the longest wait, and breaks on any unsettled command', () => {
    const t = { checks: [] as string[], allowSkip: false, maxClientFailoverSeconds: 8, maxStuckSeconds: 3 };
    const good = judgeScenario(result([{ clientFailoverMs: 5000, stuckMs: 1100, unsettled: 0 }]), t);
    expect(good.ok, JSON.stringify(good.thresholds)).to.equal(true);
    expect(good.thresholds.map((x) => x.detail)).to.include.members(['redis-py: client-side failover 5.0 s <= 8 s', 'redis-py: the longest command waited 1.1 s <= 3 s', 'redis-py: every command settled']);
    const second = judgeScenario(result([{ clientFailoverMs: 5000, stuckMs: 1100, unsettled: 0 }, { clientFailoverMs: null, stuckMs: 1100, unsettled: 0 }]), t);
    expect(second.thresholds.find((x) => x.name === 'max-client-failover')).to.deep.include({ ok: false, detail: 'redis-py: client-side failover never > 8 s' });
    const hung = judgeScenario(result([{ clientFailoverMs: 5000, stuckMs: 24_000, unsettled: 2 }]), t);
    expect(hung.ok).to.equal(false);
    expect(hung.thresholds.filter((x) => !x.ok).map((x) => x.name)).to.deep.equal(['max-stuck', 'no-unsettled']);
  });
});

describe('client scenarios in the catalogue', () => {
  it("'all' includes the client-* scenarios only when a client adapter is named; by name they always resolve", async () => {
    const { resolveScenarios } = await import('../src/engine/run.js');
    const names = (xs: { name: string }[]) => xs.map((s) => s.name);
    expect(names(resolveScenarios(['all'], 'sentinel')).filter((n) => n.startsWith('client-'))).to.deep.equal([]);
    expect(names(resolveScenarios(['all'], 'cluster', true)).filter((n) => n.startsWith('client-'))).to.deep.equal([
      'client-kill', 'client-pause', 'client-partition', 'client-manual-failover', 'client-double-failover', 'client-pubsub', 'client-live-reshard', 'client-reply-faults',
    ]);
    // Sentinel-only (the Sentinel killed with the master) and cluster-only (the live reshard) ones go with their kind.
    const sentinel = names(resolveScenarios(['all'], 'sentinel', true)).filter((n) => n.startsWith('client-'));
    expect(sentinel).to.include('client-sentinel-and-master-down');
    expect(sentinel).to.include('client-demote');
    expect(sentinel).to.not.include('client-live-reshard');
    expect(names(resolveScenarios(['client-pause']))).to.deep.equal(['client-pause']);
  });
});
