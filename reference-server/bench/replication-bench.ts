/**
 * Replication benchmark (not part of npm test): SET throughput at -P 16 on a master with one replica attached,
 * the time a real redis-server replica takes to full-sync 1,000,000 keys, and the time three replicas of the master's
 * own kind take to full-sync at once while clients keep writing (Redis's "Connect multiple replicas at the same time"); reference vs real, same run, their runs
 * interleaved (medians of BENCH_RUNS, default 3) so that load from elsewhere on the machine hits both alike.
 * Run: npx tsc -p . && node dist/reference-server/bench/replication-bench.js
 * BENCH_KEYS (keys for the full sync, default 1000000), BENCH_REF_ARGS (node flags for the reference server; default
 * those of its shebang, as the drivers run it), BENCH_ONLY=under-load (only the full sync of three replicas under load),
 * BENCH_LOAD_TESTS (redis-benchmark -t list for that load; the default includes LPUSH, which grows one list unbounded).
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
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

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

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
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

/** Checks the replica is attached and online (else a throughput "with a replica" means nothing). */
async function attached(masterPort: number, replicaPort: number): Promise<void> {
  await until('replica up', async () => (await infoField(replicaPort, 'master_link_status')) === 'up', 30000);
  await until('master sees the replica online', async () => /state=online/.test((await infoField(masterPort, 'slave0')) ?? ''), 30000);
}

/**
 * SET throughput of both masters, runs interleaved (real, ref, real, ref, ...) so load from the rest of the machine
 * hits both alike; the median per server. With replicas, each run is followed by a wait until the replica caught up
 * (its lag is reported) and a check that it is still attached.
 */
async function interleavedSet(name: string, masters: Record<Kind, number>, replicas: Partial<Record<Kind, number>>, results: Record<string, number>): Promise<void> {
  const runs: Record<Kind, number[]> = { real: [], ref: [] };
  const lag: Record<Kind, number> = { real: 0, ref: 0 };
  for (const kind of KINDS) if (replicas[kind] !== undefined) await attached(masters[kind], replicas[kind]!);
  for (let r = 0; r < RUNS; r++) {
    for (const kind of KINDS) {
      runs[kind].push(setOnce(masters[kind]));
      const rp = replicas[kind];
      if (rp === undefined) continue;
      lag[kind] = Math.max(lag[kind], await catchUpMs(masters[kind], rp));
      if ((await infoField(masters[kind], 'connected_slaves')) !== '1') throw new Error(`${kind} ${name}: the replica is no longer attached`);
    }
  }
  for (const kind of KINDS) {
    results[`${kind}_set_P16_${name}_ops`] = median(runs[kind]);
    if (replicas[kind] !== undefined) results[`${kind}_set_P16_${name}_max_catchup_ms`] = lag[kind];
  }
}

