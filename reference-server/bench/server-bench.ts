/**
 * npm run bench:server — redis-benchmark against Debian's redis-server and the reference server in the same run,
 * interleaved, at -P 1 and -P 16, then RSS after loading 1,000,000 keys of 16-byte values into each.
 * Environment: BENCH_N (requests per test, default 200000), BENCH_KEYS (default 1000000), BENCH_RUNS (best of, default 3),
 * BENCH_TESTS (comma-separated labels, e.g. SET,HSET; default all), BENCH_P (comma-separated pipelines, default 1,16),
 * BENCH_KEYS=0 skips the RSS measurement, BENCH_REF_ARGS (node flags for the reference server; default those of its shebang),
 * BENCH_REF_BIN (another build's bin/redis-ref-server.js, to compare two versions of the reference server against the same redis-server).
 * Beside ops/s it prints each server's CPU time per request (user + system of the whole process, from /proc): on a busy
 * machine throughput swings with what else runs, while CPU per request moves much less, so compare builds by that column.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/util/servers.js';
import { promisify } from 'node:util';

const run = promisify(execFile);
const N = Number(process.env.BENCH_N ?? 200000);
const KEYS = Number(process.env.BENCH_KEYS ?? 1000000);
/** Each pair is measured this many times (alternating) and the best of each kept, to damp noise from other load. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = (process.env.BENCH_TESTS ?? '').split(',').map((t) => t.trim().toUpperCase()).filter((t) => t !== '');
const PIPELINES = (process.env.BENCH_P ?? '1,16').split(',').map(Number);
const REF_ARGS = (process.env.BENCH_REF_ARGS ?? '--max-semi-space-size=2').split(' ').filter((a) => a !== '');
const REF_BIN = process.env.BENCH_REF_BIN ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'redis-ref-server.js');

interface Target {
  name: string;
  port: number;
  child: ChildProcess;
}


async function waitReady(port: number): Promise<void> {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'PING']);
      if (stdout.trim() === 'PONG') return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} did not start`);
}

async function start(name: string, cmd: string, args: string[], dir: string): Promise<Target> {
  const port = await freePort();
  const child = spawn(cmd, [...args, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', join(dir, `${name}.log`)], { stdio: 'ignore' });
  await waitReady(port);
  return { name, port, child };
}

const ALL_TESTS: { label: string; args: string[] }[] = [
  { label: 'SET', args: ['-t', 'set'] },
  { label: 'GET', args: ['-t', 'get'] },
  { label: 'INCR', args: ['-t', 'incr'] },
  { label: 'LPUSH', args: ['-t', 'lpush'] },
  { label: 'LPOP', args: ['-t', 'lpop'] },
  { label: 'SADD', args: ['-t', 'sadd'] },
  { label: 'HSET', args: ['-t', 'hset'] },
  { label: 'ZADD', args: ['-r', '100000', 'ZADD', 'bench:zset', '__rand_int__', 'member:__rand_int__'] },
];

const TESTS = ONLY.length === 0 ? ALL_TESTS : ALL_TESTS.filter((t) => ONLY.includes(t.label));

async function benchOne(t: Target, test: { args: string[] }, pipeline: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', ['-p', String(t.port), '-c', '50', '-n', String(N), '-P', String(pipeline), '-q', ...test.args], { maxBuffer: 64 * 1024 * 1024 });
  const lines = stdout.split(/[\r\n]/).filter((l) => l.includes('requests per second'));
  const last = lines[lines.length - 1] ?? '';
  const m = /:\s*([\d.]+) requests per second/.exec(last);
  if (!m) throw new Error(`could not parse redis-benchmark output: ${stdout.slice(-200)}`);
  return Number(m[1]);
}

/** User + system CPU seconds the process has used so far (/proc/PID/stat fields 14 and 15, in clock ticks). */
function cpuSeconds(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Loads KEYS keys of 16-byte values through redis-cli --pipe (the fastest loader Redis ships). */
async function load(t: Target): Promise<void> {
  await run('redis-cli', ['-p', String(t.port), 'FLUSHALL']);
  const chunk = 100000;
  for (let start = 0; start < KEYS; start += chunk) {
    let payload = '';
    const end = Math.min(KEYS, start + chunk);
    for (let i = start; i < end; i++) {
      const key = `key:${String(i).padStart(10, '0')}`;
      const val = `v${String(i).padStart(15, '0')}`;
      payload += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$16\r\n${val}\r\n`;
    }
    await new Promise<void>((resolve, reject) => {
      const p = spawn('redis-cli', ['-p', String(t.port), '--pipe'], { stdio: ['pipe', 'ignore', 'inherit'] });
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli --pipe exited ${code}`))));
      p.stdin.end(payload);
    });
  }
  const { stdout } = await run('redis-cli', ['-p', String(t.port), 'DBSIZE']);
  if (Number(stdout) !== KEYS) throw new Error(`${t.name}: DBSIZE ${stdout.trim()} after loading ${KEYS} keys`);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rr-bench-'));
  const targets: Target[] = [];
  const cleanup = () => {
    for (const t of targets) t.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // Ctrl-C or a kill of the bench stops both servers too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    targets.push(await start('redis', 'redis-server', [], dir));
    targets.push(await start('reference', process.execPath, [...REF_ARGS, REF_BIN], dir));
    const [redis, ref] = targets;
    console.log(`redis-benchmark -c 50 -n ${N}; redis-server 7.0.15 vs reference server (node ${process.version}), interleaved, best of ${RUNS}`);
    const ticks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
    console.log(pad('test', 8) + pad('-P', 5) + pad('redis ops/s', 14) + pad('ref ops/s', 14) + pad('ratio', 7) + pad('per round', 11) +
      pad('redis us/op', 13) + pad('ref us/op', 11) + 'cpu ratio');
    const ratios: Record<string, number[]> = {};
    const cpuRatios: Record<string, number[]> = {};
    for (const pipeline of PIPELINES) {
      ratios[String(pipeline)] = [];
      cpuRatios[String(pipeline)] = [];
      for (const [i, test] of TESTS.entries()) {
        // Alternate which server goes first so drift (thermal, cache) does not favour one.
        const order = i % 2 === 0 ? [redis, ref] : [ref, redis];
        const res = new Map<string, number[]>([['redis', []], ['reference', []]]);
        const cpu = new Map<string, number[]>([['redis', []], ['reference', []]]);
        for (let run = 0; run < RUNS; run++) {
          for (const t of run % 2 === 0 ? order : [...order].reverse()) {
            const before = cpuSeconds(t.child.pid as number, ticks);
            res.get(t.name)!.push(await benchOne(t, test, pipeline));
            cpu.get(t.name)!.push(((cpuSeconds(t.child.pid as number, ticks) - before) / N) * 1e6);
          }
        }
        const r = Math.max(...res.get('redis')!);
        const x = Math.max(...res.get('reference')!);
        const cr = Math.min(...cpu.get('redis')!);
        const cx = Math.min(...cpu.get('reference')!);
        ratios[String(pipeline)].push(x / r);
        cpuRatios[String(pipeline)].push(cr / cx);
        // Each round's own ratio shows how much of a difference is the machine's noise.
        const rounds = res.get('reference')!.map((v, k) => v / res.get('redis')![k]!);
        const spread = `${Math.min(...rounds).toFixed(2)}-${Math.max(...rounds).toFixed(2)}`;
        console.log(pad(test.label, 8) + pad(String(pipeline), 5) + pad(r.toFixed(0), 14) + pad(x.toFixed(0), 14) + pad((x / r).toFixed(2), 7) + pad(spread, 11) +
          pad(cr.toFixed(2), 13) + pad(cx.toFixed(2), 11) + (cr / cx).toFixed(2));
      }
    }
    const gmean = (a: number[]) => Math.exp(a.reduce((s, v) => s + Math.log(v), 0) / a.length);
    console.log(`geometric mean ratio: ${PIPELINES.map((p) => `-P ${p} ${gmean(ratios[String(p)]).toFixed(2)}`).join(', ')} (targets: -P 1 >= 0.90, -P 16 >= 0.75)`);
    console.log(`geometric mean CPU ratio (redis us/op / ref us/op): ${PIPELINES.map((p) => `-P ${p} ${gmean(cpuRatios[String(p)]).toFixed(2)}`).join(', ')}`);
    if (KEYS === 0) return;
    const rss: Record<string, number> = {};
    for (const t of [redis, ref]) {
      await load(t);
      rss[t.name] = rssMb(t.child.pid as number);
      await run('redis-cli', ['-p', String(t.port), 'FLUSHALL']);
    }
    console.log(`RSS after ${KEYS} keys of 16-byte values: redis ${rss.redis.toFixed(1)} MB, reference ${rss.reference.toFixed(1)} MB, ratio ${(rss.reference / rss.redis).toFixed(2)} (target <= 1.40)`);
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(`server-bench: ${(e as Error).message}`);
  process.exit(1);
});
