/** index.html over every run folder below a parent folder: newest first, coloured by verdict. */
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { RunResults } from '../../harness/src/results/types.js';
import { page } from './assets.js';
import { formatMs } from './format.js';
import { html, printable } from './html.js';
import { exists, loadResults } from './load.js';
import { renderRunReport } from './run-report.js';
import { buildClientMatrix, clientMatrixTable } from './client-matrix.js';

/** How deep below the parent folder run folders are looked for. */
const MAX_DEPTH = 4;

interface FoundRun {
  dir: string;
  results?: RunResults;
  problem?: string;
  hasReport: boolean;
}

async function findRuns(dir: string, depth: number, out: FoundRun[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  if (entries.some((e) => e.isFile() && e.name === 'results.json')) {
    const hasReport = entries.some((e) => e.isFile() && e.name === 'report.html');
    try {
      out.push({ dir, results: await loadResults(dir), hasReport });
    } catch (err) {
      out.push({ dir, problem: (err as Error).message, hasReport });
    }
    return;
  }
  if (depth >= MAX_DEPTH) return;
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') await findRuns(join(dir, e.name), depth + 1, out);
  }
}

function href(parentDir: string, file: string): string {
  return relative(parentDir, file).split(sep).map(encodeURIComponent).join('/');
}

export interface IndexOptions {
  /** Render report.html for run folders that have none yet (default false: link results.json instead). */
  renderMissing?: boolean;
}

export async function renderIndex(parentDir: string, options: IndexOptions = {}): Promise<string> {
  if (!(await exists(parentDir))) throw new Error(`report: folder ${parentDir} not found`);
  const runs: FoundRun[] = [];
  await findRuns(parentDir, 0, runs);
  if (options.renderMissing) {
    for (const r of runs) {
      if (r.results && !r.hasReport) {
        await renderRunReport(r.dir);
        r.hasReport = true;
      }
    }
  }
  runs.sort((a, b) => (b.results?.startedAt ?? '').localeCompare(a.results?.startedAt ?? '') || a.dir.localeCompare(b.dir));
  const counts = { pass: 0, fail: 0, skip: 0, error: 0 };
  for (const r of runs) if (r.results) counts[r.results.verdict]++;
  const rows = runs.map((r) => {
    const link = href(parentDir, join(r.dir, r.hasReport ? 'report.html' : 'results.json'));
    const folder = relative(parentDir, r.dir) || '.';
    if (!r.results) {
      return html`<tr class="v-error" data-run="${folder}"><td><a href="${link}">${printable(folder)}</a></td><td colspan="10">${printable(r.problem ?? 'unreadable')}</td></tr>`;
    }
    const s = r.results;
    const n = { pass: 0, fail: 0, skip: 0, error: 0 };
    for (const sc of s.scenarios) n[sc.verdict]++;
    const lost = s.scenarios.reduce((acc, sc) => acc + (sc.writes?.lost ?? 0), 0);
    return html`<tr class="v-${s.verdict}" data-run="${folder}" data-verdict="${s.verdict}">
<td><a href="${link}">${printable(s.runId)}</a>${r.hasReport ? '' : html` <span class="note">(no report.html yet: results.json)</span>`}</td>
<td><span class="badge v-${s.verdict}">${s.verdict}</span></td><td>${s.startedAt}</td><td>${printable(s.topology)}</td><td>${s.target}</td><td>${printable(s.driver)}</td><td class="num">${s.seed}</td>
<td class="num">${n.pass} / ${n.fail} / ${n.error} / ${n.skip}</td><td>${printable(s.scenarios.filter((sc) => sc.verdict === 'fail' || sc.verdict === 'error').map((sc) => sc.name).join(', '))}</td><td class="num${lost ? ' bad' : ''}">${lost}</td><td class="num">${formatMs(s.durationMs)}</td></tr>`;
  });
  const body = html`<h1>redis-ha-chaos runs</h1>
<p>${runs.length} runs under <span class="mono">${printable(parentDir)}</span>: ${counts.pass} passed, ${counts.fail} failed, ${counts.error} errors, ${counts.skip} skipped. Newest first.</p>
<table id="runs"><thead><tr><th>Run</th><th>Verdict</th><th>Started</th><th>Topology</th><th>Target</th><th>Driver</th><th class="num">Seed</th><th class="num">pass / fail / error / skip</th><th>Failed scenarios</th><th class="num">Lost writes</th><th class="num">Duration</th></tr></thead>
<tbody>${rows}</tbody></table>
${clientMatrixTable(buildClientMatrix(runs.flatMap((r) => (r.results ? [r.results] : []))))}`;
  const out = join(parentDir, 'index.html');
  await writeFile(out, await page('redis-ha-chaos runs', body));
  return out;
}
