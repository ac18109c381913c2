/**
 * Replication benchmark (not part of npm test): SET throughput at -P 16 on a master with one replica attached,
 * and the time a real redis-server replica takes to full-sync 1,000,000 keys; reference vs real, same run.
 * Run: npx tsc -p . && node dist/reference-server/bench/replication-bench.js
 * BENCH_KEYS (keys for the full sync, default 1000000), BENCH_REF_ARGS (node flags for the reference server; default
 * those of its shebang, as the drivers run it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const REF_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'redis-ref-server.js');
const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const REF_ARGS = (process.env.BENCH_REF_ARGS ?? '--max-semi-space-size=2').split(' ').filter((a) => a !== '');
const children: ChildProcess[] = [];
const dirs: string[] = [];

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function send(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no reply from ${port}`)); }, 30000);
    s.on('connect', () => s.write(cmd));
    s.on('data', (d) => {
      out += d.toString('latin1');
      // One complete bulk or line reply is enough for the commands used here.
      const m = /^\$(\d+)\r\n/.exec(out);
      if ((m && out.length >= m[0].length + Number(m[1]) + 2) || (!m && out.endsWith('\r\n') && !out.startsWith('$'))) {
        clearTimeout(timer); s.destroy(); resolve(out);
      }
    });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 600000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try { if (await fn()) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function start(kind: 'ref' | 'real', port: number, extra: string[] = []): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), `replbench-${kind}-`));
  dirs.push(dir);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--logfile', join(dir, 'log'), ...extra];
  const child = kind === 'ref' ? spawn(process.execPath, [...REF_ARGS, REF_BIN, ...args], { stdio: 'ignore' }) : spawn('redis-server', args, { stdio: 'ignore' });
  children.push(child);
  try {
    await until(`${kind} on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`${kind} server on ${port} exited with ${child.exitCode}`);
      return (await send(port, 'PING\r\n')).startsWith('+PONG');
    }, 60000);
  } catch (e) {
    let log = '';
    try { log = readFileSync(join(dir, 'log'), 'utf8').split('\n').slice(-10).join('\n'); } catch { /* no log yet */ }
    throw new Error(`${(e as Error).message} (exit ${child.exitCode}); last log lines:\n${log}`);
  }
  return child;
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await done;
}

async function infoField(port: number, field: string): Promise<string | undefined> {
  const text = await send(port, 'INFO replication\r\n');
  return new RegExp(`\\r\\n${field}:([^\\r]*)`).exec(text)?.[1];
}

/** Median of three redis-benchmark runs (the machine is shared; single runs vary a lot). */
function setThroughput(port: number): number {
  const runs = [setOnce(port), setOnce(port), setOnce(port)].sort((a, b) => a - b);
  return runs[1]!;
}

function setOnce(port: number): number {
  const r = spawnSync('redis-benchmark', ['-p', String(port), '-t', 'set', '-P', '16', '-c', '50', '-n', '400000', '-q'], { encoding: 'utf8' });
  const m = /SET: ([\d.]+) requests per second/.exec(r.stdout.replace(/\r/g, '\n'));
  if (!m) throw new Error(`redis-benchmark output not understood: ${r.stdout} ${r.stderr}`);
  return Number(m[1]);
}

