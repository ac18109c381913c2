/**
 * Cluster benchmark (not part of npm test): redis-server clusters and reference clusters in the same run, rounds
 * interleaved (the order alternating) so machine load hits both.
 *  - failover: six nodes (3 masters + 3 replicas, cluster-node-timeout 3000, made by redis-cli --cluster create);
 *    kill -9 of the master of slot 0 -> cluster_state:ok on every survivor with the replica serving the slots, and
 *    -> the first SET acknowledged by the promoted replica (a direct client writing every 10 ms); median of BENCH_RUNS.
 *  - throughput: three masters through redis-benchmark --cluster (SET, GET at -P 1 and -P 16), best of BENCH_TP_RUNS.
 *  - reshard: redis-cli --cluster reshard of 200 slots (with BENCH_RESHARD_KEYS keys in the cluster) between two of
 *    three masters; median of BENCH_RUNS.
 * Run: npm run bench:cluster   (BENCH_RUNS default 5, BENCH_TP_RUNS default 3, BENCH_N default 200000 requests at -P 1,
 * BENCH_N_P16 default 3000000 at -P 16 (a round of 200000 at -P 16 lasts ~0.5 s, and redis-benchmark's rate of so short a
 * run jumps between a few values: 200000/0.512 s or /0.256 s),
 * BENCH_RESHARD_KEYS default 20000, BENCH_ONLY=failover,throughput,reshard, BENCH_REF_BIN another build's
 * bin/redis-ref-server.js to compare two versions of the reference server against the same redis-server).
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { keyHashSlot } from '../cluster/keyslot.js';
import { bulkText, createCluster, pipeline, redisCli, slotOwners, startClusterNodes, type ClusterNodeKind, type ClusterProcess } from '../test/fixtures/cluster-kit.js';
import { removeDir, waitFor } from '../test/fixtures/repl-kit.js';
import { RespClient } from '../test/util/resp-client.js';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TP_RUNS = Number(process.env.BENCH_TP_RUNS ?? 3);
const N = Number(process.env.BENCH_N ?? 200000);
const N_P16 = Number(process.env.BENCH_N_P16 ?? 3000000);
/** Requests per redis-benchmark round at a pipeline depth. */
const requestsAt = (pipelineDepth: number): number => (pipelineDepth > 1 ? N_P16 : N);
const RESHARD_KEYS = Number(process.env.BENCH_RESHARD_KEYS ?? 20000);
const ONLY = (process.env.BENCH_ONLY ?? 'failover,throughput,reshard').split(',').map((s) => s.trim());
const REF_BIN = process.env.BENCH_REF_BIN;
const NODE_TIMEOUT = 3000;
const KIND_NAME: Record<ClusterNodeKind, string> = { real: 'redis-server', ref: 'reference' };

/** Every node started and its temp root, so a failure or Ctrl-C stops them all. */
const live = new Set<ChildProcess>();
const roots = new Set<string>();

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    live.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function stopAll(): Promise<void> {
  await Promise.all([...live].map(kill));
  for (const r of roots) removeDir(r);
  roots.clear();
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stopAll().then(() => process.exit(130)));

interface Cluster {
  nodes: ClusterProcess[];
  stop(): Promise<void>;
}

/** `masters` masters and `replicasPerMaster` replicas each, all of one kind, made by redis-cli --cluster create. */
async function startCluster(kind: ClusterNodeKind, masters: number, replicasPerMaster: number): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), `rr-clbench-${kind}-`));
  roots.add(root);
  const kinds = new Array<ClusterNodeKind>(masters * (1 + replicasPerMaster)).fill(kind);
  const nodes = await startClusterNodes(kinds, root, { nodeTimeoutMs: NODE_TIMEOUT, ...(REF_BIN ? { refBin: REF_BIN } : {}) }, (n) => live.add(n.child));
  await createCluster(nodes, replicasPerMaster);
  return {
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => kill(n.child)));
      removeDir(root);
      roots.delete(root);
    },
  };
}

/** One line of CLUSTER NODES per node id: [id, flags, master id, slots...]. */
async function nodesTable(port: number): Promise<Map<string, string[]>> {
  const text = bulkText((await pipeline(port, [['CLUSTER', 'NODES']]))[0]!);
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 8) m.set(f[0]!, [f[0]!, f[2]!, f[3]!, ...f.slice(8)]);
  }
  return m;
}

async function clusterInfoOk(port: number): Promise<boolean> {
  return (await pipeline(port, [['CLUSTER', 'INFO']]))[0]!.includes('cluster_state:ok');
}

/** A key in slot 0 (served by the first master redis-cli --cluster create makes). */
function keyInSlot(slot: number): string {
  for (let i = 0; ; i++) if (keyHashSlot(`k${i}`) === slot) return `k${i}`;
}

