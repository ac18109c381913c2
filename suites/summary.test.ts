/** Root hook: after every suite, one table of what ran, what failed and what was skipped (with reasons). */
import { recorded } from './lib/run.js';
import { drivers, seed, targets } from './lib/params.js';

after(function () {
  const all = recorded();
  if (all.length === 0) return;
  const count = (v: string): number => all.filter((e) => e.verdict === v).length;
  const lines = [
    '',
    `conformance suites: ${all.length} scenario runs (targets ${targets().join(',')}; drivers ${drivers().join(',')}; seed ${seed()}): ` +
      `${count('pass')} passed, ${count('fail')} failed, ${count('error')} harness errors, ${count('skip')} skipped`,
  ];
  for (const e of all) {
    lines.push(`  ${e.verdict.toUpperCase().padEnd(5)} ${e.suite.padEnd(8)} ${e.topology.padEnd(18)} ${e.scenario.padEnd(32)} ${e.target}/${e.driver}  ${(e.durationMs / 1000).toFixed(1)} s${e.reason ? `  (${e.reason.split('\n')[0]})` : ''}`);
  }
  console.log(lines.join('\n'));
  // Every scenario run skipped means the suites verified nothing: CI must fail, not pass on silence.
  if (count('skip') === all.length) throw new Error(`every one of ${all.length} scenario runs was skipped, so the conformance suites verified nothing (see the reasons above)`);
});
