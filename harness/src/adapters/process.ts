/**
 * One running adapter program: started with the hello, answered by ready within a deadline, then requests
 * with ids. The adapter is pinged every second while it runs; a crash, a line that is not protocol, or a
 * ping left unanswered is an AdapterError naming the adapter and what it printed, and the whole process
 * group is killed at once. A request the client itself never settles is not an adapter failure: it stays
 * pending and the caller measures it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { registerTeardown } from '../cleanup/registry.js';
import { parseAdapterLine, type Hello, type Message, type Ready, type Reply, type Request } from './protocol.js';
import { scaledMs } from './time.js';

/** How to start an adapter: a name for messages and the command line (argv, no shell). */
export interface AdapterSpec {
  name: string;
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** The adapter broke the protocol (crashed, printed garbage, hung): a harness-level error (exit 3). */
export class AdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterError';
  }
}

export interface AdapterTimings {
  /** Hello -> ready. */
  readyMs: number;
  pingEveryMs: number;
  /** A ping unanswered this long means the adapter (not the client library) is hung. */
  pingTimeoutMs: number;
}

export const DEFAULT_ADAPTER_TIMINGS: AdapterTimings = { readyMs: 15_000, pingEveryMs: 1000, pingTimeoutMs: 5000 };

interface Pending {
  request: Request;
  sentAt: number;
  resolve(r: Reply): void;
  reject(e: Error): void;
}

function quote(line: string): string {
  const s = line.length > 200 ? `${line.slice(0, 200)}...` : line;
  return JSON.stringify(s);
}

export class AdapterProcess {
  ready?: Ready;
  /** The first protocol failure; once set, every pending and future request rejects with it. */
  failure?: AdapterError;
  private child: ChildProcessByStdio<Writable, Readable, Readable>;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private lastStdout = '';
  /** The last stderr lines: a crash's cause is rarely its last line (Node ends with its version, Python with the frame). */
  private stderrTail: string[] = [];
  private exited = false;
  private readonly exitedPromise: Promise<void>;
  private pingTimer?: NodeJS.Timeout;
  private readonly failureListeners: ((e: AdapterError) => void)[] = [];
  private readyWaiter?: { resolve(r: Ready): void; reject(e: Error): void };
  private unregister: () => void;

