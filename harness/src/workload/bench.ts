/**
 * Workload throughput through HAProxy with real Redis (target >= 10,000 acknowledged writes/s, every op
 * recorded in the history). Run: node dist/harness/src/workload/bench.js [topology.yml]. Not part of npm test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDriver } from '../drivers/index.js';
import { HistoryWriter } from '../history/writer.js';
import { loadTopology } from '../topology/load.js';
import { shippedTopologiesDir } from '../topology/paths.js';
import { delay } from '../support/time.js';
import { Workload } from './workload.js';

const TARGET = 10_000;

export async function benchWorkload(topologyFile: string, seconds = 5): Promise<{ processes: number; connections: number; rate: number }[]> {
  const topology = loadTopology(topologyFile, { profile: 'ci' });
  if (!topology.haproxy) throw new Error(`${topologyFile} has no haproxy; the benchmark measures the HAProxy path`);
  const runDir = mkdtempSync(join(tmpdir(), 'chaos-bench-'));
  const dep = await (await createDriver('local')).up(topology, { runId: `bench${process.pid}`, runDir, target: 'redis' });
  const rows: { processes: number; connections: number; rate: number }[] = [];
  try {
    for (const [processes, connections] of [[16, 4], [64, 4], [256, 8]] as const) {
      const h = new HistoryWriter();
      const wl = new Workload(dep, h, { kind: 'set', path: { kind: 'haproxy' }, processes, connections, keyPrefix: `bench${processes}` });
      await wl.start();
      await delay(500);
      const ok0 = wl.stats.ok;
      const t0 = performance.now();
      await delay(seconds * 1000);
      const rate = (wl.stats.ok - ok0) / ((performance.now() - t0) / 1000);
      await wl.close();
      rows.push({ processes, connections, rate: Math.round(rate) });
    }
  } finally {
    await dep.down();
    rmSync(runDir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? join(shippedTopologiesDir(), 'sentinel-3.yml');
  const rows = await benchWorkload(file);
  for (const r of rows) console.log(`set workload via HAProxy, ${r.processes} processes on ${r.connections} connections: ${r.rate} acknowledged writes/s (target ${TARGET})`);
  process.exit(rows.some((r) => r.rate >= TARGET) ? 0 : 1);
}
