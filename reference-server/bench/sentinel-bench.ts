/**
 * Sentinel benchmark (not part of npm test): kill -9 of a real redis-server master watched by three Sentinels
 * (quorum 2, down-after 3000, failover-timeout 6000) to the first +switch-master, to +switch-master on all three, and
 * to the first write acknowledged through a real HAProxy that routes to whichever server reports role:master (the
 * shipped topologies' check: inter 1s, rise 2, fall 3); reference Sentinels vs redis-sentinel in the same run,
 * interleaved, medians of BENCH_RUNS (default 5). Then the idle
 * CPU and RSS of one Sentinel watching a master with two replicas, side by side.
 * Run: npm run bench:sentinel   (BENCH_RUNS, BENCH_IDLE_SECONDS default 20)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { rawCommand, removeDir, startReal, tempDir, waitFor, type RealNode } from '../test/fixtures/repl-kit.js';
import { eventsOf, startSentinel, waitDiscovered, type SentinelKind, type SentinelNode } from '../test/fixtures/sentinel-kit.js';
import { freePort } from '../test/util/servers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const live: { stop(): Promise<void>; dir: string }[] = [];

async function stopAll(): Promise<void> {
  for (const n of live.splice(0).reverse()) {
    await n.stop();
    removeDir(n.dir);
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stopAll().then(() => process.exit(130)));

/** A real HAProxy in front of the servers, sending clients to the one whose INFO says role:master. */
async function startHaproxy(ports: number[]): Promise<{ port: number; stop(): Promise<void>; dir: string }> {
  const dir = tempDir('haproxy');
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, [
    'defaults', '    mode tcp', '    timeout connect 2s', '    timeout client 1h', '    timeout server 1h', '    timeout check 1s',
    `frontend redis_in`, `    bind 127.0.0.1:${port}`, '    default_backend redis_master',
    'backend redis_master', '    option tcp-check', '    tcp-check connect',
    '    tcp-check send PING\\r\\n', '    tcp-check expect string +PONG',
    '    tcp-check send info\\ replication\\r\\n', '    tcp-check expect string role:master',
    '    tcp-check send QUIT\\r\\n', '    tcp-check expect string +OK',
    ...ports.map((p, i) => `    server r${i} 127.0.0.1:${p} check inter 1s rise 2 fall 3 on-marked-down shutdown-sessions`), '',
  ].join('\n'));
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
  await waitFor('HAProxy routes to the master', async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode} (config ${cfg})`);
    return (await rawCommand(port, 'SET bench:probe 1\r\n').catch(() => '')).startsWith('+OK');
  }, 15000, 100);
  return {
    port, dir,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

async function setup(kind: SentinelKind, sentinels: number, replicas: number, haproxy = false): Promise<{ master: RealNode; sentinels: SentinelNode[]; haproxyPort?: number }> {
  const master = await startReal(await freePort());
  live.push(master);
  const ports = [master.port];
  for (let i = 0; i < replicas; i++) {
    const r = await startReal(await freePort(), ['--replicaof', '127.0.0.1', String(master.port)]);
    live.push(r);
    ports.push(r.port);
  }
  let haproxyPort: number | undefined;
  if (haproxy) {
    const h = await startHaproxy(ports);
    live.push(h);
    haproxyPort = h.port;
  }
  const list: SentinelNode[] = [];
  for (let i = 0; i < sentinels; i++) {
    const s = await startSentinel(kind, await freePort(), [
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 2`,
      'sentinel down-after-milliseconds mymaster 3000',
      'sentinel failover-timeout mymaster 6000',
    ]);
    live.push(s);
    list.push(s);
  }
  await waitDiscovered(list, 'mymaster', replicas);
  return { master, sentinels: list, ...(haproxyPort !== undefined ? { haproxyPort } : {}) };
}

