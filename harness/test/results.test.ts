import { expect } from 'chai';
import { toJUnit } from '../src/results/junit.js';
import { BadInputError, exitCodeFor, exitCodeForError } from '../src/results/exit-code.js';
import type { RunResults, ScenarioResult } from '../src/results/types.js';

function scenario(name: string, verdict: ScenarioResult['verdict'], checks: ScenarioResult['checks'], extra: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    name, description: '', topology: 'sentinel-3', target: 'redis', driver: 'local', verdict, checks,
    writes: { attempted: 0, acknowledged: 0, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
    lostSample: [], unexpectedSample: [], startedAt: 0, durationMs: 1500, configFiles: [], ...extra,
  };
}
function run(scenarios: ScenarioResult[], verdict: RunResults['verdict']): RunResults {
  return { tool: 'redis-ha-chaos', version: '0', runId: 'r', topology: 'sentinel-3', topologyFile: 'x', target: 'redis', driver: 'local', seed: 5, command: 'cmd --x "<y>"', versions: {}, startedAt: '2026-01-01T00:00:00Z', durationMs: 3000, verdict, scenarios, history: 'history.jsonl' };
}

describe('results: JUnit XML and exit codes', () => {
  const r = run([
    scenario('a', 'fail', [{ name: 'writes', verdict: 'pass', detail: 'ok' }, { name: 'single-master', verdict: 'fail', detail: 'two masters <a & b>' }]),
    scenario('b', 'skip', [], { skipReason: 'needs a cluster' }),
    scenario('c', 'error', [], { error: 'deploy failed' }),
  ], 'error');

  it('writes one testcase per check, skipped with reason, failures with details, escaped', () => {
    const x = toJUnit(r);
    expect(x).to.match(/<testsuite name="sentinel-3" tests="4" failures="1" errors="1" skipped="1"/);
    expect(x).to.contain('name="a / single-master"');
    expect(x).to.contain('<failure message="two masters &lt;a &amp; b&gt;"');
    expect(x).to.contain('<skipped message="needs a cluster"/>');
    expect(x).to.contain('<error message="deploy failed">');
    expect(x).to.contain('value="cmd --x &quot;&lt;y&gt;&quot;"');
    expect(x).to.not.match(/<[^>]*<[^/!?]/);
  });

  it('maps verdicts and errors to 0/1/2/3', () => {
    expect(exitCodeFor(r)).to.equal(3);
    expect(exitCodeFor(run([scenario('a', 'fail', [])], 'fail'))).to.equal(1);
    expect(exitCodeFor(run([scenario('a', 'pass', []), scenario('b', 'skip', [])], 'pass'))).to.equal(0);
    expect(exitCodeForError(new BadInputError('x'))).to.equal(2);
    const te = new Error('bad yaml');
    te.name = 'TopologyError';
    expect(exitCodeForError(te)).to.equal(2);
    expect(exitCodeForError(new Error('boom'))).to.equal(3);
  });
});
