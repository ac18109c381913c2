/**
 * A minimal Deployment of real redis-server processes on 127.0.0.1 (free ports, one temp dir): a master and
 * replicas, no Sentinel/HAProxy. It exists so the engine's workloads, observer and checkers can be tested
 * against real Redis without the full driver; faults are limited to process signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Deployment, Endpoint, GeneratedFile, PartitionSpec, RunningInstance } from '../drivers/driver.js';
import type { Topology } from '../topology/model.js';
import { waitFor } from '../support/time.js';
import { freePort } from '../support/ports.js';

export { freePort };

interface Proc {
  name: string;
  port: number;
  args: string[];
  child?: ChildProcess;
  paused: boolean;
}

export class MiniDeployment implements Deployment {
  readonly runId: string;
  readonly runDir: string;
  readonly driverName = 'mini';
  readonly partitionUnsupportedReason = 'the mini deployment runs every instance on 127.0.0.1';
  private readonly procs = new Map<string, Proc>();

  private constructor(readonly topology: Topology, runDir: string) {
    this.runDir = runDir;
    this.runId = `mini-${process.pid}-${Date.now()}`;
  }

  /** Starts a master ("m") and `replicas` replicas ("r1", ...), each replica linked before it returns. */
  static async start(replicas = 1, extraConfig: string[] = []): Promise<MiniDeployment> {
    const dir = mkdtempSync(join(tmpdir(), 'chaos-mini-'));
    const names = ['m', ...Array.from({ length: replicas }, (_, i) => `r${i + 1}`)];
    const ports = await Promise.all(names.map(() => freePort()));
    const topology: Topology = {
      name: 'mini',
      file: '<mini>',
      kind: 'standalone',
      hosts: [{ name: 'local' }],
      redis: names.map((name, i) => ({
        name,
        host: 'local',
        port: ports[i]!,
        config: {},
        target: 'redis' as const,
        ...(i > 0 ? { replicaof: 'm' } : {}),
      })),
      sentinels: [],
      budgets: { failoverMs: 10_000, unavailabilityMs: 15_000 },
    };
    const dep = new MiniDeployment(topology, dir);
    try {
      for (const [i, name] of names.entries()) {
        const port = ports[i]!;
        const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `${name}.rdb`, '--daemonize', 'no', '--loglevel', 'warning', '--repl-diskless-sync-delay', '0', ...extraConfig];
        if (i > 0) args.push('--replicaof', '127.0.0.1', String(ports[0]));
        dep.procs.set(name, { name, port, args, paused: false });
        await dep.start(name);
      }
      for (const r of names.slice(1)) await dep.waitLinked(r);
    } catch (e) {
      await dep.down();
      throw e;
    }
    return dep;
  }

  private proc(name: string): Proc {
    const p = this.procs.get(name);
    if (!p) throw new Error(`unknown instance "${name}"`);
    return p;
  }

  async waitLinked(name: string): Promise<void> {
    const c = this.client(name);
    try {
      await waitFor(`${name} replication link up`, async () => (await c.info('replication')).includes('master_link_status:up'), 15_000);
    } finally {
      c.disconnect();
    }
  }

  /** A plain admin client (caller disconnects). */
  client(name: string): Redis {
    const ep = this.endpoint(name);
    const c = new Redis({ host: ep.host, port: ep.port, maxRetriesPerRequest: 1, connectTimeout: 1000, commandTimeout: 2000 });
    c.on('error', () => undefined);
    return c;
  }

  instances(): RunningInstance[] {
    return [...this.procs.values()].map((p) => ({ name: p.name, kind: 'redis', host: 'local', endpoint: this.endpoint(p.name), target: 'redis', logFile: '' }));
  }

  endpoint(name: string): Endpoint {
    return { host: '127.0.0.1', port: this.proc(name).port };
  }

  internalAddress(name: string): Endpoint {
    return this.endpoint(name);
  }

  generatedFiles(): GeneratedFile[] {
    return [];
  }

  async versions(): Promise<Record<string, string>> {
    return {};
  }

  isRunning(name: string): boolean {
    const p = this.proc(name);
    return !!p.child && p.child.exitCode === null && p.child.signalCode === null;
  }

  private async signal(name: string, sig: NodeJS.Signals): Promise<void> {
    const p = this.proc(name);
    const child = p.child;
    if (!child || !this.isRunning(name)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (p.paused) child.kill('SIGCONT');
    p.paused = false;
    child.kill(sig);
    await exited;
  }

  kill(name: string): Promise<void> {
    return this.signal(name, 'SIGKILL');
  }

  terminate(name: string): Promise<void> {
    return this.signal(name, 'SIGTERM');
  }

  async pause(name: string): Promise<void> {
    const p = this.proc(name);
    p.child?.kill('SIGSTOP');
    p.paused = true;
  }

  async resume(name: string): Promise<void> {
    const p = this.proc(name);
    p.child?.kill('SIGCONT');
    p.paused = false;
  }

  async start(name: string): Promise<void> {
    const p = this.proc(name);
    if (this.isRunning(name)) return;
    p.child = spawn('redis-server', p.args, { stdio: 'ignore' });
    p.child.on('error', () => undefined);
    const c = this.client(name);
    try {
      await waitFor(`${name} to answer PING`, async () => (await c.ping()) === 'PONG', 10_000);
    } finally {
      c.disconnect();
    }
  }

  async restart(name: string): Promise<void> {
    await this.terminate(name);
    await this.start(name);
  }

  async stopHost(): Promise<void> {
    throw new Error(this.partitionUnsupportedReason);
  }

  async startHost(): Promise<void> {
    throw new Error(this.partitionUnsupportedReason);
  }

  async partition(_spec: PartitionSpec): Promise<void> {
    throw new Error(this.partitionUnsupportedReason);
  }

  async heal(): Promise<void> {}

  async down(): Promise<void> {
    for (const name of this.procs.keys()) await this.kill(name).catch(() => undefined);
    rmSync(this.runDir, { recursive: true, force: true });
  }
}