/** Writes through HAProxy every 10 ms (each with a 500 ms deadline) until one is acknowledged; resolves with that time. */
async function firstAckThrough(port: number, t0: number): Promise<number> {
  const c = new Redis({ host: '127.0.0.1', port, commandTimeout: 500, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 10, lazyConnect: true });
  c.on('error', () => undefined);
  try {
    for (let i = 0; ; i++) {
      if (performance.now() - t0 > 60000) throw new Error('no write was acknowledged through HAProxy within 60 s of the kill');
      try {
        if (c.status === 'wait' || c.status === 'end') await c.connect();
        if ((await c.set(`bench:after:${i}`, '1')) === 'OK') return performance.now() - t0;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  } finally {
    c.disconnect();
  }
}

async function failoverOnce(kind: SentinelKind): Promise<{ first: number; all: number; ack: number }> {
  const { master, sentinels, haproxyPort } = await setup(kind, 3, 1, true);
  const t0 = performance.now();
  await master.kill9();
  const ack = firstAckThrough(haproxyPort!, t0);
  let first = 0;
  await waitFor('+switch-master', () => {
    if (first === 0 && sentinels.some((s) => eventsOf(s, '+switch-master').length > 0)) first = performance.now() - t0;
    return sentinels.every((s) => eventsOf(s, '+switch-master').length > 0);
  }, 60000, 10);
  const all = performance.now() - t0;
  const ackMs = await ack;
  await stopAll();
  return { first, all, ack: ackMs };
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) : 0;
}

async function idle(kind: SentinelKind): Promise<{ cpuPct: number; rssMb: number }> {
  const { sentinels } = await setup(kind, 1, 2);
  const pid = sentinels[0]!.child.pid!;
  // Let startup work (JIT, first INFO round) settle before measuring.
  await new Promise((r) => setTimeout(r, 5000));
  const c0 = cpuTicks(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const cpuPct = ((cpuTicks(pid) - c0) / 100) / ((performance.now() - t0) / 1000) * 100;
  const rssMb = rssKb(pid) / 1024;
  await stopAll();
  return { cpuPct, rssMb };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const kinds: SentinelKind[] = ['real', 'ref'];
  const results: Record<SentinelKind, { first: number[]; all: number[]; ack: number[] }> = { real: { first: [], all: [], ack: [] }, ref: { first: [], all: [], ack: [] } };
  for (let i = 0; i < RUNS; i++) {
    for (const k of kinds) {
      const r = await failoverOnce(k);
      results[k].first.push(r.first);
      results[k].all.push(r.all);
      results[k].ack.push(r.ack);
      process.stdout.write(`run ${i + 1}/${RUNS} ${k === 'ref' ? 'reference' : 'redis-sentinel'}: first +switch-master ${r.first.toFixed(0)} ms, all three ${r.all.toFixed(0)} ms, first ack via HAProxy ${r.ack.toFixed(0)} ms\n`);
    }
  }
  const idleReal = await idle('real');
  const idleRef = await idle('ref');
  const row = (name: string, a: string, b: string) => `${name.padEnd(44)} ${a.padStart(16)} ${b.padStart(20)}\n`;
  process.stdout.write('\n' + row('', 'redis-sentinel', 'reference Sentinel'));
  process.stdout.write(row(`kill -9 -> first +switch-master (median ${RUNS})`, `${median(results.real.first).toFixed(0)} ms`, `${median(results.ref.first).toFixed(0)} ms`));
  process.stdout.write(row(`kill -9 -> +switch-master on all 3 (median ${RUNS})`, `${median(results.real.all).toFixed(0)} ms`, `${median(results.ref.all).toFixed(0)} ms`));
  process.stdout.write(row(`kill -9 -> first ack via HAProxy (median ${RUNS})`, `${median(results.real.ack).toFixed(0)} ms`, `${median(results.ref.ack).toFixed(0)} ms`));
  process.stdout.write(row(`idle CPU, 1 master + 2 replicas (${IDLE_SECONDS} s)`, `${idleReal.cpuPct.toFixed(2)} %`, `${idleRef.cpuPct.toFixed(2)} %`));
  process.stdout.write(row('idle RSS', `${idleReal.rssMb.toFixed(1)} MB`, `${idleRef.rssMb.toFixed(1)} MB`));
  const ratio = median(results.ref.first) / median(results.real.first);
  const ackRatio = median(results.ref.ack) / median(results.real.ack);
  process.stdout.write(`\nreference / real: first +switch-master ${ratio.toFixed(2)}, first ack via HAProxy ${ackRatio.toFixed(2)}\n`);
}

main().then(() => process.exit(0), async (e: unknown) => {
  process.stderr.write(`sentinel-bench: ${(e as Error).stack ?? String(e)}\n`);
  await stopAll();
  process.exit(3);
});
