/** Plain-text scenario table for stdout and CI logs. */
import type { RunResults } from '../../harness/src/results/types.js';
import { anomalyLine, formatCount, formatMs, isAnomalyReproduced, scenarioVerdictLabel, verdictLabel } from './format.js';
import { printable } from './html.js';

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7]);
  return cells
    .map((row) =>
      row
        .map((cell, c) => (c === row.length - 1 ? cell : numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function summaryTable(results: RunResults): string {
  const header = ['SCENARIO', 'VERDICT', 'FAILOVER', 'UNAVAILABLE', 'ACKED', 'LOST', 'UNEXPECTED', 'INDETERMINATE', 'NOTES'];
  const rows = results.scenarios.map((s) => {
    const failed = s.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'error').map((c) => `${c.name}: ${c.detail}`);
    const notes = s.verdict === 'skip' ? `skipped: ${s.skipReason ?? ''}` : s.verdict === 'error' ? `error: ${s.error ?? ''}` : isAnomalyReproduced(s) ? anomalyLine(s) : failed.join('; ');
    return [
      printable(s.name),
      scenarioVerdictLabel(s),
      formatMs(s.failoverMs),
      formatMs(s.unavailabilityMs),
      formatCount(s.writes.acknowledged),
      formatCount(s.writes.lost),
      formatCount(s.writes.unexpected),
      formatCount(s.writes.indeterminate),
      printable(notes),
    ];
  });
  const counts = { pass: 0, fail: 0, skip: 0, error: 0 };
  for (const s of results.scenarios) counts[s.verdict]++;
  const head = `${verdictLabel(results.verdict)}  run ${printable(results.runId)}  topology ${printable(results.topology)}  target ${results.target}  driver ${printable(results.driver)}  seed ${results.seed}`;
  const anomalies = results.scenarios.filter(isAnomalyReproduced).length;
  const tail = `${counts.pass} passed${anomalies ? ` (${anomalies} of them by reproducing a documented anomaly)` : ''}, ${counts.fail} failed, ${counts.error} errors, ${counts.skip} skipped\nreproduce: ${printable(results.command)}`;
  return `${head}\n${pad([header, ...rows])}\n${tail}\n`;
}