  private constructor(
    readonly spec: AdapterSpec,
    private readonly timings: AdapterTimings,
    private readonly onMessage: (m: Message) => void,
    private readonly onLog: (line: string) => void,
  ) {
    const [cmd, ...args] = spec.command;
    if (!cmd) throw new AdapterError(`adapter "${spec.name}": empty command`);
    // Its own process group, so a wrapper script and everything it started die together.
    this.child = spawn(cmd, args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.exitedPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        if (!this.closing) this.fail(`exited (${signal ?? `code ${code}`})${this.lastWords()}`);
        resolve();
      });
      this.child.once('error', (e) => {
        this.exited = true;
        this.fail(`could not be started: ${e.message}`);
        resolve();
      });
    });
    this.child.stdin.on('error', () => undefined);
    createInterface({ input: this.child.stdout }).on('line', (l) => this.onLine(l));
    createInterface({ input: this.child.stderr }).on('line', (l) => {
      if (!l.trim()) return;
      this.stderrTail.push(l);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
    });
    this.unregister = registerTeardown({ name: `adapter ${spec.name}`, run: () => this.close(0), runSync: () => this.killGroup() });
  }

  private closing = false;

  /** Starts the program, sends the hello and waits for ready; throws AdapterError when it does not come. */
  static async start(spec: AdapterSpec, hello: Hello, opts: { timings?: Partial<AdapterTimings>; onMessage?: (m: Message) => void; onLog?: (line: string) => void } = {}): Promise<AdapterProcess> {
    const timings = { ...DEFAULT_ADAPTER_TIMINGS, ...opts.timings };
    const p = new AdapterProcess(spec, timings, opts.onMessage ?? (() => undefined), opts.onLog ?? (() => undefined));
    try {
      p.ready = await p.awaitReady(hello);
    } catch (e) {
      await p.close(0);
      throw e;
    }
    p.pingTimer = setInterval(() => p.ping(), scaledMs(timings.pingEveryMs));
    p.pingTimer.unref();
    return p;
  }

  private awaitReady(hello: Hello): Promise<Ready> {
    return new Promise<Ready>((resolve, reject) => {
      const ms = scaledMs(this.timings.readyMs);
      const timer = setTimeout(() => this.fail(`did not answer the hello with "ready" within ${ms} ms${this.lastWords()}`), ms);
      this.readyWaiter = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.child.stdin.write(JSON.stringify(hello) + '\n');
    });
  }

  private lastWords(): string {
    const printed = this.lastStdout ? `; last line it printed: ${quote(this.lastStdout)}` : '';
    const cause = [...this.stderrTail].reverse().find((l) => /error|exception|traceback|fatal|panic/i.test(l) && !/^\s+at /.test(l)) ?? this.stderrTail[this.stderrTail.length - 1];
    if (cause) return `${printed}; on stderr: ${quote(cause.trim())}`;
    return printed || '; it printed nothing';
  }

  private onLine(line: string): void {
    if (this.failure || line.trim() === '') return;
    this.lastStdout = line;
    let parsed;
    try {
      parsed = parseAdapterLine(line);
    } catch (e) {
      this.fail(`printed a line that is not protocol (${(e as Error).message}): ${quote(line)}`);
      return;
    }
    switch (parsed.kind) {
      case 'ready':
        if (!this.readyWaiter) return this.fail(`printed "ready" twice: ${quote(line)}`);
        this.readyWaiter.resolve(parsed.ready);
        this.readyWaiter = undefined;
        return;
      case 'reply': {
        const p = this.pending.get(parsed.reply.id);
        if (!p) return this.fail(`answered id ${parsed.reply.id}, which is not pending: ${quote(line)}`);
        this.pending.delete(parsed.reply.id);
        p.resolve(parsed.reply);
        return;
      }
      case 'message':
        this.onMessage(parsed.message);
        return;
      case 'log':
        this.onLog(parsed.log.message);
        return;
    }
  }

  private fail(why: string): void {
    if (this.failure) return;
    this.failure = new AdapterError(`adapter "${this.spec.name}" (${this.spec.command.join(' ')}) ${why}`);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.killGroup();
    this.readyWaiter?.reject(this.failure);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    for (const l of this.failureListeners) l(this.failure);
  }

  /** Resolves never; rejects with the adapter's failure (race it against a wait). */
  failed(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.failure) return reject(this.failure);
      this.failureListeners.push(reject);
    });
  }

  private ping(): void {
    const now = performance.now();
    for (const p of this.pending.values()) {
      if (p.request.op === 'ping' && now - p.sentAt > scaledMs(this.timings.pingTimeoutMs)) {
        this.fail(`is hung: no answer to ping ${p.request.id} for ${Math.round(now - p.sentAt)} ms${this.lastWords()}`);
        return;
      }
    }
    if ([...this.pending.values()].some((p) => p.request.op === 'ping')) return;
    this.request({ op: 'ping' }).catch(() => undefined);
  }

  /** Sends a request; the promise settles when the adapter answers (or rejects with the adapter's failure). */
  request(r: Omit<Request, 'id'>): Promise<Reply> {
    return this.send(r).reply;
  }

  /** As request(), also giving the id the request went out with. */
  send(r: Omit<Request, 'id'>): { id: number; reply: Promise<Reply> } {
    const request: Request = { id: this.nextId++, ...r };
    if (this.failure) return { id: request.id, reply: Promise.reject(this.failure) };
    const reply = new Promise<Reply>((resolve, reject) => {
      this.pending.set(request.id, { request, sentAt: performance.now(), resolve, reject });
      this.child.stdin.write(JSON.stringify(request) + '\n');
    });
    return { id: request.id, reply };
  }

  /** Requests (not pings) sent and not answered yet, oldest first. */
  pendingRequests(): { request: Request; sentAt: number }[] {
    return [...this.pending.values()].filter((p) => p.request.op !== 'ping').map((p) => ({ request: p.request, sentAt: p.sentAt }));
  }

  private killGroup(): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** Asks the adapter to quit, waits up to `graceMs`, then kills its process group; never throws. */
  async close(graceMs = 2000): Promise<void> {
    this.closing = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (!this.exited && !this.failure && graceMs > 0) {
      this.child.stdin.write(JSON.stringify({ id: this.nextId++, op: 'quit' }) + '\n');
      this.child.stdin.end();
      await Promise.race([this.exitedPromise, new Promise((r) => setTimeout(r, scaledMs(graceMs)).unref())]);
    }
    this.killGroup();
    if (!this.exited && this.child.pid !== undefined) await Promise.race([this.exitedPromise, new Promise((r) => setTimeout(r, 2000).unref())]);
    // Whatever the wrapper left in the group (its children outlive it when it exits first).
    if (this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // No group left.
      }
    }
    for (const p of this.pending.values()) p.reject(new AdapterError(`adapter "${this.spec.name}" was closed`));
    this.pending.clear();
    this.unregister();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}
