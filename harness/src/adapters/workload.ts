/**
 * A workload through a client adapter: an open-loop stream of SADDs (unique elements over a few keys) at a fixed
 * rate, each recorded invoke then ok / fail / info (via `client:<name>`, with the server the adapter says it
 * used); optionally a subscriber and a publisher on one channel. A command the client never settles stays
 * pending; at stop it is recorded as 'info' with an "unsettled" error, so the checkers can count it.
 */
import type { Deployment } from '../drivers/driver.js';
import type { HistoryWriter } from '../history/writer.js';
import { defaultMode, helloFor } from './hello.js';
import { AdapterProcess, type AdapterSpec, type AdapterTimings } from './process.js';
import type { AdapterMode, Reply } from './protocol.js';
import { scaledMs } from './time.js';

export interface ClientWorkloadOptions {
  spec: AdapterSpec;
  mode?: AdapterMode;
  /** SADDs per second (default 200). */
  rate?: number;
  /** Requests in flight at most; a client that hangs stops the stream here (default 64). */
  maxInFlight?: number;
  keyPrefix?: string;
  /** Keys the elements are spread over (default 1; 32 for a cluster so every shard gets some). */
  setKeys?: number;
  /** Timeouts handed to the client (default 1000 / 1000 ms, scaled). */
  connectMs?: number;
  commandMs?: number;
  /** Subscribe to one channel and publish to it every `publishEveryMs` (default off). */
  pubsub?: boolean;
  publishEveryMs?: number;
  timings?: Partial<AdapterTimings>;
  log?: (line: string) => void;
}

/** The op name the history uses for a delivered pub/sub message. */
export const DELIVER_F = 'deliver';

export class ClientWorkload {
  readonly via: string;
  readonly stats = { invoked: 0, ok: 0, fail: 0, info: 0, published: 0, delivered: 0 };
  lastOkAt = -1;
  lastOkInvokedAt = -1;
  /** Per key: invoke time of its latest acknowledged write (a cluster's failed shard is judged on its own keys). */
  private readonly lastOkInvokedByKey = new Map<string, number>();
  private stopped = false;
  private loop?: Promise<void>;
  private publisher?: Promise<void>;
  /** Request id -> its history process, invoke time and what it wrote; removed when settled or closed as unsettled. */
  private open = new Map<number, { f: string; key: string; value: string; invokedAt: number }>();
  private next = 0;
  private readonly prefix: string;
  private readonly setKeys: number;
  private readonly wakers = new Set<() => void>();

  private constructor(
    readonly adapter: AdapterProcess,
    private readonly history: HistoryWriter,
    private readonly opts: ClientWorkloadOptions,
    readonly mode: AdapterMode,
  ) {
    this.via = `client:${opts.spec.name}`;
    this.prefix = opts.keyPrefix ?? 'client';
    this.setKeys = opts.setKeys ?? (mode === 'cluster' ? 32 : 1);
  }

  static async start(dep: Deployment, history: HistoryWriter, opts: ClientWorkloadOptions): Promise<ClientWorkload> {
    const mode = opts.mode ?? defaultMode(dep);
    const hello = helloFor(dep, { mode, connectMs: scaledMs(opts.connectMs ?? 1000), commandMs: scaledMs(opts.commandMs ?? 1000) });
    let self: ClientWorkload | undefined;
    const adapter = await AdapterProcess.start(opts.spec, hello, {
      ...(opts.timings ? { timings: opts.timings } : {}),
      onMessage: (m) => self?.delivered(m.channel, m.message),
      onLog: (l) => opts.log?.(`${opts.spec.name}: ${l}`),
    });
    self = new ClientWorkload(adapter, history, opts, mode);
    history.mark('client-ready', `${opts.spec.name}: ${adapter.ready!.client}, mode ${mode}`);
    if (opts.pubsub) await self.subscribe();
    self.loop = self.run();
    if (opts.pubsub) self.publisher = self.publish();
    return self;
  }

  get client(): string {
    return this.adapter.ready?.client ?? this.opts.spec.name;
  }

  channel(): string {
    return `${this.prefix}:chan`;
  }

  setKey(n: number): string {
    return `${this.prefix}:set:{${n % this.setKeys}}`;
  }

  private delivered(channel: string, message: string): void {
    this.stats.delivered++;
    this.history.op({ process: -1, f: DELIVER_F, via: this.via, phase: 'ok', key: channel, value: message });
  }

  private async subscribe(): Promise<void> {
    const r = await this.adapter.request({ op: 'subscribe', channel: this.channel() });
    if (r.type !== 'ok') throw new Error(`client ${this.opts.spec.name} could not subscribe to ${this.channel()}: ${r.error ?? r.type}`);
    this.history.mark('client-subscribed', this.channel());
  }