/** SET on the port every 10 ms (each with a 500 ms deadline) until one is acknowledged; the time since t0. */
async function firstAck(port: number, key: string, t0: number): Promise<number> {
  let c: RespClient | null = null;
  try {
    for (let i = 0; ; i++) {
      if (performance.now() - t0 > 60000) throw new Error(`no SET acknowledged by port ${port} within 60 s of the kill`);
      try {
        c ??= await RespClient.connect(port);
        if ((await c.call(['SET', key, `after:${i}`], 500)) === '+OK\r\n') return performance.now() - t0;
      } catch {
        c?.close();
        c = null;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    c?.close();
  }
}

async function failoverOnce(kind: ClusterNodeKind): Promise<{ ok: number; ack: number }> {
  const cluster = await startCluster(kind, 3, 1);
  try {
    const { nodes } = cluster;
    const table = await nodesTable(nodes[0]!.port);
    const victimRow = [...table.values()].find((r) => r[1]!.includes('master') && r.slice(3).some((s) => s === '0' || s.startsWith('0-')))!;
    const victim = nodes.find((n) => n.id === victimRow[0])!;
    const replicaRow = [...table.values()].find((r) => r[2] === victim.id)!;
    const replica = nodes.find((n) => n.id === replicaRow[0])!;
    // A replica whose link never came up does not stand for election: wait for its first sync (as a deployment would).
    await waitFor(`${KIND_NAME[kind]} replica of the victim in sync`, async () => {
      const r = (await pipeline(victim.port, [['INFO', 'replication']]))[0]!;
      return /slave0:.*state=online/.test(r);
    }, 60000, 50);
    const survivors = nodes.filter((n) => n !== victim);
    const key = keyInSlot(0);
    const t0 = performance.now();
    await kill(victim.child);
    const ack = firstAck(replica.port, key, t0);
    await waitFor(`${KIND_NAME[kind]} survivors ok with the replica promoted`, async () => {
      const oks = await Promise.all(survivors.map((n) => clusterInfoOk(n.port).catch(() => false)));
      if (!oks.every(Boolean)) return false;
      const views = await Promise.all(survivors.map((n) => nodesTable(n.port)));
      return views.every((v) => v.get(replica.id)?.[1]?.includes('master') && v.get(replica.id)!.slice(3).some((s) => s === '0' || s.startsWith('0-')));
    }, 60000, 20);
    const ok = performance.now() - t0;
    return { ok, ack: await ack };
  } finally {
    await cluster.stop();
  }
}

async function benchmark(port: number, test: string, pipelineDepth: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', ['--cluster', '-p', String(port), '-c', '50', '-n', String(requestsAt(pipelineDepth)), '-P', String(pipelineDepth), '-q', '-t', test],
    { maxBuffer: 64 * 1024 * 1024, timeout: 600000 });
  const lines = stdout.split(/[\r\n]/).filter((l) => l.includes('requests per second'));
  const m = /:\s*([\d.]+) requests per second/.exec(lines[lines.length - 1] ?? '');
  if (!m) throw new Error(`could not parse redis-benchmark --cluster output: ${stdout.slice(-300)}`);
  return Number(m[1]);
}

/** 3 masters, RESHARD_KEYS keys written to their owners, then a timed 200-slot reshard from the first master to the second. */
async function reshardOnce(kind: ClusterNodeKind): Promise<{ ms: number; keysMoved: number }> {
  const cluster = await startCluster(kind, 3, 0);
  try {
    const [a, b] = cluster.nodes;
    const owners = await slotOwners(a!.port);
    const byPort = new Map<number, string[][]>();
    for (let i = 0; i < RESHARD_KEYS; i++) {
      const key = `rk:${i}`;
      const p = owners.get(keyHashSlot(key))!;
      if (!byPort.has(p)) byPort.set(p, []);
      byPort.get(p)!.push(['SET', key, `v${i}`]);
    }
    for (const [p, cmds] of byPort) await pipeline(p, cmds);
    const t0 = performance.now();
    const r = await redisCli(['--cluster', 'reshard', `127.0.0.1:${a!.port}`, '--cluster-from', a!.id, '--cluster-to', b!.id, '--cluster-slots', '200', '--cluster-yes']);
    const ms = performance.now() - t0;
    if (r.code !== 0 || /\[ERR\]|IOERR/.test(r.out)) throw new Error(`${KIND_NAME[kind]} reshard failed (exit ${r.code}):\n${r.out.slice(-1500)}`);
    const after = await slotOwners(a!.port);
    let keysMoved = 0;
    for (let i = 0; i < RESHARD_KEYS; i++) {
      const s = keyHashSlot(`rk:${i}`);
      if (owners.get(s) === a!.port && after.get(s) === b!.port) keysMoved++;
    }
    const moved = [...owners].filter(([s, p]) => p === a!.port && after.get(s) === b!.port).length;
    if (moved !== 200) throw new Error(`${KIND_NAME[kind]} reshard moved ${moved} slots, not 200`);
    return { ms, keysMoved };
  } finally {
    await cluster.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function loadavg(): string {
  return readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
}

/** Alternates which kind goes first each round, so drift in machine load does not favour one. */
function roundOrder(i: number): ClusterNodeKind[] {
  return i % 2 === 0 ? ['real', 'ref'] : ['ref', 'real'];
}

interface Row {
  measure: string;
  real: number;
  ref: number;
  unit: 'ms' | 'ops/s';
  /** Which way is better: for times ref/real, lower is better; for throughput ref/real, higher is. */
  target: string;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const out = (s: string): void => void process.stdout.write(s + '\n');
  out(`cluster bench: redis-server 7.0.15 vs reference server (node ${process.version}${REF_BIN ? `, ${REF_BIN}` : ''}); load average at start ${loadavg()}`);

  if (ONLY.includes('failover')) {
    const r: Record<ClusterNodeKind, { ok: number[]; ack: number[] }> = { real: { ok: [], ack: [] }, ref: { ok: [], ack: [] } };
    for (let i = 0; i < RUNS; i++) {
      for (const k of roundOrder(i)) {
        const x = await failoverOnce(k);
        r[k].ok.push(x.ok);
        r[k].ack.push(x.ack);
        out(`failover ${i + 1}/${RUNS} ${KIND_NAME[k]}: cluster_state:ok on all survivors ${x.ok.toFixed(0)} ms, first SET acknowledged by the promoted replica ${x.ack.toFixed(0)} ms (load ${loadavg()})`);
      }
    }
    rows.push({ measure: `kill -9 master -> cluster_state:ok everywhere (median ${RUNS})`, real: median(r.real.ok), ref: median(r.ref.ok), unit: 'ms', target: '<= 1.15' });
    rows.push({ measure: `kill -9 master -> first acknowledged write (median ${RUNS})`, real: median(r.real.ack), ref: median(r.ref.ack), unit: 'ms', target: '<= 1.15' });
  }

  if (ONLY.includes('throughput')) {
    const real = await startCluster('real', 3, 0);
    const ref = await startCluster('ref', 3, 0);
    try {
      for (const p of [1, 16]) {
        for (const test of ['set', 'get']) {
          const res: Record<ClusterNodeKind, number[]> = { real: [], ref: [] };
          for (let i = 0; i < TP_RUNS; i++) {
            for (const k of roundOrder(i)) res[k].push(await benchmark((k === 'real' ? real : ref).nodes[0]!.port, test, p));
          }
          // Each round's own ratio shows how much of a difference is the machine's noise.
          const rounds = res.ref.map((v, i) => (v / res.real[i]!).toFixed(2)).join(' ');
          out(`redis-benchmark --cluster -t ${test} -P ${p}: redis-server ${res.real.map((v) => v.toFixed(0)).join(' ')}, reference ${res.ref.map((v) => v.toFixed(0)).join(' ')} ops/s, per round ${rounds} (load ${loadavg()})`);
          rows.push({ measure: `3 masters, ${test.toUpperCase()} -P ${p}, -c 50, -n ${requestsAt(p)} (best of ${TP_RUNS})`, real: Math.max(...res.real), ref: Math.max(...res.ref), unit: 'ops/s', target: '>= 0.90' });
        }
      }
    } finally {
      await real.stop();
      await ref.stop();
    }
  }

  if (ONLY.includes('reshard')) {
    const r: Record<ClusterNodeKind, number[]> = { real: [], ref: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const k of roundOrder(i)) {
        const x = await reshardOnce(k);
        r[k].push(x.ms);
        out(`reshard ${i + 1}/${RUNS} ${KIND_NAME[k]}: 200 slots, ${x.keysMoved} keys, ${x.ms.toFixed(0)} ms (load ${loadavg()})`);
      }
    }
    rows.push({ measure: `redis-cli --cluster reshard 200 slots, ${RESHARD_KEYS} keys in the cluster (median ${RUNS})`, real: median(r.real), ref: median(r.ref), unit: 'ms', target: '' });
  }

  const w = Math.max(...rows.map((x) => x.measure.length), 7);
  const line = (a: string, b: string, c: string, d: string, e: string): string => `${a.padEnd(w)} | ${b.padStart(14)} | ${c.padStart(14)} | ${d.padStart(5)} | ${e}`;
  out('\n' + line('measure', 'redis-server', 'reference', 'ratio', 'target (ref/real)'));
  out('-'.repeat(w + 60));
  for (const x of rows) {
    out(line(x.measure, `${x.real.toFixed(0)} ${x.unit}`, `${x.ref.toFixed(0)} ${x.unit}`, (x.ref / x.real).toFixed(2), x.target));
  }
  out(`\nload average at end ${loadavg()} (2 cores; other work on the machine inflates both columns)`);
}

main().then(() => stopAll()).then(() => process.exit(0), async (e: unknown) => {
  process.stderr.write(`cluster-bench: ${(e as Error).stack ?? String(e)}\n`);
  await stopAll();
  process.exit(3);
});
