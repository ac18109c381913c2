/**
 * Workloads (Jepsen's client + generator): N logical processes issue unique operations concurrently over a
 * few shared connections (ioredis pipelines them), each recorded invoke then ok / fail / info. A process
 * whose op ended 'info' is retired and replaced by a fresh process number, as Jepsen does.
 */
import { setMaxListeners } from 'node:events';
import { Cluster } from 'ioredis';
import type { Deployment } from '../drivers/driver.js';
import type { HistoryWriter } from '../history/writer.js';
import { classifyError, connectWithin, createClient, watchRedirects, type ClientPath, type ClientTimeouts, type OpenedClient, type RedisLike } from '../clients/index.js';
import { delay, scaled } from '../support/time.js';

export type WorkloadKind = 'set' | 'keys' | 'counter';

export interface WorkloadOptions {
  kind: WorkloadKind;
  path: ClientPath;
  /** Concurrent logical processes. */
  processes?: number;
  /** Shared connections the processes are spread over. */
  connections?: number;
  /** Total invokes per second across processes; undefined = as fast as the path allows. */
  rate?: number;
  /** Prefix of every key the workload touches (one run may have several workloads). */
  keyPrefix?: string;
  /** Keys the set workload spreads elements over (one per shard for a cluster). */
  setKeys?: number;
  /** Pause after a definite failure so a down path is not hammered in a tight loop. */
  failBackoffMs?: number;
  timeouts?: ClientTimeouts;
  /** Prefix of every value, so several workloads on one key never write the same element (default w<N>-). */
  valueTag?: string;
  /** Cluster path: record each MOVED / ASK the client followed as a 'redirect' mark (detail: the reply). */
  recordRedirects?: boolean;
}

export interface WorkloadStats {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
}

export class Workload {
  readonly kind: WorkloadKind;
  readonly via: string;
  readonly stats: WorkloadStats = { invoked: 0, ok: 0, fail: 0, info: 0 };
  /** History time of the latest acknowledged write (-1 before the first). */
  lastOkAt = -1;
  /** Invoke time of the latest acknowledged write, so 'a write invoked after the fault succeeded' can be awaited. */
  lastOkInvokedAt = -1;
  private readonly opts: Required<Omit<WorkloadOptions, 'rate' | 'timeouts' | 'valueTag' | 'recordRedirects'>> & { rate?: number; timeouts?: ClientTimeouts };
  private readonly recordRedirects: boolean;
  private clients: OpenedClient[] = [];
  private running: Promise<void>[] = [];
  private stopCtl = new AbortController();
  private nextValue = 0;
  private nextProcess = 0;
  private readonly tag: string;
  private static created = 0;

  constructor(
    private readonly dep: Deployment,
    private readonly history: HistoryWriter,
    options: WorkloadOptions,
  ) {
    this.kind = options.kind;
    const processes = options.processes ?? 16;
    this.opts = {
      kind: options.kind,
      path: options.path,
      processes,
      connections: Math.max(1, Math.min(options.connections ?? 4, processes)),
      keyPrefix: options.keyPrefix ?? 'chaos',
      setKeys: options.setKeys ?? (options.path.kind === 'cluster' ? 16 : 1),
      failBackoffMs: options.failBackoffMs ?? 20,
      ...(options.rate !== undefined ? { rate: options.rate } : {}),
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
    };
    this.tag = options.valueTag ?? `w${Workload.created++}-`;
    this.recordRedirects = options.recordRedirects === true;
    this.via = this.openClientLabel();
  }

  private openClientLabel(): string {
    const c = createClient(this.dep, this.opts.path, this.opts.timeouts);
    this.clients.push(c);
    return c.via;
  }

  /** Key holding set element `n`. */
  setKey(n: number): string {
    return `${this.opts.keyPrefix}:set:{${n % this.opts.setKeys}}`;
  }

  /** Key of write `n` in the key-per-write workload. */
  keyFor(n: number): string {
    return `${this.opts.keyPrefix}:k:${this.tag}${n}`;
  }

  counterKey(): string {
    return `${this.opts.keyPrefix}:counter`;
  }

  /** Connects every connection (deadline), then starts the processes; returns at once. */
  async start(connectTimeoutMs = 10_000): Promise<void> {
    while (this.clients.length < this.opts.connections) this.clients.push(createClient(this.dep, this.opts.path, this.opts.timeouts));
    if (this.recordRedirects) for (const c of this.clients) watchRedirects(c.redis, (reply) => this.history.mark('redirect', reply));
    await Promise.all(this.clients.map((c) => connectWithin(c, connectTimeoutMs)));
    // Every process waits on the same stop signal.
    setMaxListeners(this.opts.processes + 10, this.stopCtl.signal);
    for (let i = 0; i < this.opts.processes; i++) this.running.push(this.slot(i));
  }