  /** Sleeps until `ms` passed or stop() was called. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private async run(): Promise<void> {
    const interval = 1000 / (this.opts.rate ?? 200);
    const maxInFlight = this.opts.maxInFlight ?? 64;
    let nextAt = performance.now();
    while (!this.stopped && !this.adapter.failure) {
      const wait = nextAt - performance.now();
      if (wait > 0) await this.sleep(wait);
      if (this.stopped || this.adapter.failure) break;
      nextAt = Math.max(nextAt + interval, performance.now() - interval);
      if (this.adapter.pendingRequests().length >= maxInFlight) continue;
      const n = this.next++;
      this.issue('add', 'sadd', this.setKey(n), `${this.prefix}-${n}`);
    }
  }

  private async publish(): Promise<void> {
    const every = this.opts.publishEveryMs ?? 100;
    let n = 0;
    while (!this.stopped && !this.adapter.failure) {
      await this.sleep(every);
      if (this.stopped || this.adapter.failure) break;
      if (this.adapter.pendingRequests().length >= (this.opts.maxInFlight ?? 64)) continue;
      this.stats.published++;
      this.issue('publish', 'publish', this.channel(), `m-${n++}`);
    }
  }

  private issue(f: string, op: 'sadd' | 'publish', key: string, value: string): void {
    const h = this.history;
    const invokedAt = h.now();
    this.stats.invoked++;
    const request = op === 'sadd' ? { op, key, value } : { op, channel: key, message: value };
    // The request id is the history's process: one op per id, never reused.
    const { id, reply: sent } = this.adapter.send(request);
    this.open.set(id, { f, key, value, invokedAt });
    h.op({ process: id, f, via: this.via, phase: 'invoke', key, value });
    sent.then(
      (r) => this.settled(id, r),
      () => undefined,
    );
  }

  private settled(id: number, r: Reply): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    const h = this.history;
    this.stats[r.type]++;
    const extra = { ...(r.addr !== undefined ? { addr: r.addr } : {}), ...(r.error !== undefined ? { error: r.error } : {}) };
    h.op({ process: id, f: o.f, via: this.via, phase: r.type, key: o.key, value: o.value, ...extra });
    if (r.type === 'ok' && o.f === 'add') {
      this.lastOkAt = h.now();
      if (o.invokedAt > this.lastOkInvokedAt) this.lastOkInvokedAt = o.invokedAt;
      if (o.invokedAt > (this.lastOkInvokedByKey.get(o.key) ?? -1)) this.lastOkInvokedByKey.set(o.key, o.invokedAt);
    }
  }

  /** Invoke time of the latest acknowledged write to a key the filter accepts (-1: none). */
  lastOkInvokedWhere(filter?: (key: string) => boolean): number {
    if (!filter) return this.lastOkInvokedAt;
    let best = -1;
    for (const [k, t] of this.lastOkInvokedByKey) if (filter(k) && t > best) best = t;
    return best;
  }

  /**
   * Stops issuing, waits up to `graceMs` for what is in flight, then records every request still pending as
   * 'info' with an "unsettled" error (the client never settled it). Throws the adapter's failure, if any.
   */
  async stop(graceMs = 5000): Promise<number> {
    this.stopped = true;
    for (const w of [...this.wakers]) w();
    await this.loop;
    await this.publisher;
    const deadline = performance.now() + scaledMs(graceMs);
    while (this.open.size > 0 && !this.adapter.failure && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.adapter.failure) throw this.adapter.failure;
    const now = this.history.now();
    const unsettled = this.open.size;
    for (const [id, o] of this.open) {
      this.stats.info++;
      this.history.op({ process: id, f: o.f, via: this.via, phase: 'info', key: o.key, value: o.value, error: `unsettled: no answer ${Math.round(now - o.invokedAt)} ms after it was sent`, unsettled: true });
    }
    this.open.clear();
    if (unsettled > 0) this.history.mark('client-unsettled', `${unsettled} command(s) via ${this.via} never settled`);
    return unsettled;
  }

  /**
   * Reads every set key back through the client (retrying until the deadline), recorded as one 'read-all' op.
   * A client that cannot read back is judged by the checkers (the final read never succeeded), not thrown.
   */
  async finalRead(timeoutMs = 20_000): Promise<string[] | undefined> {
    const deadline = performance.now() + scaledMs(timeoutMs);
    const keys = Math.min(this.setKeys, Math.max(1, this.next));
    let process = 1_000_000_000;
    let last = 'no attempt';
    while (performance.now() < deadline) {
      if (this.adapter.failure) throw this.adapter.failure;
      const p = process++;
      this.history.op({ process: p, f: 'read-all', via: this.via, phase: 'invoke' });
      const found: string[] = [];
      let error: string | undefined;
      for (let i = 0; i < keys && error === undefined; i++) {
        const r = await Promise.race([this.adapter.request({ op: 'smembers', key: this.setKey(i) }), new Promise<Reply>((res) => setTimeout(() => res({ id: -1, type: 'info', error: 'no answer within 5 s' }), scaledMs(5000)).unref())]);
        if (r.type === 'ok' && Array.isArray(r.value)) found.push(...r.value.map(String));
        else error = r.error ?? `${r.type} without a value`;
      }
      if (error === undefined) {
        this.history.op({ process: p, f: 'read-all', via: this.via, phase: 'ok', value: found });
        return found;
      }
      last = error;
      this.history.op({ process: p, f: 'read-all', via: this.via, phase: 'fail', error });
      await new Promise((r) => setTimeout(r, scaledMs(200)));
    }
    this.history.mark('final-read-failed', `${this.via}: ${last}`);
    return undefined;
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const w of [...this.wakers]) w();
    await this.adapter.close();
  }
}
