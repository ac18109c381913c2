/**
 * Sentinel + HAProxy conformance (seed 000's first half, Jepsen's Sentinel analysis), for every target and
 * driver in CHAOS_TARGETS / CHAOS_DRIVERS. Each test runs one engine scenario on a fresh deployment and
 * asserts on its results and its history.
 */
import { expect } from 'chai';
import { checkSingleMaster, ops } from '../harness/src/checkers/index.js';
import { driverUnavailable, drivers, prepareDriver, sentinelTargets, shipped, targets, tempRoot, withSentinelTarget } from './lib/params.js';
import { check, describeChecks, lostFromHistory, expectCheckPass, expectScenarioPass, recordSkip, runScenario, tidyRunFolders, type RunArgs } from './lib/run.js';

const SUITE = 'sentinel';

for (const driver of drivers()) {
  // A redis or reference target puts the Sentinels on it too (as run --target does): CHAOS_SENTINEL_TARGETS varies
  // the Sentinels only where the YAML decides (target "topology"), so no run repeats another under a different label.
  for (const target of targets()) for (const sentinelTarget of target === 'topology' ? sentinelTargets() : ['topology' as const]) {
    const sentinels = sentinelTarget === 'topology' ? '' : `, sentinels ${sentinelTarget}`;
    describe(`sentinel + HAProxy suite [target ${target}${sentinels}, driver ${driver}]`, function () {
      this.timeout(180_000);
      const root = tempRoot(`sentinel-${target}-${sentinelTarget}-${driver}`);
      after(() => root.remove());
      tidyRunFolders();
      prepareDriver(driver);
      const seedTopo = withSentinelTarget(shipped('sentinel-haproxy'), sentinelTarget);
      const threeTopo = withSentinelTarget(shipped('sentinel-3'), sentinelTarget);
      const args = (topology: typeof seedTopo, scenario: string): RunArgs => ({ suite: SUITE, topology, scenario, target, driver, root: root.dir });
      beforeEach(function () {
        const why = driverUnavailable(driver);
        if (why) recordSkip(this, { suite: SUITE, scenario: (this.currentTest?.title ?? '?').split(':')[0]!, topology: 'sentinel', target, driver, reason: why });
      });

      it('seed walk-through: roles, NOAUTH, INFO sentinel, failover and failback in both rounds', async function () {
        const run = await runScenario(this, args(seedTopo, 'sentinel-seed-walkthrough'));
        const r = run.result;
        expectCheckPass(r, 'seed-roles', 'seed-noauth', 'seed-sentinel-sees-master', 'seed-failover-1', 'seed-failback-1', 'seed-failover-2', 'seed-failback-2');
        expectCheckPass(r, 'promotion', 'failback', 'promotion-2', 'failback-2', 'acknowledged-writes');
        // The seed's observations, read back from the history as a person would read redis-cli's output.
        const marks = run.events.filter((e) => e.type === 'mark' && e.name.startsWith('seed-'));
        const text = marks.map((m) => (m.type === 'mark' ? `${m.name} ${m.detail ?? ''}` : '')).join('\n');
        expect(text).to.match(/seed-noauth ok: GET without the password answered: NOAUTH/);
        expect(text).to.match(/seed-sentinel-sees-master ok: sentinel1 master0:name=master01,status=ok,address=\S+:6379,slaves=1,sentinels=1/);
        expect(text).to.match(/seed-failover-2 ok: .*\(redis1\)/);
        expectScenarioPass(run);
      });

      it('HAProxy: TestKey set and read back, connection dropped on failover, TestKey and writes back within budget, no READONLY after the switch', async function () {
        const run = await runScenario(this, args(seedTopo, 'haproxy-seed-testkey'));
        const r = run.result;
        expectCheckPass(r, 'seed-testkey-set-get', 'seed-connection-dropped', 'seed-testkey-after-failover', 'haproxy-routing', 'promotion');
        expect(r.failoverMs, describeChecks(r)).to.be.a('number').and.to.be.at.most(seedTopo.budgets.failoverMs);
        expect(r.writes.lost, describeChecks(r)).to.equal(0);
        expectScenarioPass(run);
      });

      it('restart-empty: a master without persistence restarting before the sentinels notice wipes its replica; the loss is shown', async function () {
        const run = await runScenario(this, args(seedTopo, 'restart-empty'));
        const r = run.result;
        expectCheckPass(r, 'empty-restart-loss-detected');
        expect(r.writes.acknowledged).to.be.greaterThan(0);
        expect(r.writes.lost, describeChecks(r)).to.be.greaterThan(0);
        expect(r.warnings?.join(' ')).to.contain('persistence off');
        expectScenarioPass(run);
      });

      // Jepsen's Sentinel test needs two replicas: with one, min-replicas-to-write 1 leaves the promoted master unwritable.
      it('partition without min-replicas-to-write: split brain detected, acknowledged writes lost and counted (Redis\'s documented behaviour)', async function () {
        const run = await runScenario(this, args(threeTopo, 'partition-isolate-master-unsafe'));
        const r = run.result;
        expectCheckPass(r, 'split-brain-detected', 'promotion');
        const sm = checkSingleMaster(run.events);
        expect(sm.intervals.length, 'two writable masters were observed').to.be.greaterThan(0);
        expect(r.warnings?.join(' ')).to.contain('documented anomaly');
        expect(check(r, 'acknowledged-writes').detail).to.match(/lost/);
        expectScenarioPass(run);
        console.log(`      without min-replicas: ${r.writes.lost} of ${r.writes.acknowledged} acknowledged writes lost; split brain ${Math.round(sm.intervals.reduce((s, i) => s + i.end - i.start, 0))} ms`);
      });

      it('partition with min-replicas-to-write 1: only writes acknowledged within the max-lag window are lost', async function () {
        const run = await runScenario(this, args(threeTopo, 'partition-isolate-master'));
        const r = run.result;
        expectCheckPass(r, 'acknowledged-writes', 'single-master', 'promotion');
        const faultAt = run.events.find((e) => e.type === 'mark' && e.name === 'fault')?.time;
        expect(faultAt, 'the partition was applied').to.be.a('number');
        // Every lost write was acknowledged after the partition, and no later than the lag window (2 s) plus the 1 s ack period.
        const lost = lostFromHistory(run.events);
        expect(lost.size, 'the checker counted the lost writes the history shows').to.equal(r.writes.lost);
        const lostAcks = ops(run.events, (o) => o.f === 'add' && o.phase === 'ok' && lost.has(String(o.value)));
        for (const o of lostAcks) expect(o.time - faultAt!, `lost write ${String(o.value)} acknowledged ${Math.round(o.time - faultAt!)} ms after the partition`).to.be.within(-1000, 4000);
        expectScenarioPass(run);
        console.log(`      with min-replicas 1: ${r.writes.lost} of ${r.writes.acknowledged} acknowledged writes lost`);
      });
    });
  }
}

