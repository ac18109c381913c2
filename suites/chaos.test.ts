/**
 * Randomised chaos: a seeded schedule of mixed faults under a continuous workload on each seed topology, then
 * the invariants (acknowledged writes, one master, convergence: every node back, one master per shard, every
 * key readable). The same seed gives the same schedule on every target.
 */
import { expect } from 'chai';
import type { FaultEvent } from '../harness/src/history/events.js';
import type { ScheduledFault } from '../harness/src/nemesis/faults.js';
import type { Topology } from '../harness/src/topology/model.js';
import { driverUnavailable, drivers, prepareDriver, shipped, targets, tempRoot } from './lib/params.js';
import { check, describeChecks, expectCheckPass, expectScenarioPass, recordSkip, runScenario, tidyRunFolders } from './lib/run.js';

const SUITE = 'chaos';
/** topology name -> the schedule the first target ran, to compare the next target's against. */
const schedules = new Map<string, ScheduledFault[]>();

for (const driver of drivers()) {
  for (const target of targets()) {
    describe(`random chaos suite [target ${target}, driver ${driver}]`, function () {
      this.timeout(240_000);
      const root = tempRoot(`chaos-${target}-${driver}`);
      after(() => root.remove());
      tidyRunFolders();
      prepareDriver(driver);

      for (const topo of [shipped('sentinel-haproxy-toxiproxy'), shipped('cluster-3x2')] as Topology[]) {
        it(`${topo.name}: seeded mixed faults; acknowledged writes kept, one master per shard, every node back and every key readable`, async function () {
          const why = driverUnavailable(driver);
          if (why) recordSkip(this, { suite: SUITE, scenario: 'random-chaos-convergence', topology: topo.name, target, driver, reason: why });
          const run = await runScenario(this, { suite: SUITE, topology: topo, scenario: 'random-chaos-convergence', target, driver, root: root.dir });
          const r = run.result;
          expectCheckPass(r, 'schedule', 'recovery', 'acknowledged-writes', 'seed-convergence');
          const schedule = (check(r, 'schedule').data?.['schedule'] ?? []) as ScheduledFault[];
          expect(schedule.length, 'the schedule has faults').to.be.greaterThan(0);
          // The run applied exactly the scheduled faults, in order, but for those whose target did not exist when due (numbered in the check).
          const skipped = new Set(((check(r, 'schedule').data?.['skipped'] ?? []) as string[]).map((m) => Number(/^#(\d+) /.exec(m)?.[1]) - 1));
          const applied = run.events.filter((e): e is FaultEvent => e.type === 'fault' && e.phase === 'start').map((e) => e.name);
          expect(applied, describeChecks(r)).to.deep.equal(schedule.filter((_, i) => !skipped.has(i)).map((f) => f.fault));
          // Convergence: every instance back and answering, one master per shard (as the observer last saw them).
          const roles = r.rolesAfter ?? {};
          for (const inst of topo.redis) expect(roles[inst.name], `${inst.name} after healing\n${describeChecks(r)}`).to.be.oneOf(['master', 'replica']);
          const masters = Object.values(roles).filter((x) => x === 'master').length;
          expect(masters, `masters after healing: ${JSON.stringify(roles)}`).to.equal(topo.kind === 'cluster' ? topo.redis.length / (1 + topo.cluster!.replicasPerMaster) : 1);
          expect(check(r, 'acknowledged-writes').detail, 'the final read succeeded').to.not.match(/final read never succeeded/);
          const seen = schedules.get(topo.name);
          if (seen) expect(schedule, 'the same seed replays the same schedule on every target').to.deep.equal(seen);
          else schedules.set(topo.name, schedule);
          expectScenarioPass(run);
          console.log(`      ${topo.name} [${target}]: ${schedule.length} faults (${schedule.map((f) => f.fault).join(', ')}); ${r.writes.lost} of ${r.writes.acknowledged} acknowledged writes lost`);
        });
      }
    });
  }
}
