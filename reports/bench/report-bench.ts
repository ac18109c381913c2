/**
 * Renders the recorded 200,000-operation run and prints render time, file size and the time headless
 * Chromium needs to load it and draw every chart (targets: under 3 s, under 10 MB).
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderRunReport } from '../src/index.js';
import { artifactsDir, HeadlessChromium } from '../test/browser.js';
import { FIXTURES, writeRun } from '../test/fixtures/generate.js';

async function main(): Promise<void> {
  const dir = join(artifactsDir(), 'bench-report', 'large-run');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const results = await writeRun(dir, FIXTURES.large!);
  const generated = performance.now() - t0;
  const ops = results.scenarios.reduce((acc, s) => acc + s.writes.attempted, 0);
  const historySize = (await stat(join(dir, 'history.jsonl'))).size;

  const renders: number[] = [];
  let file = '';
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    file = await renderRunReport(dir);
    renders.push(performance.now() - start);
  }
  const size = (await stat(file)).size;

  const browser = new HeadlessChromium();
  const loads: number[] = [];
  try {
    await browser.start();
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const opened = await browser.open(file);
      await opened.page.waitForFunction(`document.documentElement.getAttribute('data-charts-drawn') !== null`, undefined, { timeout: 30_000 });
      loads.push(performance.now() - start);
      if (opened.errors.length) console.log(`console errors: ${opened.errors.join('; ')}`);
      await opened.page.close();
    }
  } finally {
    await browser.stop();
  }
  const ms = (x: number): string => `${x.toFixed(0)} ms`;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`report benchmark: ${ops.toLocaleString('en-US')} operations, history.jsonl ${(historySize / 1e6).toFixed(1)} MB (generated in ${ms(generated)})`);
  console.log(`  render report.html (Node, median of 3): ${ms(median(renders))}  [${renders.map(ms).join(', ')}]`);
  console.log(`  report.html size: ${(size / 1e6).toFixed(2)} MB (limit 10 MB) ${size < 10e6 ? 'ok' : 'OVER'}`);
  console.log(`  headless Chromium load + all charts drawn (median of 3): ${ms(median(loads))} (limit 3000 ms) ${median(loads) < 3000 ? 'ok' : 'OVER'}  [${loads.map(ms).join(', ')}]`);
  console.log(`  output: ${file}`);
}

main().catch((err: unknown) => {
  console.error(`report benchmark failed: ${(err as Error).message}`);
  process.exit(3);
});
