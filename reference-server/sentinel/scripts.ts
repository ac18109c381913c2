/**
 * notification-script and client-reconfig-script runs as sentinel.c schedules them: a queue of at most 256 jobs,
 * at most 16 running, a job that exits 1 or dies by a signal retried up to 10 times with a doubling delay, any other
 * non-zero exit reported as -script-error, and a job running longer than script-max-runtime killed (-script-timeout).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const SCRIPT_MAX_QUEUE = 256;
export const SCRIPT_MAX_RUNNING = 16;
export const SCRIPT_MAX_RETRY = 10;

export interface ScriptJob {
  argv: string[];
  running: boolean;
  retryNum: number;
  /** When it (last) started, or for a scheduled retry when it may start; 0 = at once. */
  startTime: number;
  pid: number;
  child: ChildProcess | null;
}

export interface ScriptHost {
  now(): number;
  maxRuntime(): number;
  retryDelay(): number;
  /** sentinelEvent for the script events (-script-error, -script-timeout, +/-script-child). */
  event(level: 'debug' | 'warning', type: string, msg: string): void;
  log(msg: string): void;
}

export class ScriptQueue {
  readonly jobs: ScriptJob[] = [];
  running = 0;

  constructor(private readonly host: ScriptHost) {}

  /** sentinelScheduleScriptExecution: queues path + args; a full queue drops its oldest job that is not running. */
  schedule(argv: string[]): void {
    this.jobs.push({ argv: argv.slice(0, 16), running: false, retryNum: 0, startTime: 0, pid: 0, child: null });
    if (this.jobs.length > SCRIPT_MAX_QUEUE) {
      const i = this.jobs.findIndex((j) => !j.running);
      if (i >= 0) this.jobs.splice(i, 1);
    }
  }

  /** sentinelRunPendingScripts. */
  runPending(): void {
    const now = this.host.now();
    for (const job of this.jobs) {
      if (this.running >= SCRIPT_MAX_RUNNING) break;
      if (job.running) continue;
      if (job.startTime && job.startTime > now) continue;
      job.running = true;
      job.startTime = now;
      job.retryNum++;
      let child: ChildProcess;
      try {
        child = spawn(job.argv[0]!, job.argv.slice(1), { stdio: 'ignore', detached: false });
      } catch {
        this.host.event('warning', '-script-error', `${job.argv[0]} 99 0`);
        job.running = false;
        job.pid = 0;
        continue;
      }
      this.running++;
      job.child = child;
      job.pid = child.pid ?? 0;
      let done = false;
      // A script that cannot be executed ends like Redis's child after a failed execve: exit code 2, no retry.
      child.on('error', () => {
        if (done) return;
        done = true;
        this.terminated(job, 2, 0);
      });
      child.on('exit', (code, signal) => {
        if (done) return;
        done = true;
        this.terminated(job, code ?? 0, signal ? signalNumber(signal) : 0);
      });
      this.host.event('debug', '+script-child', String(job.pid));
    }
  }

  /** sentinelCollectTerminatedScripts for one job. */
  private terminated(job: ScriptJob, exitcode: number, bysignal: number): void {
    this.host.event('debug', '-script-child', `${job.pid} ${exitcode} ${bysignal}`);
    this.running--;
    job.child = null;
    if ((bysignal || exitcode === 1) && job.retryNum !== SCRIPT_MAX_RETRY) {
      job.running = false;
      job.pid = 0;
      let delay = this.host.retryDelay();
      for (let n = job.retryNum; n > 1; n--) delay *= 2;
      job.startTime = this.host.now() + delay;
      return;
    }
    if (bysignal || exitcode !== 0) this.host.event('warning', '-script-error', `${job.argv[0]} ${bysignal} ${exitcode}`);
    const i = this.jobs.indexOf(job);
    if (i >= 0) this.jobs.splice(i, 1);
  }

  /** sentinelKillTimedoutScripts. */
  killTimedOut(): void {
    const now = this.host.now();
    for (const job of this.jobs) {
      if (job.running && job.child && now - job.startTime > this.host.maxRuntime()) {
        this.host.event('warning', '-script-timeout', `${job.argv[0]} ${job.pid}`);
        job.child.kill('SIGKILL');
      }
    }
  }

  /** Kills every running script (the Sentinel is stopping). */
  stop(): void {
    for (const job of this.jobs) job.child?.kill('SIGKILL');
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGABRT: 6, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

function signalNumber(name: string): number {
  return SIGNALS[name] ?? 1;
}
