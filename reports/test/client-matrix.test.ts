import { expect } from 'chai';
import type { RunResults, ScenarioResult } from '../../harness/src/results/types.js';
import { buildClientMatrix, clientMatrixTable } from '../src/client-matrix.js';

function scenario(name: string, client: string, verdict: ScenarioResult['verdict'], rounds: { clientFailoverMs: number | null; serverSwitchMs: number | null }[]): ScenarioResult {
  return {
    name, description: '', topology: 'sentinel-3', target: 'redis', driver: 'local', verdict,
    checks: verdict === 'fail' ? [{ name: 'client-failover', verdict: 'fail', detail: 'x' }] : [],
    writes: { attempted: 0, acknowledged: 0, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
    lostSample: [], unexpectedSample: [], startedAt: 0, durationMs: 0, configFiles: [],
    client: { name: client, rounds: rounds.map((r) => ({ ...r, oldMasterMs: null, stuckMs: 1000, unsettled: 0 })) },
  };
}

function run(...scenarios: ScenarioResult[]): RunResults {
  return { tool: 'redis-ha-chaos', version: '0', runId: 'r', topology: 'sentinel-3', target: 'redis', driver: 'local', seed: 1, command: '', versions: {}, startedAt: '', durationMs: 0, verdict: 'pass', scenarios, history: 'history.jsonl' } as RunResults;
}

describe('client matrix', () => {
  it('rows are clients, columns scenario x topology x target; a double failover shows its slower round', () => {
    const m = buildClientMatrix([
      run(scenario('client-kill', 'ioredis', 'pass', [{ clientFailoverMs: 7000, serverSwitchMs: 4000 }])),
      run(scenario('client-kill', 'redis-py', 'pass', [{ clientFailoverMs: 5000, serverSwitchMs: 4100 }]), scenario('client-double-failover', 'redis-py', 'fail', [{ clientFailoverMs: 1000, serverSwitchMs: 900 }, { clientFailoverMs: null, serverSwitchMs: 800 }])),
    ]);
    expect(m.clients).to.deep.equal(['ioredis', 'redis-py']);
    expect(m.columns).to.deep.equal(['client-double-failover · sentinel-3 · redis', 'client-kill · sentinel-3 · redis']);
    const html = String(clientMatrixTable(m));
    expect(html).to.contain('id="client-matrix"');
    expect(html).to.match(/data-client="redis-py">.*data-verdict="fail" data-client-failover="">.*client never · server 800 ms.*failed: client-failover/s);
    expect(html).to.contain('client 7.00 s · server 4.00 s');
  });

  it('renders nothing for runs without client scenarios', () => {
    expect(String(clientMatrixTable(buildClientMatrix([run()])))).to.equal('');
  });
});