/** Loads KEYS string keys through redis-cli --pipe (the same for both servers). */
function fill(port: number): void {
  let payload = '';
  const chunks: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const k = `key:${i}`, v = `value-${String(i).padStart(10, '0')}`;
    payload += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    if (payload.length > 1 << 20) { chunks.push(payload); payload = ''; }
  }
  chunks.push(payload);
  const r = spawnSync('redis-cli', ['-p', String(port), '--pipe'], { input: chunks.join(''), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (!/errors: 0/.test(r.stdout)) throw new Error(`fill failed: ${r.stdout} ${r.stderr}`);
}

/** Waits until the replica applied everything the master generated; returns how long that took (its lag). */
async function catchUpMs(masterPort: number, replicaPort: number): Promise<number> {
  const t0 = Date.now();
  await until('replica in sync', async () => {
    const m = await infoField(masterPort, 'master_repl_offset');
    return m !== undefined && (await infoField(replicaPort, 'master_link_status')) === 'up' && (await infoField(replicaPort, 'slave_repl_offset')) === m;
  }, 120000);
  return Date.now() - t0;
}

/** SET throughput with the replica attached, checked attached before and caught up after (else the number means nothing). */
async function setThroughputWithReplica(masterPort: number, replicaPort: number, results: Record<string, number>, name: string): Promise<void> {
  await until('replica up', async () => (await infoField(replicaPort, 'master_link_status')) === 'up', 30000);
  await until('master sees the replica online', async () => /state=online/.test((await infoField(masterPort, 'slave0')) ?? ''), 30000);
  results[`${name}_ops`] = setThroughput(masterPort);
  results[`${name}_catchup_ms`] = await catchUpMs(masterPort, replicaPort);
  if ((await infoField(masterPort, 'connected_slaves')) !== '1') throw new Error(`${name}: the replica is no longer attached`);
}

async function fullSyncMs(masterPort: number, replicaPort: number): Promise<number> {
  const t0 = Date.now();
  const replica = await start('real', replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
  await until('replica link up', async () => (await infoField(replicaPort, 'master_link_status')) === 'up');
  const ms = Date.now() - t0;
  await stop(replica);
  return ms;
}

async function main(): Promise<void> {
  const results: Record<string, number> = {};
  for (const kind of ['real', 'ref'] as const) {
    const mPort = kind === 'ref' ? 16480 : 16490;
    const rPort = mPort + 1;
    const master = await start(kind, mPort, kind === 'real' ? ['--repl-diskless-sync-delay', '0'] : []);
    // Baseline without any replica: separates the server's own speed from the cost of replication.
    results[`${kind}_set_P16_no_replica_ops`] = setThroughput(mPort);
    await send(mPort, 'FLUSHALL\r\n');
    const replica = await start(kind, rPort, ['--replicaof', '127.0.0.1', String(mPort)]);
    await setThroughputWithReplica(mPort, rPort, results, `${kind}_set_P16_with_replica`);
    await stop(replica);
    await send(mPort, 'FLUSHALL\r\n');
    // The same master with a real replica: isolates the master side's cost from the replica's CPU use.
    const realReplica = await start('real', rPort + 3, ['--replicaof', '127.0.0.1', String(mPort)]);
    await setThroughputWithReplica(mPort, rPort + 3, results, `${kind}_set_P16_with_real_replica`);
    await stop(realReplica);
    await send(mPort, 'FLUSHALL\r\n');
    fill(mPort);
    results[`${kind}_master_fullsync_${KEYS}_keys_ms`] = await fullSyncMs(mPort, rPort + 2);
    await stop(master);
  }
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  console.log(JSON.stringify(results, null, 2));
  console.log(`SET -P 16 with a replica: reference/real = ${ratio(results.ref_set_P16_with_replica_ops!, results.real_set_P16_with_replica_ops!)} (target >= 0.67)`);
  const cost = (k: string): string => (100 * (1 - results[`${k}_set_P16_with_real_replica_ops`]! / results[`${k}_set_P16_no_replica_ops`]!)).toFixed(0);
  console.log(`SET -P 16 without replicas: reference/real = ${ratio(results.ref_set_P16_no_replica_ops!, results.real_set_P16_no_replica_ops!)}; throughput lost to one real replica: reference ${cost('ref')}%, real ${cost('real')}%`);
  console.log(`SET -P 16 with a real replica on both: reference/real = ${ratio(results.ref_set_P16_with_real_replica_ops!, results.real_set_P16_with_real_replica_ops!)}`);
  console.log(`full sync of ${KEYS} keys to a real replica: reference/real time = ${ratio(results[`ref_master_fullsync_${KEYS}_keys_ms`]!, results[`real_master_fullsync_${KEYS}_keys_ms`]!)} (target <= 1.5)`);
}

main().then(() => { cleanup(); process.exit(0); }, (e) => { console.error((e as Error).message); cleanup(); process.exit(1); });
