/**
 * Bring-up and teardown time of sentinel-haproxy and cluster-3x2 on the docker driver beside the local driver, in
 * the same run and interleaved round by round, so both see the same machine (`npm run bench:docker`; not in npm test).
 * Real Redis/HAProxy on both sides (offline images for docker, built first if missing or stale).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Driver } from '../src/drivers/driver.js';
import { LocalDriver } from '../src/drivers/local/index.js';
import { DockerDriver } from '../src/drivers/docker/index.js';
import { dockerUnavailableReason } from '../src/drivers/docker/cleanup.js';
import { buildLocalImages } from '../src/images/build.js';
import { loadTopology } from '../src/topology/load.js';
import { shippedTopologiesDir } from '../src/topology/paths.js';
import { newRunId } from '../src/run-folder/index.js';
import { drainTeardowns, installSignalHandlers } from '../src/cleanup/registry.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');

interface Row {
  topology: string;
  driver: 'local' | 'docker';
  upMs: number[];
  downMs: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<number> {
  installSignalHandlers();
  const why = await dockerUnavailableReason();
  if (why) {
    console.error(`docker-bench: ${why}`);
    return 3;
  }
  const t0 = performance.now();
  const built = await buildLocalImages();
  console.log(`images: ${built.map((b) => `${b.name} ${b.status} ${b.ms} ms`).join('; ')} (${Math.round(performance.now() - t0)} ms)`);
  const drivers: Record<Row['driver'], Driver> = { local: new LocalDriver(), docker: new DockerDriver() };
  const rows: Row[] = [];
  for (const name of ['sentinel-haproxy', 'cluster-3x2']) {
    const topo = loadTopology(path.join(shippedTopologiesDir(), `${name}.yml`), { profile: 'ci' });
    const byDriver = new Map<Row['driver'], Row>();
    for (const drv of ['local', 'docker'] as const) {
      const row: Row = { topology: name, driver: drv, upMs: [], downMs: [] };
      byDriver.set(drv, row);
      rows.push(row);
    }
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which driver goes first, so neither always meets a warm or a cold machine.
      const order = i % 2 === 0 ? (['local', 'docker'] as const) : (['docker', 'local'] as const);
      for (const drv of order) {
        const runDir = mkdtempSync(path.join(os.tmpdir(), 'rhc-dbench-'));
        try {
          const a = performance.now();
          const d = await drivers[drv].up(topo, { runId: newRunId(), runDir, target: 'redis' });
          const b = performance.now();
          await d.down();
          const c = performance.now();
          byDriver.get(drv)!.upMs.push(Math.round(b - a));
          byDriver.get(drv)!.downMs.push(Math.round(c - b));
        } finally {
          rmSync(runDir, { recursive: true, force: true });
        }
      }
    }
  }
  for (const row of rows) {
    console.log(`${row.topology.padEnd(17)} ${row.driver.padEnd(7)} ready median ${String(median(row.upMs)).padStart(5)} ms [${row.upMs.join(', ')}]  down median ${String(median(row.downMs)).padStart(5)} ms [${row.downMs.join(', ')}]`);
  }
  for (const name of ['sentinel-haproxy', 'cluster-3x2']) {
    const l = rows.find((r) => r.topology === name && r.driver === 'local')!;
    const k = rows.find((r) => r.topology === name && r.driver === 'docker')!;
    console.log(`${name}: docker/local ready ratio ${(median(k.upMs) / median(l.upMs)).toFixed(2)}x`);
  }
  console.log(JSON.stringify({ bench: 'docker', rounds: ROUNDS, rows }));
  return 0;
}

main().then(
  async (code) => {
    await drainTeardowns();
    process.exit(code);
  },
  async (e: unknown) => {
    console.error(`docker-bench failed: ${(e as Error).message}`);
    await drainTeardowns();
    process.exit(3);
  },
);
