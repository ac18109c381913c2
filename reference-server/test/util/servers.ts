/** Starting real redis-server and the reference server for tests, on free loopback ports, with cleanup. */
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RespClient } from './resp-client.js';
import { startServer } from '../../server/main.js';
import type { RedisServer } from '../../server/server.js';

/** The directories scripts/preflight.js accepts a system program from, then $PATH: spawn('redis-server') finds it there too. */
const PROGRAM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Whether a program (e.g. redis-server) is installed wherever preflight accepts it, not only in /usr/bin. */
export function programAvailable(name: string): boolean {
  const dirs = [...(process.env['PATH'] ?? '').split(':').filter(Boolean), ...PROGRAM_DIRS];
  return dirs.some((d) => existsSync(join(d, name)));
}

// One free-port helper for the whole project (the harness's); the tests and benches take it from here.
import { freePort } from '../../../harness/src/support/ports.js';
export { freePort };

/** Polls until the port answers PING with PONG, or throws at the deadline. */
export async function waitForPing(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const c = await RespClient.connect(port);
      const r = await c.call(['PING'], 1000);
      c.close();
      if (r === '+PONG\r\n') return;
      last = String(r);
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on port ${port} did not answer PING: ${last}`);
}

export interface RunningServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** Debian's redis-server as a child process (no persistence), in its own temp dir. */
export async function startRealRedis(extraArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rr-real-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], { stdio: 'ignore' });
  await waitForPing(port);
  return { port, dir, stop: () => stopChild(child, dir) };
}

/** The reference server in this process. */
export async function startRefInProcess(extraArgs: string[] = []): Promise<RunningServer & { server: RedisServer }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rr-ref-'));
  const { server } = await startServer(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--logfile', join(dir, 'log'), ...extraArgs]);
  return {
    port, dir, server,
    stop: async () => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Path of the compiled CLI. */
export const REF_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'redis-ref-server.js');

/** The reference server as a child process (CLI behaviour, signals, exit codes). */
export async function startRefProcess(args: string[], port: number): Promise<{ child: ChildProcess; output: () => string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [REF_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await waitForPing(port);
  return { child, output: () => out, stop: () => stopChild(child) };
}

export function stopChild(child: ChildProcess, dir?: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    child.kill('SIGKILL');
  });
}

/** Waits for a child to exit; resolves its code (or throws at the deadline). */
export function waitExit(child: ChildProcess, timeoutMs = 10000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => reject(new Error('process did not exit in time')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

/** Debian's redis-server and the reference server, the same extra flags for both, for the enclosing describe. */
export interface ServerPair {
  real: RunningServer;
  ref: RunningServer & { server: RedisServer };
}

/**
 * Registers before/after hooks in the calling describe that start both servers (in parallel) and stop them; the
 * returned pair is filled in once the before hook ran.
 */
export function useBothServers(extraArgs: string[] = []): ServerPair {
  const pair = {} as ServerPair;
  before(async () => {
    [pair.real, pair.ref] = await Promise.all([startRealRedis(extraArgs), startRefInProcess(extraArgs)]);
  });
  after(async () => {
    await Promise.all([pair.real?.stop(), pair.ref?.stop()]);
  });
  return pair;
}