// Mixed quorums as shipped (each Sentinel's kind from the YAML): both failovers of the seed's failback run, and the
// promotion checks name which Sentinel led each one, a reference Sentinel or a redis-sentinel. Local driver only
// for now: the docker driver runs each kind of Sentinel in the per-target suites above.
for (const driver of drivers().filter((d) => d === 'local')) {
  describe(`sentinel suite: mixed quorums of reference and real Sentinels [driver ${driver}]`, function () {
    this.timeout(240_000);
    const root = tempRoot(`sentinel-mixed-${driver}`);
    after(() => root.remove());
    tidyRunFolders();
    prepareDriver(driver);
    beforeEach(function () {
      const why = driverUnavailable(driver);
      if (why) recordSkip(this, { suite: SUITE, scenario: 'sentinel-failback', topology: 'sentinel-mixed', target: 'topology', driver, reason: why });
    });

    for (const name of ['sentinel-mixed', 'sentinel-mixed-reverse']) {
      it(`${name}: kill, promotion, failback, twice; each promotion names its leader and the leader's kind`, async function () {
        const topology = shipped(name);
        const run = await runScenario(this, { suite: SUITE, topology, scenario: 'sentinel-failback', target: 'topology', driver, root: root.dir });
        const r = run.result;
        expectCheckPass(r, 'promotion', 'failback', 'promotion-2', 'failback-2');
        const kinds = new Map(topology.sentinels.map((s) => [s.name, s.target === 'redis' ? 'redis-sentinel' : 'reference Sentinel']));
        const leaders: string[] = [];
        for (const c of ['promotion', 'promotion-2']) {
          const m = /led by (\S+), a (redis-sentinel|reference Sentinel)\)/.exec(check(r, c).detail);
          expect(m, `${c}: ${check(r, c).detail}`).to.not.equal(null);
          expect(m![2], `${c}: the leader's kind is the one its YAML entry names`).to.equal(kinds.get(m![1]!));
          leaders.push(`${m![1]} (${m![2]})`);
        }
        expectScenarioPass(run);
        console.log(`      ${name}: first failover led by ${leaders[0]}, second by ${leaders[1]}`);
      });
    }
  });
}
