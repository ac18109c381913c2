/**
 * Child processes of the harness: each logs to its own file, can be killed, stopped, continued and started again
 * with the same command line. Live pids are tracked so an exiting harness can kill what is left synchronously.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync, existsSync } from 'node:fs';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  /** The working directory also marks the process as the run's (cleanup checks /proc/PID/cwd). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const livePids = new Set<number>();

/** Pids of every supervised child still running, for the synchronous exit path. */
export function liveChildPids(): number[] {
  return [...livePids];
}

export function killAllChildrenSync(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  livePids.clear();
}

export class SupervisedProcess {
  private child?: ChildProcess;
  private exitPromise?: Promise<ExitInfo>;
  private paused = false;
  lastExit?: ExitInfo;
  /** Called with every pid the process gets (the run marker records them). */
  onPid?: (pid: number) => void;

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.lastExit === undefined;
  }

  get isPaused(): boolean {
    return this.paused && this.running;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const fd = openSync(this.spec.logFile, 'a');
    writeSync(fd, `=== ${new Date().toISOString()} start: ${this.spec.command} ${this.spec.args.join(' ')}\n`);
    this.lastExit = undefined;
    this.paused = false;
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.exitPromise = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        if (child.pid) livePids.delete(child.pid);
        const info = { code, signal };
        if (this.child === child) this.lastExit = info;
        resolve(info);
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) => {
        this.lastExit = { code: -1, signal: null };
        reject(new Error(`${this.spec.name}: cannot start ${this.spec.command}: ${e.message}`));
      });
    });
    if (child.pid) {
      livePids.add(child.pid);
      this.onPid?.(child.pid);
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.running || !this.child?.pid) return;
    try {
      process.kill(this.child.pid, sig);
    } catch {
      // exited between the check and the signal
    }
  }

  async waitExit(timeoutMs: number): Promise<ExitInfo | undefined> {
    if (!this.exitPromise || this.lastExit) return this.lastExit;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)));
    const res = await Promise.race([this.exitPromise, timeout]);
    clearTimeout(timer);
    return res;
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.waitExit(10_000);
    this.paused = false;
  }

  /** SIGTERM, then SIGKILL if it has not exited by the deadline. */
  async terminate(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    // A stopped process only sees SIGTERM once continued.
    if (this.paused) this.signal('SIGCONT');
    this.paused = false;
    if (!(await this.waitExit(graceMs))) await this.kill();
  }

  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  tailLog(lines = 15): string {
    if (!existsSync(this.spec.logFile)) return '';
    return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }
}