async function fullSyncMs(masterPort: number, replicaPort: number): Promise<number> {
  const t0 = Date.now();
  const replica = await start('real', replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
  await until('replica link up', async () => (await infoField(replicaPort, 'master_link_status')) === 'up');
  const ms = Date.now() - t0;
  await stop(replica);
  return ms;
}

/**
 * Three replicas of the master's kind attach at once while redis-benchmark writes (strings, lists, sets, hashes, sorted
 * sets over 100,000 keys); the time from REPLICAOF until all three are online, the load stopped, and all three applied
 * the master's whole stream. This is the output buffer, the RDB stream and the backlog under load.
 */
async function fullSyncUnderLoadMs(kind: Kind, masterPort: number): Promise<{ online: number; total: number }> {
  await send(masterPort, 'FLUSHALL\r\n');
  const load = spawn('redis-benchmark', ['-p', String(masterPort), '-t', process.env.BENCH_LOAD_TESTS ?? 'set,lpush,sadd,hset,zadd,incr', '-r', '100000', '-d', '64', '-c', '4', '-n', '100000000', '-q'], { stdio: 'ignore' });
  children.push(load);
  // Some data first, so that the snapshot is not empty (the suite lets its load run 5 s).
  await until('write load filled the master', async () => Number(/:(\d+)/.exec(await send(masterPort, 'DBSIZE\r\n'))?.[1] ?? 0) >= 50000, 120000);
  const ports = [masterPort + 5, masterPort + 6, masterPort + 7];
  const replicas = await Promise.all(ports.map((p) => start(kind, p)));
  const t0 = Date.now();
  for (const p of ports) await send(p, `REPLICAOF 127.0.0.1 ${masterPort}\r\n`);
  await until('three replicas online', async () => {
    const text = await send(masterPort, 'INFO replication\r\n');
    return [0, 1, 2].every((i) => new RegExp(`slave${i}:[^\r]*state=online`).test(text));
  });
  const online = Date.now() - t0;
  await stop(load);
  await until('three replicas caught up', async () => {
    const m = await infoField(masterPort, 'master_repl_offset');
    for (const p of ports) if ((await infoField(p, 'slave_repl_offset')) !== m) return false;
    return m !== undefined;
  });
  const total = Date.now() - t0;
  for (const r of replicas) await stop(r);
  return { online, total };
}

type Kind = 'real' | 'ref';
const KINDS: readonly Kind[] = ['real', 'ref'];

async function main(): Promise<void> {
  const results: Record<string, number> = {};
  const masters: Record<Kind, number> = { real: 16490, ref: 16480 };
  // The same flags on both: no diskless-sync delay (5 s by default), which would only measure the wait.
  for (const k of KINDS) await start(k, masters[k], ['--repl-diskless-sync-delay', '0']);
  const flushBoth = async (): Promise<void> => { for (const k of KINDS) await send(masters[k], 'FLUSHALL\r\n'); };
  const underLoad = async (): Promise<void> => {
    const loaded: Record<Kind, { online: number; total: number }[]> = { real: [], ref: [] };
    for (let r = 0; r < RUNS; r++) for (const k of KINDS) loaded[k].push(await fullSyncUnderLoadMs(k, masters[k]));
    for (const k of KINDS) {
      results[`${k}_fullsync_3_replicas_under_load_ms`] = median(loaded[k].map((x) => x.total));
      results[`${k}_fullsync_3_replicas_under_load_online_ms`] = median(loaded[k].map((x) => x.online));
    }
    console.log(JSON.stringify(results, null, 2));
    console.log(`full sync of 3 replicas of its own kind under write load: reference/real time = ${(results.ref_fullsync_3_replicas_under_load_ms! / results.real_fullsync_3_replicas_under_load_ms!).toFixed(2)} (target <= 1.5)`);
  };
  if (process.env.BENCH_ONLY === 'under-load') return underLoad();
  // Baseline without any replica: separates the server's own speed from the cost of replication.
  await interleavedSet('no_replica', masters, {}, results);
  await flushBoth();
  // Each master with a replica of its own kind (the pair a topology runs).
  let replicas = { real: await start('real', masters.real + 1, ['--replicaof', '127.0.0.1', String(masters.real)]), ref: await start('ref', masters.ref + 1, ['--replicaof', '127.0.0.1', String(masters.ref)]) };
  await interleavedSet('with_replica', masters, { real: masters.real + 1, ref: masters.ref + 1 }, results);
  for (const k of KINDS) await stop(replicas[k]);
  await flushBoth();
  // Both masters with a real replica: isolates the master side's cost from the replica's CPU use.
  replicas = { real: await start('real', masters.real + 3, ['--replicaof', '127.0.0.1', String(masters.real)]), ref: await start('real', masters.ref + 3, ['--replicaof', '127.0.0.1', String(masters.ref)]) };
  await interleavedSet('with_real_replica', masters, { real: masters.real + 3, ref: masters.ref + 3 }, results);
  for (const k of KINDS) await stop(replicas[k]);
  await flushBoth();
  for (const k of KINDS) fill(masters[k]);
  const syncs: Record<Kind, number[]> = { real: [], ref: [] };
  for (let r = 0; r < RUNS; r++) for (const k of KINDS) syncs[k].push(await fullSyncMs(masters[k], masters[k] + 2));
  for (const k of KINDS) results[`${k}_master_fullsync_${KEYS}_keys_ms`] = median(syncs[k]);
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  await underLoad();
  console.log(`SET -P 16 with a replica: reference/real = ${ratio(results.ref_set_P16_with_replica_ops!, results.real_set_P16_with_replica_ops!)} (target >= 0.67)`);
  const cost = (k: string): string => (100 * (1 - results[`${k}_set_P16_with_real_replica_ops`]! / results[`${k}_set_P16_no_replica_ops`]!)).toFixed(0);
  console.log(`SET -P 16 without replicas: reference/real = ${ratio(results.ref_set_P16_no_replica_ops!, results.real_set_P16_no_replica_ops!)}; throughput lost to one real replica: reference ${cost('ref')}%, real ${cost('real')}%`);
  console.log(`SET -P 16 with a real replica on both: reference/real = ${ratio(results.ref_set_P16_with_real_replica_ops!, results.real_set_P16_with_real_replica_ops!)}`);
  console.log(`full sync of ${KEYS} keys to a real replica: reference/real time = ${ratio(results[`ref_master_fullsync_${KEYS}_keys_ms`]!, results[`real_master_fullsync_${KEYS}_keys_ms`]!)} (target <= 1.5)`);
}

main().then(() => { cleanup(); process.exit(0); }, (e) => { console.error((e as Error).message); cleanup(); process.exit(1); });
