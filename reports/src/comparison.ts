/** Side-by-side report of the same scenarios run against several targets (real Redis vs the reference server). */
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ScenarioResult } from '../../harness/src/results/types.js';
import { roleSequence } from './aggregate.js';
import { page } from './assets.js';
import { formatCount, formatMs } from './format.js';
import { anchorId, html, printable, type SafeHtml } from './html.js';
import { exists, loadRun, type LoadedRun } from './load.js';

/** Timing differences below this are noise between two runs, not a behaviour difference. */
export const TIME_TOLERANCE = { absMs: 1000, ratio: 0.25 };

export interface Difference {
  scenario: string;
  aspect: string;
  /** Value per run label, as shown. */
  values: Record<string, string>;
}

interface Side {
  label: string;
  run: LoadedRun;
  reportHref?: string;
}

function timesDiffer(a: number | null | undefined, b: number | null | undefined): boolean {
  if (a === undefined || b === undefined) return a !== b;
  if (a === null || b === null) return a !== b;
  const diff = Math.abs(a - b);
  return diff > TIME_TOLERANCE.absMs && diff > TIME_TOLERANCE.ratio * Math.max(a, b);
}

function roleSequences(side: Side, scenario: string): Map<string, string> {
  const out = new Map<string, string>();
  const h = side.run.histories.get(scenario);
  if (!h) return out;
  for (const entry of h.roles.values()) if (entry.source !== 'sentinel') out.set(entry.instance, roleSequence(entry).join(' → '));
  return out;
}

/** Every difference between the runs, scenario by scenario (compared against the first run). */
export function differences(sides: Side[]): Difference[] {
  const out: Difference[] = [];
  const names = scenarioNames(sides);
  for (const name of names) {
    const per = sides.map((side) => find(side, name));
    const push = (aspect: string, f: (s: ScenarioResult | undefined, side: Side) => string): void => {
      out.push({ scenario: name, aspect, values: Object.fromEntries(sides.map((side) => [side.label, f(find(side, name), side)])) });
    };
    if (per.some((s) => s === undefined)) {
      push('present in run', (s) => (s ? 'yes' : 'missing'));
      continue;
    }
    const ss = per as ScenarioResult[];
    const first = ss[0]!;
    if (ss.some((s) => s.verdict !== first.verdict)) push('verdict', (s) => s!.verdict + (s!.skipReason ? ` (${s!.skipReason})` : '') + (s!.error ? ` (${s!.error})` : ''));
    const checkNames = [...new Set(ss.flatMap((s) => s.checks.map((c) => c.name)))];
    for (const c of checkNames) {
      const v = ss.map((s) => s.checks.find((x) => x.name === c));
      if (v.some((x) => x?.verdict !== v[0]?.verdict)) {
        push(`check ${c}`, (s) => {
          const check = s!.checks.find((x) => x.name === c);
          return check ? `${check.verdict}: ${check.detail}` : 'not run';
        });
      }
    }
    for (const k of ['lost', 'unexpected'] as const) {
      if (ss.some((s) => s.writes[k] !== first.writes[k])) push(`${k} writes`, (s) => formatCount(s!.writes[k]));
    }
    const splits = ss.map((s) => (s.splitBrainIntervals ?? []).length > 0);
    if (splits.some((x) => x !== splits[0])) push('two writable masters', (s) => ((s!.splitBrainIntervals ?? []).length ? `yes (${s!.splitBrainIntervals!.length}×)` : 'no'));
    if (ss.some((s) => timesDiffer(s.failoverMs, first.failoverMs))) push('failover time', (s) => formatMs(s!.failoverMs));
    if (ss.some((s) => timesDiffer(s.unavailabilityMs, first.unavailabilityMs))) push('unavailability', (s) => formatMs(s!.unavailabilityMs));
    const seqs = sides.map((side) => roleSequences(side, name));
    const instances = [...new Set(seqs.flatMap((m) => [...m.keys()]))].sort();
    for (const inst of instances) {
      const v = seqs.map((m) => m.get(inst) ?? '(not observed)');
      if (v.some((x) => x !== v[0])) push(`roles of ${inst}`, (_s, side) => roleSequences(side, name).get(inst) ?? '(not observed)');
    }
  }
  return out;
}

function find(side: Side, name: string): ScenarioResult | undefined {
  return side.run.results.scenarios.find((s) => s.name === name);
}

function scenarioNames(sides: Side[]): string[] {
  const names: string[] = [];
  for (const side of sides) for (const s of side.run.results.scenarios) if (!names.includes(s.name)) names.push(s.name);
  return names;
}

function badge(v: string): SafeHtml {
  return html`<span class="badge v-${v}">${v}</span>`;
}