  /** One concurrency slot: runs processes one after another, a new one after each 'info'. */
  private async slot(slotIndex: number): Promise<void> {
    const client = this.clients[slotIndex % this.clients.length]!.redis;
    const signal = this.stopCtl.signal;
    const interval = this.opts.rate ? (1000 * this.opts.processes) / this.opts.rate : 0;
    let process = this.nextProcess++;
    let nextAt = performance.now() + (interval * slotIndex) / this.opts.processes;
    while (!signal.aborted) {
      if (interval > 0) {
        const wait = nextAt - performance.now();
        if (wait > 0) await delay(wait, signal);
        if (signal.aborted) break;
        nextAt = Math.max(nextAt + interval, performance.now() - interval);
      }
      const outcome = await this.invokeOne(client, process);
      if (outcome === 'info') process = this.nextProcess++;
      else if (outcome === 'fail') await delay(scaled(this.opts.failBackoffMs), signal);
    }
  }

  private async invokeOne(client: RedisLike, process: number): Promise<'ok' | 'fail' | 'info'> {
    const n = this.nextValue++;
    const h = this.history;
    const via = this.via;
    let f: string;
    let key: string;
    let value: string | undefined;
    let run: () => Promise<unknown>;
    switch (this.kind) {
      case 'set':
        f = 'add';
        key = this.setKey(n);
        value = `${this.tag}${n}`;
        run = () => client.sadd(key, value!);
        break;
      case 'keys':
        f = 'write';
        key = this.keyFor(n);
        value = `${this.tag}${n}`;
        run = () => client.set(key, value!);
        break;
      case 'counter':
        f = 'incr';
        key = this.counterKey();
        run = () => client.incr(key);
        break;
    }
    this.stats.invoked++;
    const invokedAt = h.now();
    h.op({ process, f, via, phase: 'invoke', key, ...(value !== undefined ? { value } : {}) });
    try {
      const reply = await run();
      this.stats.ok++;
      this.lastOkAt = h.now();
      if (invokedAt > this.lastOkInvokedAt) this.lastOkInvokedAt = invokedAt;
      h.op({ process, f, via, phase: 'ok', key, value: this.kind === 'counter' ? reply : value });
      return 'ok';
    } catch (err) {
      const c = classifyError(err);
      this.stats[c.type]++;
      h.op({ process, f, via, phase: c.type, key, ...(value !== undefined ? { value } : {}), error: c.message });
      return c.type;
    }
  }

  /** Stops issuing new ops and waits for the in-flight ones to complete. */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    await Promise.all(this.running);
    this.running = [];
  }

  /**
   * Reads back everything the workload wrote (retrying until the deadline, since the deployment may still be
   * converging), recorded as one 'read-all' op whose value lists the element ids found.
   */
  async finalRead(timeoutMs = 20_000): Promise<string[] | undefined> {
    const client = this.clients[0]!;
    const process = this.nextProcess++;
    const f = 'read-all';
    const deadline = performance.now() + scaled(timeoutMs);
    let lastError = 'no attempt';
    while (performance.now() < deadline) {
      this.history.op({ process, f, via: this.via, phase: 'invoke' });
      try {
        if (client.redis.status !== 'ready') await connectWithin(client, 2000);
        const found = await this.readAll(client.redis);
        this.history.op({ process, f, via: this.via, phase: 'ok', value: found });
        return found;
      } catch (err) {
        const c = classifyError(err);
        lastError = c.message;
        this.history.op({ process, f, via: this.via, phase: c.type, error: c.message });
        await delay(scaled(200));
      }
    }
    this.history.mark('final-read-failed', lastError);
    return undefined;
  }

  private async readAll(redis: RedisLike): Promise<string[]> {
    switch (this.kind) {
      case 'set': {
        const out: string[] = [];
        const keys = Math.min(this.opts.setKeys, Math.max(1, this.nextValue));
        for (let i = 0; i < keys; i++) out.push(...(await redis.smembers(this.setKey(i))));
        return out;
      }
      case 'keys': {
        const out: string[] = [];
        const batch = 500;
        for (let start = 0; start < this.nextValue; start += batch) {
          const end0 = Math.min(this.nextValue, start + batch);
          if (redis instanceof Cluster) {
            // A cluster pipeline must stay within one slot; plain concurrent GETs are routed per key.
            const keys: string[] = [];
            for (let i = start; i < end0; i++) keys.push(this.keyFor(i));
            const vals = await Promise.all(keys.map((k) => redis.get(k)));
            vals.forEach((v, j) => {
              if (v !== null) out.push(`${keys[j]}=${v}`);
            });
            continue;
          }
          const pipe = redis.pipeline();
          const end = Math.min(this.nextValue, start + batch);
          for (let i = start; i < end; i++) pipe.get(this.keyFor(i));
          const replies = (await pipe.exec()) ?? [];
          replies.forEach(([err, v], j) => {
            if (err) throw err;
            if (v !== null && v !== undefined) out.push(`${this.keyFor(start + j)}=${String(v)}`);
          });
        }
        return out;
      }
      case 'counter': {
        const v = await redis.get(this.counterKey());
        return [v ?? '0'];
      }
    }
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
