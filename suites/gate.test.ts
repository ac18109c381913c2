/**
 * The CI gate: gate files are validated with file:line:col errors (exit 2), thresholds are judged per scenario,
 * a gate passes on the shipped configuration (exit 0) and fails on a broken one (exit 1), writing gate.json,
 * junit.xml and each run's report.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../harness/src/cli/main.js';
import { GateFileError, loadGate, parseGate } from '../harness/src/gate/file.js';
import { judgeScenario, type GateOutcome } from '../harness/src/gate/run.js';
import { packageRoot, shippedTopologiesDir } from '../harness/src/topology/paths.js';
import type { ScenarioResult } from '../harness/src/results/types.js';

const DEFAULT_GATE = path.join(packageRoot(), 'gates', 'default.yml');

function problemsOf(text: string, file = '/tmp/g.yml'): string[] {
  try {
    parseGate(text, file);
  } catch (e) {
    if (e instanceof GateFileError) return e.problems;
    throw e;
  }
  return [];
}

function result(over: Partial<ScenarioResult>): ScenarioResult {
  return {
    name: 's', description: '', topology: 't', target: 'redis', driver: 'local', verdict: 'pass', checks: [{ name: 'promotion', verdict: 'pass', detail: 'ok' }],
    writes: { attempted: 1000, acknowledged: 1000, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 }, lostSample: [], unexpectedSample: [], startedAt: 0, durationMs: 1, configFiles: [],
    ...over,
  };
}

describe('gate', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'chaos-gate-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gates/default.yml names the seeds\' topologies on real Redis with their ci profiles and known scenarios', () => {
    const g = loadGate(DEFAULT_GATE);
    expect(g.runs.map((r) => path.basename(r.topologyFile))).to.deep.equal(['sentinel-haproxy.yml', 'sentinel-3.yml', 'cluster-3x2.yml', 'cluster-6.yml']);
    for (const r of g.runs) {
      expect(r.target).to.equal('redis');
      expect(r.profile).to.equal('ci');
      expect(path.dirname(r.topologyFile)).to.equal(shippedTopologiesDir());
    }
    const first = g.runs[0]!.scenarios[0]!.thresholds;
    expect(first).to.deep.include({ maxFailoverSeconds: 10, maxUnavailabilitySeconds: 15, checks: 'all', allowSkip: false });
    expect(first.maxLostWrites).to.deep.equal({ fraction: 0.01 });
    const partition = g.runs[1]!.scenarios[0]!;
    expect(partition.name).to.equal('partition-isolate-master');
    expect(partition.thresholds.maxLostWrites).to.deep.equal({ fraction: 0.1 });
    expect(partition.thresholds.maxFailoverSeconds).to.equal(10);
  });

  it('reports every mistake in a gate file at once, as file:line:col', () => {
    const text = [
      'name: broken',
      'thresholds:',
      '  maxFailoverSeconds: soon',
      '  maxLostWrites: "lots"',
      'runs:',
      '  - topology: no-such-topology',
      '    scenarios: [sentinel-failover]',
      '  - topology: sentinel-haproxy',
      '    target: valkey',
      '    scenarios:',
      '      - no-such-scenario',
      '      - name: sentinel-failover',
      '        thresholds: { checks: 3 }',
      'extra: 1',
    ].join('\n');
    const p = problemsOf(text);
    expect(p).to.have.length(7);
    expect(p).to.include('/tmp/g.yml:3:23: thresholds.maxFailoverSeconds: expected a number of seconds >= 0');
    expect(p.find((x) => x.includes('maxLostWrites'))).to.match(/^\/tmp\/g\.yml:4:18: .*percentage/);
    expect(p.find((x) => x.includes('no-such-topology'))).to.match(/^\/tmp\/g\.yml:6:15: runs\[0\]\.topology: no such topology/);
    expect(p.find((x) => x.includes('.target:'))).to.match(/^\/tmp\/g\.yml:9:13: runs\[1\]\.target: expected redis or reference/);
    expect(p.find((x) => x.includes('no-such-scenario'))).to.match(/^\/tmp\/g\.yml:11:9: runs\[1\]\.scenarios\[0\]: unknown scenario "no-such-scenario"/);
    expect(p.find((x) => x.includes('checks'))).to.match(/^\/tmp\/g\.yml:13:31: runs\[1\]\.scenarios\[1\]\.thresholds\.checks: expected "all"/);
    expect(p.find((x) => x.includes('extra'))).to.match(/^\/tmp\/g\.yml:14:1: extra: unknown field/);
    expect(problemsOf('runs: [\n  - topology: x\n')[0]).to.match(/^\/tmp\/g\.yml:\d+:\d+: /);
    expect(problemsOf('name: only')[0]).to.equal('/tmp/g.yml:1:1: runs: expected a non-empty list of { topology, scenarios }');
  });

  it('the CLI exits 2 on a bad gate file and prints where the mistake is', async () => {
    const file = path.join(dir, 'bad.yml');
    writeFileSync(file, 'runs:\n  - topology: sentinel-haproxy\n    scenarios: [nope]\n');
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['gate', file], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).to.equal(2);
    expect(err).to.deep.equal([`${file}:3:17: runs[0].scenarios[0]: unknown scenario "nope"; list them with: redis-ha-chaos scenarios`]);
    // A topology problem is found before anything is deployed, even in the last run entry.
    const late = path.join(dir, 'late.yml');
    writeFileSync(late, 'runs:\n  - topology: sentinel-haproxy\n    scenarios: [sentinel-failover]\n  - topology: cluster-6\n    profile: nightly\n    scenarios: [cluster-seed-create]\n');
    const lateErr: string[] = [];
    const t0 = Date.now();
    expect(await main(['gate', late, '--out', path.join(dir, 'late-out')], { out: () => undefined, err: (l) => lateErr.push(l) })).to.equal(2);
    expect(Date.now() - t0).to.be.lessThan(5000);
    expect(lateErr.join('\n')).to.contain('nightly');
    expect(await main(['gate'], { out: () => undefined, err: (l) => err.push(l) })).to.equal(2);
    expect(err[err.length - 1]).to.match(/^gate: missing GATE\.yml; usage: redis-ha-chaos gate/);
  });

  it('judges failover, lost writes (count or fraction), unavailability, named checks and skips', () => {
    const base = { checks: 'all' as const, allowSkip: false };
    expect(judgeScenario(result({ failoverMs: 4000 }), { ...base, maxFailoverSeconds: 5 }).ok).to.equal(true);
    const slow = judgeScenario(result({ failoverMs: 12_000 }), { ...base, maxFailoverSeconds: 10 });
    expect(slow.ok).to.equal(false);
    expect(slow.thresholds[0]).to.deep.equal({ name: 'max-failover', ok: false, detail: 'failover 12.0 s > 10 s' });
    expect(judgeScenario(result({ failoverMs: null }), { ...base, maxFailoverSeconds: 10 }).ok, 'never recovered').to.equal(false);
    const writes = { attempted: 1000, acknowledged: 1000, lost: 20, unexpected: 0, recovered: 0, indeterminate: 0 };
    expect(judgeScenario(result({ writes }), { ...base, maxLostWrites: { count: 20 } }).ok).to.equal(true);
    expect(judgeScenario(result({ writes }), { ...base, maxLostWrites: { count: 19 } }).ok).to.equal(false);
    expect(judgeScenario(result({ writes }), { ...base, maxLostWrites: { fraction: 0.02 } }).ok).to.equal(true);
    expect(judgeScenario(result({ writes }), { ...base, maxLostWrites: { fraction: 0.01 } }).ok).to.equal(false);
    expect(judgeScenario(result({ unavailabilityMs: 16_000 }), { ...base, maxUnavailabilitySeconds: 15 }).ok).to.equal(false);
    const failing = result({ verdict: 'fail', checks: [{ name: 'promotion', verdict: 'pass', detail: 'ok' }, { name: 'failback', verdict: 'fail', detail: 'never rejoined' }] });
    expect(judgeScenario(failing, base).ok).to.equal(false);
    expect(judgeScenario(failing, { ...base, checks: ['promotion'] }).ok, 'only named checks must pass').to.equal(true);
    expect(judgeScenario(failing, { ...base, checks: ['failover-time'] }).thresholds[0]!.detail).to.contain('has no check named "failover-time"');
    const skipped = result({ verdict: 'skip', checks: [], skipReason: 'needs network partitions: not root' });
    expect(judgeScenario(skipped, base).ok, 'a skip cannot pass a gate').to.equal(false);
    expect(judgeScenario(skipped, { ...base, allowSkip: true }).ok).to.equal(true);
    const err = judgeScenario(result({ verdict: 'error', error: 'boom' }), base);
    expect(err.harnessError).to.equal('boom');
  });

  describe('end to end on real Redis (local driver)', function () {
    this.timeout(180_000);
    const gateText = (topology: string, scenario: string): string =>
      [
        'name: e2e',
        'seed: 3',
        'thresholds:',
        // The default gate's thresholds.
        ...readFileSync(DEFAULT_GATE, 'utf8').split('\n').slice(readFileSync(DEFAULT_GATE, 'utf8').split('\n').indexOf('thresholds:') + 1).filter((l) => /^  \w/.test(l)).slice(0, 4),
        'runs:',
        `  - topology: ${topology}`,
        '    profile: ci',
        '    target: redis',
        `    scenarios: [${scenario}]`,
      ].join('\n') + '\n';

    async function gate(name: string, text: string): Promise<{ code: number; outcome: GateOutcome; out: string[]; folder: string }> {
      const file = path.join(dir, `${name}.yml`);
      writeFileSync(file, text);
      const folder = path.join(dir, `${name}-out`);
      const out: string[] = [];
      const code = await main(['gate', file, '--out', folder], { out: (l) => out.push(l), err: (l) => out.push(l) });
      const outcome = JSON.parse(readFileSync(path.join(folder, 'gate.json'), 'utf8')) as GateOutcome;
      return { code, outcome, out, folder };
    }

    it('passes (exit 0) on the shipped sentinel-haproxy configuration, with gate.json, junit.xml and the run report', async function () {
      const { code, outcome, out, folder } = await gate('pass', gateText('sentinel-haproxy', 'haproxy-seed-testkey'));
      expect(code, out.join('\n')).to.equal(0);
      expect(outcome.verdict).to.equal('pass');
      const s = outcome.runs[0]!.scenarios[0]!;
      expect(s.thresholds.map((t) => t.name)).to.deep.equal(['max-failover', 'max-unavailability', 'max-lost-writes', 'checks']);
      expect(s.thresholds.every((t) => t.ok), JSON.stringify(s.thresholds)).to.equal(true);
      const junit = readFileSync(path.join(folder, 'junit.xml'), 'utf8');
      expect(junit).to.contain('failures="0" errors="0"');
      expect(junit).to.contain('name="haproxy-seed-testkey / max-failover"');
      expect(existsSync(path.join(outcome.runs[0]!.dir, 'results.json'))).to.equal(true);
      expect(existsSync(path.join(outcome.runs[0]!.dir, 'report.html'))).to.equal(true);
      expect(out.join('\n')).to.match(/gate e2e: PASS \(exit 0\)/);
    });

    it('fails (exit 1) when down-after-milliseconds is beyond the failover budget, naming the broken threshold', async function () {
      // The user's broken configuration: Sentinel waits 14 s before it acts, the budget is 10 s.
      const yml = readFileSync(path.join(shippedTopologiesDir(), 'sentinel-haproxy.yml'), 'utf8').replace('downAfterMs: 3000', 'downAfterMs: 14000');
      expect(yml).to.contain('downAfterMs: 14000');
      writeFileSync(path.join(dir, 'slow-sentinel.yml'), yml);
      const { code, outcome, out, folder } = await gate('fail', gateText('slow-sentinel.yml', 'sentinel-failover'));
      expect(code, out.join('\n')).to.equal(1);
      expect(outcome.verdict).to.equal('fail');
      const s = outcome.runs[0]!.scenarios[0]!;
      const failover = s.thresholds.find((t) => t.name === 'max-failover')!;
      expect(failover.ok, JSON.stringify(s.thresholds)).to.equal(false);
      expect(failover.detail).to.match(/^failover 1\d\.\d s > 10 s$/);
      expect(readFileSync(path.join(folder, 'junit.xml'), 'utf8')).to.match(/<failure message="failover 1\d\.\d s &gt; 10 s" type="max-failover">/);
      expect(out.join('\n')).to.match(/BROKEN max-failover: failover 1\d\.\d s > 10 s/);
      console.log(`      broken config: ${failover.detail}`);
    });
  });

});