export async function renderComparisonReport(runDirs: { label: string; dir: string }[], outFile: string): Promise<string> {
  if (runDirs.length < 2) throw new Error('report: a comparison needs at least two run folders');
  const labels = new Set(runDirs.map((r) => r.label));
  if (labels.size !== runDirs.length) throw new Error('report: comparison labels must be unique');
  const outDir = dirname(outFile);
  const sides: Side[] = [];
  for (const r of runDirs) {
    const run = await loadRun(r.dir);
    const report = join(r.dir, 'report.html');
    sides.push({ label: r.label, run, reportHref: (await exists(report)) ? relative(outDir, report).split(sep).map(encodeURIComponent).join('/') : undefined });
  }
  const diffs = differences(sides);
  const names = scenarioNames(sides);
  const seeds = new Set(sides.map((s) => s.run.results.seed));
  const topologies = new Set(sides.map((s) => s.run.results.topology));
  const warnings = [
    ...(seeds.size > 1 ? [`The runs used different seeds (${[...seeds].join(', ')}): fault schedules differ, so differences may not be behaviour.`] : []),
    ...(topologies.size > 1 ? [`The runs used different topologies (${[...topologies].join(', ')}).`] : []),
  ];
  const overall = sides.every((s) => s.run.results.verdict === sides[0]!.run.results.verdict) && diffs.length === 0 ? 'pass' : 'fail';
  const body = html`<h1>Comparison — ${sides.map((s) => s.label).join(' vs ')}</h1>
<div class="banner v-${overall}" id="verdict" data-differences="${diffs.length}"><div class="big">${diffs.length === 0 ? 'SAME' : `${diffs.length} DIFFERENCES`}</div>
<div>${sides.map((s) => html`<div>${printable(s.label)}: ${badge(s.run.results.verdict)} run <span class="mono">${printable(s.run.results.runId)}</span> · target ${s.run.results.target} · seed ${s.run.results.seed}${s.reportHref ? html` · <a href="${s.reportHref}">report</a>` : ''}</div>`)}</div></div>
${warnings.map((w) => html`<div class="warn">${w}</div>`)}
<h3>Differences</h3>
${
  diffs.length === 0
    ? html`<p>No differences in verdicts, checks, lost or unexpected writes, split brain or role sequences; timings within ${formatMs(TIME_TOLERANCE.absMs)} or ${TIME_TOLERANCE.ratio * 100}%.</p>`
    : html`<table id="differences"><thead><tr><th>Scenario</th><th>Aspect</th>${sides.map((s) => html`<th>${printable(s.label)}</th>`)}</tr></thead><tbody>
${diffs.map((d) => html`<tr class="v-fail" data-scenario="${d.scenario}" data-aspect="${d.aspect}"><td>${printable(d.scenario)}</td><td>${printable(d.aspect)}</td>${sides.map((s) => html`<td>${printable(d.values[s.label] ?? '')}</td>`)}</tr>`)}
</tbody></table><p class="note">Timings count as different beyond ${formatMs(TIME_TOLERANCE.absMs)} and ${TIME_TOLERANCE.ratio * 100}%.</p>`
}
<h3>Side by side</h3>
<table id="side-by-side"><thead><tr><th rowspan="2">Scenario</th>${sides.map((s) => html`<th colspan="6">${printable(s.label)}</th>`)}</tr>
<tr>${sides.map(() => html`<th>Verdict</th><th class="num">Failover</th><th class="num">Unavailable</th><th class="num">Acked</th><th class="num">Lost</th><th class="num">Unexpected</th>`)}</tr></thead>
<tbody>${names.map(
    (name) => html`<tr data-scenario="${name}"><td>${printable(name)}</td>${sides.map((side) => {
      const s = find(side, name);
      if (!s) return html`<td colspan="6" class="note">missing</td>`;
      const index = side.run.results.scenarios.indexOf(s);
      const link = side.reportHref ? `${side.reportHref}#${anchorId('scenario', s.name, index)}` : undefined;
      return html`<td data-label="${side.label}" data-field="verdict">${link ? html`<a href="${link}">${badge(s.verdict)}</a>` : badge(s.verdict)}</td><td class="num">${formatMs(s.failoverMs)}</td><td class="num">${formatMs(s.unavailabilityMs)}</td><td class="num">${formatCount(s.writes.acknowledged)}</td><td class="num${s.writes.lost ? ' bad' : ''}" data-label="${side.label}" data-field="lost">${formatCount(s.writes.lost)}</td><td class="num${s.writes.unexpected ? ' bad' : ''}">${formatCount(s.writes.unexpected)}</td>`;
    })}</tr>`,
  )}</tbody></table>
<h3>Role sequences</h3>
<table id="roles"><thead><tr><th>Scenario</th><th>Instance</th>${sides.map((s) => html`<th>${printable(s.label)}</th>`)}</tr></thead><tbody>
${names.flatMap((name) => {
  const seqs = sides.map((side) => roleSequences(side, name));
  const instances = [...new Set(seqs.flatMap((m) => [...m.keys()]))].sort();
  return instances.map((inst) => {
    const v = seqs.map((m) => m.get(inst) ?? '(not observed)');
    const differs = v.some((x) => x !== v[0]);
    return html`<tr class="${differs ? 'v-fail' : ''}"><td>${printable(name)}</td><td>${printable(inst)}</td>${v.map((x) => html`<td class="mono">${printable(x)}</td>`)}</tr>`;
  });
})}</tbody></table>`;
  await mkdir(outDir, { recursive: true });
  await writeFile(outFile, await page(`Comparison · ${sides.map((s) => s.label).join(' vs ')}`, body));
  return outFile;
}
