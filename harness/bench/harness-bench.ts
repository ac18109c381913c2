/**
 * Bring-up and teardown time of each shipped topology on the local driver with real Redis (`npm run bench:harness`).
 * Targets: sentinel-haproxy ready < 1.5 s, cluster-3x2 cluster_state:ok < 3 s. Not part of `npm test`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalDriver } from '../src/drivers/local/index.js';
import { loadTopology } from '../src/topology/load.js';
import { shippedTopologiesDir } from '../src/topology/paths.js';
import { newRunId } from '../src/run-folder/index.js';
import { drainTeardowns, installSignalHandlers } from '../src/cleanup/registry.js';

const TARGETS_MS: Record<string, number> = { 'sentinel-haproxy': 1500, 'cluster-3x2': 3000 };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');

interface Row {
  topology: string;
  hostMode: string;
  upMs: number[];
  downMs: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<number> {
  installSignalHandlers();
  const rows: Row[] = [];
  for (const name of ['sentinel-haproxy', 'sentinel-3', 'cluster-3x2', 'cluster-6']) {
    const topo = loadTopology(path.join(shippedTopologiesDir(), `${name}.yml`));
    const driver = new LocalDriver();
    const row: Row = { topology: name, hostMode: '', upMs: [], downMs: [] };
    for (let i = 0; i < ROUNDS; i++) {
      const runDir = mkdtempSync(path.join(os.tmpdir(), 'rhc-bench-'));
      try {
        const t0 = performance.now();
        const d = await driver.up(topo, { runId: newRunId(), runDir, target: 'redis' });
        const t1 = performance.now();
        await d.down();
        const t2 = performance.now();
        row.hostMode = (d as unknown as { hostMode: string }).hostMode;
        row.upMs.push(Math.round(t1 - t0));
        row.downMs.push(Math.round(t2 - t1));
      } finally {
        rmSync(runDir, { recursive: true, force: true });
      }
    }
    rows.push(row);
    const target = TARGETS_MS[name];
    const verdict = target === undefined ? '' : median(row.upMs) < target ? ` (target < ${target} ms: met)` : ` (target < ${target} ms: MISSED)`;
    console.log(`${name.padEnd(17)} ${row.hostMode.padEnd(8)} ready median ${String(median(row.upMs)).padStart(5)} ms [${row.upMs.join(', ')}]  down median ${String(median(row.downMs)).padStart(4)} ms [${row.downMs.join(', ')}]${verdict}`);
  }
  console.log(JSON.stringify({ bench: 'harness', rounds: ROUNDS, rows }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (e: unknown) => {
    console.error(`bench failed: ${(e as Error).message}`);
    await drainTeardowns();
    process.exit(3);
  },
);
