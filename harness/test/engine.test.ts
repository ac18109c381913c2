import { expect } from 'chai';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTopology } from '../src/topology/load.js';
import { shippedTopologiesDir } from '../src/topology/paths.js';
import { BadInputError, exitCodeFor, listScenarios, runScenarios } from '../src/engine/run.js';
import { readHistory } from '../src/history/reader.js';
import type { RunResults } from '../src/results/types.js';
import { analyzeRun } from '../src/engine/analyze.js';
import { factsOf } from '../src/history/events.js';
import { main } from '../src/cli/main.js';

describe('engine: runScenarios end to end on the local driver with real Redis', function () {
  this.timeout(180_000);
  let out: string;
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'chaos-engine-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('lists every shipped scenario once', () => {
    const names = listScenarios().map((s) => s.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const n of ['sentinel-failover', 'sentinel-failback', 'haproxy-routing', 'partition-isolate-master', 'restart-empty', 'cluster-host-failure', 'cluster-host-recovery', 'cluster-routing', 'cluster-shard-loss', 'cluster-minority-partition', 'cluster-live-reshard', 'toxic-client-link', 'random-chaos']) {
      expect(names).to.include(n);
    }
  });

  it('rejects an unknown scenario as bad input before deploying anything', async () => {
    const topology = loadTopology(join(shippedTopologiesDir(), 'sentinel-3.yml'), { profile: 'ci' });
    let err: unknown;
    try {
      await runScenarios({ topology, scenarios: ['no-such-scenario'], driverName: 'local', seed: 1, outDir: join(out, 'bad'), commandLine: 'test' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(BadInputError);
    expect(String(err)).to.contain('no-such-scenario');
  });

  it('sentinel-failover passes on real Redis; results.json, junit.xml and history.jsonl agree; a cluster scenario is skipped with its reason', async () => {
    // One sentinel: no split vote can stretch the failover past the budget and make the test flaky.
    const topology = loadTopology(join(shippedTopologiesDir(), 'sentinel-haproxy.yml'), { profile: 'ci' });
    const lines: string[] = [];
    const results = await runScenarios({
      topology,
      scenarios: ['cluster-routing', 'sentinel-failover'],
      target: 'redis',
      driverName: 'local',
      seed: 7,
      outDir: out,
      log: (l) => lines.push(l),
      commandLine: 'redis-ha-chaos run sentinel-haproxy --scenario sentinel-failover --seed 7',
    });
    const [skipped, failover] = results.scenarios;
    expect(skipped!.verdict).to.equal('skip');
    expect(skipped!.skipReason).to.contain('cluster');
    const detail = failover!.checks.map((c) => `${c.name}=${c.verdict}: ${c.detail}`).join('\n');
    expect(failover!.verdict, `${failover!.error ?? ''}\n${detail}`).to.equal('pass');
    expect(failover!.checks.map((c) => c.name)).to.include.members(['acknowledged-writes', 'single-master', 'failover-time', 'promotion']);
    expect(failover!.writes.acknowledged).to.be.greaterThan(100);
    expect(failover!.failoverMs).to.be.a('number').and.to.be.at.most(topology.budgets.failoverMs);
    expect(failover!.rolesBefore).to.deep.include({ redis1: 'master' });
    expect(failover!.rolesAfter!['redis1']).to.equal('down');
    expect(failover!.configFiles.length).to.be.greaterThan(0);
    expect(results.verdict).to.equal('pass');
    expect(exitCodeFor(results)).to.equal(0);
    expect(lines.some((l) => l.includes('seed 7'))).to.equal(true);
    expect(lines.some((l) => /sentinel-failover: PASS/.test(l))).to.equal(true);

    const onDisk = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(onDisk.scenarios.map((s) => [s.name, s.verdict])).to.deep.equal(results.scenarios.map((s) => [s.name, s.verdict]));
    expect(onDisk.seed).to.equal(7);
    expect(onDisk.history).to.equal('history.jsonl');

    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    const cases = junit.match(/<testcase /g) ?? [];
    expect(cases.length).to.equal(failover!.checks.length + 1);
    expect(junit).to.match(/<testsuite name="sentinel-haproxy" tests="\d+" failures="0" errors="0" skipped="1"/);
    expect(junit).to.contain('name="sentinel-failover / promotion"');

    const history = readHistory(join(out, 'history.jsonl'));
    const mine = history.filter((e) => e.scenario === 'sentinel-failover');
    const kill = mine.find((e) => e.type === 'fault' && e.name === 'kill');
    expect(kill && kill.type === 'fault' ? kill.targets : []).to.deep.equal(['redis1']);
    const acked = mine.filter((e) => e.type === 'op' && e.phase === 'ok' && e.f === 'add').length;
    expect(acked).to.equal(failover!.writes.acknowledged);
    expect(mine.some((e) => e.type === 'observation' && e.source === 'sentinel' && e.role === 'sentinel-switch')).to.equal(true);
    // The passing scenario's instance folder is removed unless --keep.
    expect(existsSync(join(out, 'instances', '02-sentinel-failover'))).to.equal(false);
  });

  it('analyze judges the recorded run again from its folder alone: same verdicts and checks; facts are history events', async () => {
    const recorded = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    const mine = readHistory(join(out, 'history.jsonl')).filter((e) => e.scenario === 'sentinel-failover');
    const facts = factsOf(mine);
    expect(facts.oldMaster).to.equal('redis1');
    expect(facts.faultAt).to.be.a('number');
    expect(facts.via).to.equal('haproxy');
    const { results, changed } = analyzeRun(out);
    expect(changed).to.deep.equal([]);
    expect(results.scenarios.map((s) => [s.name, s.verdict, s.checks])).to.deep.equal(recorded.scenarios.map((s) => [s.name, s.verdict, s.checks]));
    expect(results.scenarios[1]!.writes).to.deep.equal(recorded.scenarios[1]!.writes);
    const rewritten = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(rewritten.scenarios.map((s) => s.verdict)).to.deep.equal(recorded.scenarios.map((s) => s.verdict));
  });

  it('analyze refuses a truncated or malformed history with file:line and exit 2', async () => {
    const text = readFileSync(join(out, 'history.jsonl'), 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    const half = Math.floor(lines.length / 2);
    const torn = join(out, 'torn');
    mkdirSync(torn);
    cpSync(join(out, 'results.json'), join(torn, 'results.json'));
    // Cut mid-line, as a crash while writing leaves it.
    writeFileSync(join(torn, 'history.jsonl'), lines.slice(0, half).join('\n') + '\n' + lines[half]!.slice(0, 10));
    expect(() => analyzeRun(torn)).to.throw(BadInputError, new RegExp(`history\\.jsonl:${half + 1}: not a JSON line \\(the history is truncated`));
    // Whole lines, but the scenario's history stops before its end.
    writeFileSync(join(torn, 'history.jsonl'), lines.slice(0, half).join('\n') + '\n');
    expect(() => analyzeRun(torn)).to.throw(BadInputError, new RegExp(`history\\.jsonl:${half}: the history of scenario "sentinel-failover" ends without its scenario-end mark`));
    const bad = [...lines];
    bad[5] = '{"type":"op","scenario":"sentinel-failover","time":"soon"}';
    writeFileSync(join(torn, 'history.jsonl'), bad.join('\n') + '\n');
    const errs: string[] = [];
    const code = await main(['analyze', torn], { out: () => undefined, err: (l) => errs.push(l) });
    expect(code).to.equal(2);
    expect(errs).to.have.length(1);
    expect(errs[0]).to.match(/history\.jsonl:6: field "time" must be a number$/);
  });
});
