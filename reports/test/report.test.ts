import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunResults } from '../../harness/src/results/types.js';
import { formatCount, formatMs } from '../src/format.js';
import { renderComparisonReport, renderIndex, renderRunReport, summaryTable } from '../src/index.js';
import { artifactsDir, HeadlessChromium, type OpenedPage } from './browser.js';
import { FIXTURES, writeRun } from './fixtures/generate.js';

/** Browser-side code, as text: the test build has no DOM types. Counts canvases with at least one painted pixel. */
const COUNT_PAINTED = `(() => {
  const canvases = [...document.querySelectorAll('canvas')];
  let painted = 0;
  for (const c of canvases) {
    const ctx = c.getContext('2d');
    if (!ctx || c.width === 0 || c.height === 0) continue;
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) { painted++; break; }
  }
  return { total: canvases.length, painted };
})()`;

async function paintedCanvases(opened: OpenedPage): Promise<{ total: number; painted: number }> {
  return opened.page.evaluate<{ total: number; painted: number }>(COUNT_PAINTED);
}

describe('HTML resilience reports', function () {
  this.timeout(60_000);
  let root: string;
  let browser: HeadlessChromium;
  const runs: Record<string, { dir: string; results: RunResults }> = {};

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'reports-test-'));
    browser = new HeadlessChromium();
    const parent = join(root, 'runs');
    for (const key of ['passing', 'failing', 'failingReference'] as const) {
      const dir = join(parent, key === 'failingReference' ? 'nested/ref' : key);
      runs[key] = { dir, results: await writeRun(dir, FIXTURES[key]!) };
    }
    await browser.start();
  });

  after(async () => {
    await browser?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('renders a failing run: verdict, scenario numbers and every chart match results.json, no console errors', async () => {
    const { dir, results } = runs.failing!;
    const file = await renderRunReport(dir);
    expect(file).to.equal(join(dir, 'report.html'));
    const opened = await browser.open(file);
    const { page } = opened;
    expect(await page.getAttribute('#verdict', 'data-verdict')).to.equal(results.verdict);
    expect((await page.textContent('#verdict .big'))?.trim()).to.equal(results.verdict.toUpperCase());
    expect(await page.textContent('[data-field="seed"]')).to.equal(String(results.seed));
    expect(await page.textContent('#repro-command')).to.equal(results.command);
    for (const s of results.scenarios) {
      const row = page.locator(`#scenario-table tr[data-scenario="${s.name}"]`);
      expect(await row.locator('[data-field="verdict"]').getAttribute('data-value')).to.equal(s.verdict);
      for (const k of ['acknowledged', 'lost', 'unexpected', 'indeterminate'] as const) {
        const cell = row.locator(`[data-field="${k}"]`);
        expect(await cell.getAttribute('data-value'), `${s.name} ${k}`).to.equal(String(s.writes[k]));
        expect((await cell.textContent())?.trim()).to.equal(formatCount(s.writes[k]));
      }
      expect((await row.locator('[data-field="failoverMs"]').textContent())?.trim()).to.equal(formatMs(s.failoverMs));
      if (s.skipReason) expect(await row.locator('[data-field="notes"]').textContent()).to.contain(s.skipReason);
    }
    // Every scenario with operations has a throughput and a latency chart, each drawn.
    const withOps = results.scenarios.filter((s) => s.writes.attempted > 0).length;
    expect(withOps).to.equal(3);
    expect(await page.getAttribute('html', 'data-charts-drawn')).to.equal(String(withOps * 2));
    const canvases = await paintedCanvases(opened);
    expect(canvases.total).to.equal(withOps * 2);
    expect(canvases.painted).to.equal(canvases.total);
    // Lost writes: first 100 listed with the full count.
    const split = results.scenarios.find((s) => s.name === 'isolate-master')!;
    const section = page.locator(`section[data-scenario="isolate-master"]`);
    expect(await section.locator('[data-field="lostList"]').textContent()).to.contain(formatCount(split.writes.lost));
    expect(await section.locator('ol.list-keys').first().locator('li').count()).to.equal(Math.min(100, split.lostSample.length));
    // Split brain: timeline marks the overlap of two writable masters.
    expect(await section.locator('.tl-split .seg.split').count()).to.equal(split.splitBrainIntervals!.length);
    // Lost writes are placed in time at their acknowledgement, and errors are summarised by message.
    expect(await section.locator('.tl-lost .marker.lost').count()).to.equal(100);
    const errorRows = await section.locator('table.errors tbody tr').allTextContents();
    expect(errorRows.some((r) => r.includes('READONLY'))).to.equal(true);
    expect(await section.locator('.tl-faults .seg.fault').count()).to.be.greaterThan(0);
    expect(await section.locator('svg.topology .item-redis').count()).to.equal(3);
    expect(await section.locator('.tl-sentinel .marker.switch').count()).to.equal(3);
    expect(await section.locator('.tl-sentinel .marker').count()).to.equal(15);
    // A fault recorded only as 'fault' / 'heal' marks still gets its shaded window.
    expect(await page.locator('section[data-scenario="kill-master-after-burst"] .tl-faults .seg.fault').count()).to.equal(1);
    expect(opened.errors, opened.errors.join('\n')).to.deep.equal([]);
    expect(opened.blocked).to.deep.equal([]);
    const shots = join(artifactsDir(), 'screenshots');
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'report-first-screen.png') });
    await section.screenshot({ path: join(shots, 'report-scenario-split-brain.png') });
    await page.close();
  });

  it('escapes recorded strings: hostile keys, errors and descriptions show as text and run nothing', async () => {
    const { dir } = runs.failing!;
    const file = await renderRunReport(dir);
    const text = await readFile(file, 'utf8');
    expect(text).not.to.contain('<script>alert');
    expect(text).not.to.contain('<img src=x');
    const opened = await browser.open(file);
    const { page } = opened;
    expect(await page.locator('script').count()).to.equal(3);
    expect(await page.locator('img').count()).to.equal(0);
    expect(await page.locator('section[data-scenario="isolate-master"] p b').count()).to.equal(0);
    expect(await page.locator('section[data-scenario="isolate-master"]').textContent()).to.contain('<b>two masters</b>');
    const keys = await page.locator('section[data-scenario="isolate-master"] ol.list-keys li').allTextContents();
    expect(keys.some((k) => k.startsWith('k:<script>alert("x")</script>:'))).to.equal(true);
    // Control bytes in keys are shown escaped.
    expect(keys.some((k) => k.startsWith('bin:\\x00\\x07\\x1b[31m:'))).to.equal(true);
    const failures = await page.locator('section[data-scenario="isolate-master"] table.failures').textContent();
    expect(failures).to.contain('Connection is closed. <img src=x onerror=alert(1)>');
    expect(opened.dialogs).to.deep.equal([]);
    expect(opened.errors).to.deep.equal([]);
    await page.close();
  });

  it('is self-contained and printable: no external references, prints to PDF with details expanded', async () => {
    const { dir, results } = runs.passing!;
    const file = await renderRunReport(dir);
    const text = await readFile(file, 'utf8');
    expect(text).not.to.match(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(text).not.to.match(/@import|url\(\s*["']?https?:/i);
    const opened = await browser.open(file);
    const { page } = opened;
    expect(await page.getAttribute('#verdict', 'data-verdict')).to.equal('pass');
    const skipped = results.scenarios.find((s) => s.verdict === 'skip')!;
    expect(await page.locator(`section[data-scenario="${skipped.name}"] [data-field="skipReason"]`).textContent()).to.contain(skipped.skipReason!);
    expect((await paintedCanvases(opened)).painted).to.equal(2);
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(`window.dispatchEvent(new Event('beforeprint'))`);
    expect(await page.locator('details:not([open])').count()).to.equal(0);
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.length).to.be.greaterThan(10_000);
    expect(opened.errors).to.deep.equal([]);
    await page.close();
  });

  it('renders an index over every run folder below, newest first, with working links', async () => {
    const parent = dirname(runs.passing!.dir);
    await rm(join(runs.failingReference!.dir, 'report.html'), { force: true });
    const file = await renderIndex(parent, { renderMissing: true });
    expect((await stat(join(runs.failingReference!.dir, 'report.html'))).isFile()).to.equal(true);
    const opened = await browser.open(file);
    const { page } = opened;
    const rows = page.locator('#runs tbody tr');
    expect(await rows.count()).to.equal(3);
    const ids = await rows.locator('td:first-child a').allTextContents();
    expect(ids).to.deep.equal(['run-fail-ref-0002', 'run-fail-0002', 'run-pass-0001']);
    expect(await rows.nth(2).getAttribute('data-verdict')).to.equal('pass');
    expect(await rows.nth(1).getAttribute('class')).to.contain(`v-${runs.failing!.results.verdict}`);
    const hrefs: string[] = [];
    for (const a of await rows.locator('td:first-child a').all()) hrefs.push(new URL((await a.getAttribute('href')) ?? '', page.url()).href);
    for (const href of hrefs) expect((await stat(new URL(href))).isFile(), href).to.equal(true);
    expect(hrefs[2]).to.match(/passing\/report\.html$/);
    expect(opened.errors).to.deep.equal([]);
    await page.close();
  });

  it('renders a comparison that lists every difference first', async () => {
    await renderRunReport(runs.failing!.dir);
    await renderRunReport(runs.failingReference!.dir);
    const out = join(root, 'compare', 'comparison.html');
    const file = await renderComparisonReport(
      [
        { label: 'redis 7.0.15', dir: runs.failing!.dir },
        { label: 'reference', dir: runs.failingReference!.dir },
      ],
      out,
    );
    expect(file).to.equal(out);
    const opened = await browser.open(file);
    const { page } = opened;
    const firstTable = await page.locator('table').first().getAttribute('id');
    expect(firstTable).to.equal('differences');
    const lost = page.locator('#differences tr[data-scenario="kill-master-after-burst"][data-aspect="lost writes"] td');
    const redisLost = runs.failing!.results.scenarios.find((s) => s.name === 'kill-master-after-burst')!.writes.lost;
    expect(await lost.allTextContents()).to.deep.equal(['kill-master-after-burst', 'lost writes', formatCount(redisLost), '0']);
    expect(await page.locator('#differences tr[data-scenario="kill-master-after-burst"][data-aspect="verdict"]').count()).to.equal(1);
    // Identical scenarios (same simulation on both sides) show no difference in verdict.
    expect(await page.locator('#differences tr[data-scenario="cluster-kill-master"]').count()).to.equal(0);
    expect(Number(await page.getAttribute('#verdict', 'data-differences'))).to.equal(await page.locator('#differences tbody tr').count());
    expect(await page.locator('#side-by-side tbody tr').count()).to.equal(5);
    const scenarioLink = await page.locator('#side-by-side tr[data-scenario="isolate-master"] td[data-label="reference"] a').getAttribute('href');
    expect(scenarioLink).to.match(/report\.html#scenario-2-isolate-master$/);
    expect(opened.errors).to.deep.equal([]);
    await page.close();
  });

  it('draws degenerate histories (only failures, one operation, malformed lines) without errors', async () => {
    const dir = join(root, 'edge');
    await mkdir(dir, { recursive: true });
    const scenario = (name: string): RunResults['scenarios'][number] => ({
      name,
      description: '',
      topology: 't',
      target: 'redis',
      driver: 'local',
      verdict: 'fail',
      checks: [],
      writes: { attempted: 1, acknowledged: 0, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
      lostSample: [],
      unexpectedSample: [],
      startedAt: 0,
      durationMs: 0,
      configFiles: [],
    });
    const results: RunResults = { ...runs.passing!.results, runId: 'edge', verdict: 'fail', scenarios: [scenario('all-fail'), scenario('single-op')] };
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) {
      lines.push(JSON.stringify({ type: 'op', scenario: 'all-fail', process: 1, f: 'write', via: 'x', phase: 'invoke', key: 'k', value: i, time: i * 10 }));
      lines.push(JSON.stringify({ type: 'op', scenario: 'all-fail', process: 1, f: 'write', via: 'x', phase: 'fail', error: 'boom', key: 'k', value: i, time: i * 10 + 1 }));
    }
    lines.push(JSON.stringify({ type: 'op', scenario: 'single-op', process: 1, f: 'write', via: 'x', phase: 'ok', time: 5 }));
    lines.push('not json', '{"type":"op"}');
    await writeFile(join(dir, 'results.json'), JSON.stringify(results));
    await writeFile(join(dir, 'history.jsonl'), lines.join('\n') + '\n');
    const opened = await browser.open(await renderRunReport(dir));
    expect(opened.errors).to.deep.equal([]);
    expect(await paintedCanvases(opened)).to.deep.equal({ total: 4, painted: 4 });
    expect(await opened.page.locator('.warn', { hasText: '2 history lines were not valid events' }).count()).to.equal(1);
    expect(await opened.page.locator('section[data-scenario="all-fail"] table.errors td', { hasText: 'boom' }).count()).to.equal(1);
    await opened.page.close();
  });

  it('prints a plain-text summary table for CI logs', () => {
    const { results } = runs.failing!;
    const text = summaryTable(results);
    const lines = text.split('\n');
    expect(lines[0]).to.match(/^ERROR /);
    for (const s of results.scenarios) {
      const line = lines.find((l) => l.startsWith(s.name + ' '));
      expect(line, s.name).to.not.equal(undefined);
      expect(line).to.contain(s.verdict.toUpperCase());
      expect(line).to.contain(formatCount(s.writes.lost));
    }
    expect(text).to.contain(`reproduce: ${results.command}`);
  });

  it('a pass that reproduces a documented anomaly reads "anomaly reproduced" with its lost writes, not a plain pass', () => {
    const { results } = runs.failing!;
    const base = results.scenarios[0]!;
    const anomaly = { ...base, name: 'restart-empty', verdict: 'pass' as const, reproduces: 'a master restarted empty wipes its replicas', writes: { ...base.writes, lost: 6849 } };
    const plain = { ...base, name: 'sentinel-failover', verdict: 'pass' as const, writes: { ...base.writes, lost: 0 } };
    const text = summaryTable({ ...results, verdict: 'pass', scenarios: [anomaly, plain] });
    const line = text.split('\n').find((l) => l.startsWith('restart-empty '))!;
    expect(line).to.contain('ANOMALY REPRODUCED');
    expect(line).to.contain('anomaly reproduced: 6,849 acknowledged writes lost, as Redis documents');
    expect(text.split('\n').find((l) => l.startsWith('sentinel-failover '))).to.match(/^sentinel-failover +PASS /);
    expect(text).to.contain('2 passed (1 of them by reproducing a documented anomaly)');
  });

  it('rejects a folder without results.json with one clear line', async () => {
    let message = '';
    try {
      await renderRunReport(join(root, 'does-not-exist'));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/^report: .*results\.json not found/);
    expect(message).not.to.contain('\n');
  });
});
