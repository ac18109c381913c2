/**
 * One proxied TCP connection: two links (upstream = client -> server, downstream = server -> client), each a chain
 * of stages, one per toxic, fed in read order. A stage handles one item at a time like Toxiproxy's ToxicStub, so
 * timing, ordering, interruption (add/update/remove) and close semantics match the Go server.
 */
import type { Socket } from 'node:net';
import { attr, type Direction, type ToxicConfig } from './toxics.js';

export interface Chunk {
  data: Buffer;
  /** performance.now() when the proxy read it (moved forward by latency like Toxiproxy's timestamp). */
  ts: number;
}
/** null is end of stream (Toxiproxy's nil chunk). */
export type Item = Chunk | null;

export interface LinkEnv {
  random: () => number;
}

interface Receiver {
  push(item: Item): void;
}

interface Pending {
  cancel(): void;
  /** What the toxic does when interrupted mid-wait (flush the held data, or hand the item back). */
  onInterrupt(): void;
  /** reset_peer's wait cannot be interrupted in Toxiproxy either. */
  uninterruptible: boolean;
}

// Reading pauses above this many bytes inside a link, standing in for Go's blocking channels.
const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 18;
const READ_SIZE = 32 * 1024;

const NOOP: ToxicConfig = { name: '', type: 'noop', stream: '', direction: 'upstream', toxicity: 1, attributes: {} };

/** Calls fn after ms, never early: Node timers may fire up to a millisecond before performance.now() says. */
function wait(ms: number, fn: () => void): () => void {
  if (ms <= 0) {
    const im = setImmediate(fn);
    return () => clearImmediate(im);
  }
  const target = performance.now() + ms;
  let t: NodeJS.Timeout;
  const check = (): void => {
    const left = target - performance.now();
    if (left > 0) t = setTimeout(check, left);
    else fn();
  };
  t = setTimeout(check, ms);
  return () => clearTimeout(t);
}

class Stage implements Receiver {
  queue: Item[] = [];
  pending: Pending | null = null;
  running = false;
  closed = false;
  active = true;
  private pumping = false;
  private idleCancel: (() => void) | null = null;
  /** limit_data's per-connection state; survives updates like Toxiproxy's stub state. */
  limitSent = 0;
  private bwSleep = 0;

  constructor(
    readonly link: Link,
    readonly toxic: ToxicConfig,
    public next: Receiver,
  ) {}

  push(item: Item): void {
    if (this.closed) {
      this.link.dropped(item);
      return;
    }
    this.queue.push(item);
    this.pump();
  }

  run(): void {
    if (this.closed) return;
    this.running = true;
    this.bwSleep = 0;
    // Toxicity is rolled each time the toxic starts on this connection, never per chunk.
    this.active = this.toxic === NOOP ? true : this.link.env.random() < this.toxic.toxicity;
    if (this.active && this.toxic.type === 'timeout') this.armIdle();
    this.pump();
  }

  /** Stops the toxic so the chain can be changed; false when the stage is closed (or cannot be stopped). */
  interrupt(): boolean {
    if (this.closed) return false;
    if (this.pending?.uninterruptible) return false;
    this.running = false;
    this.clearIdle();
    const p = this.pending;
    this.pending = null;
    if (p) {
      p.cancel();
      p.onInterrupt();
    }
    return true;
  }

  /** Detaches the stage for good without emitting anything (connection torn down). */
  abort(): void {
    this.running = false;
    this.closed = true;
    this.clearIdle();
    this.pending?.cancel();
    this.pending = null;
    this.queue = [];
  }

  /** Toxiproxy's stub.Close(): end of stream to the next stage, everything still queued here is lost. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    this.clearIdle();
    for (const it of this.queue) this.link.dropped(it);
    this.queue = [];
    this.next.push(null);
  }

  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.running && !this.closed && !this.pending && this.queue.length > 0) {
        this.handle(this.queue.shift() as Item);
      }
    } finally {
      this.pumping = false;
    }
  }

  private emit(c: Chunk): void {
    this.next.push(c);
  }

  private hold(ms: number, then: () => void, onInterrupt: () => void, uninterruptible = false): void {
    const p: Pending = {
      cancel: wait(ms, () => {
        if (this.pending !== p) return;
        this.pending = null;
        then();
        this.pump();
      }),
      onInterrupt,
      uninterruptible,
    };
    this.pending = p;
  }

  private clearIdle(): void {
    this.idleCancel?.();
    this.idleCancel = null;
  }

  private armIdle(): void {
    this.clearIdle();
    const ms = attr(this.toxic, 'timeout');
    if (ms > 0) this.idleCancel = wait(ms, () => this.close());
  }

  private handle(item: Item): void {
    if (!this.active || this.toxic.type === 'noop') {
      if (item === null) this.close();
      else this.emit(item);
      return;
    }
    switch (this.toxic.type) {
      case 'latency':
        return this.latency(item);
      case 'bandwidth':
        return this.bandwidth(item);
      case 'slow_close':
        if (item !== null) return this.emit(item);
        return this.hold(
          attr(this.toxic, 'delay'),
          () => this.close(),
          () => this.queue.unshift(null),
        );
      case 'timeout':
        if (item === null) return this.close();
        this.link.dropped(item);
        this.armIdle();
        return;
      case 'reset_peer':
        this.link.dropped(item);
        return this.hold(
          attr(this.toxic, 'timeout'),
          () => {
            this.link.conn.lingerZero = true;
            this.close();
          },
          () => undefined,
          true,
        );
      case 'slicer':
        return this.slicer(item);
      case 'limit_data':
        return this.limitData(item);
    }
  }

  private latency(c: Item): void {
    if (c === null) return this.close();
    let delay = attr(this.toxic, 'latency');
    const jitter = attr(this.toxic, 'jitter');
    if (jitter > 0) delay += Math.floor(this.link.env.random() * jitter * 2) - jitter;
    const sleep = delay - (performance.now() - c.ts);
    if (sleep <= 0) {
      c.ts += sleep;
      this.emit(c);
      return;
    }
    this.hold(
      sleep,
      () => {
        c.ts += sleep;
        this.emit(c);
      },
      // Removing or changing the toxic releases the held chunk at once; data is never dropped.
      () => this.emit(c),
    );
  }

  private bandwidth(p: Item): void {
    if (p === null) return this.close();
    const rate = attr(this.toxic, 'rate');
    if (rate <= 0) this.bwSleep = 0;
    else this.bwSleep += p.data.length / rate;
    const slice = rate * 100;
    let data = p.data;
    const flushRest = (): void => {
      if (data.length > 0) this.emit({ data, ts: p.ts });
    };
    const step = (): void => {
      // Over 100 ms worth of data goes out in 100 ms slices; rate 0 never gets past this loop.
      if (data.length > slice) {
        this.hold(
          100,
          () => {
            if (slice > 0) {
              this.emit({ data: data.subarray(0, slice), ts: p.ts });
              data = data.subarray(slice);
            }
            this.bwSleep -= 100;
            step();
          },
          flushRest,
        );
        return;
      }
      const start = performance.now();
      if (this.bwSleep <= 0) {
        this.emit({ data, ts: p.ts });
        return;
      }
      this.hold(
        this.bwSleep,
        () => {
          // Timers overshoot a little; carrying the error keeps the average rate right.
          this.bwSleep -= performance.now() - start;
          this.emit({ data, ts: p.ts });
        },
        flushRest,
      );
    };
    step();
  }

  private sliceOffsets(start: number, end: number, out: number[]): void {
    const avg = attr(this.toxic, 'average_size');
    const variation = attr(this.toxic, 'size_variation');
    if (end - start - avg <= variation || end - start <= 1) {
      out.push(start, end);
      return;
    }
    let mid = start + Math.floor((end - start) / 2);
    if (variation > 0) mid += Math.floor(this.link.env.random() * variation * 2) - variation;
    // Go would panic or recurse forever on these; keep both halves non-empty instead.
    mid = Math.min(Math.max(mid, start + 1), end - 1);
    this.sliceOffsets(start, mid, out);
    this.sliceOffsets(mid, end, out);
  }

  private slicer(c: Item): void {
    if (c === null) return this.close();
    const offs: number[] = [];
    this.sliceOffsets(0, c.data.length, offs);
    const delayMs = attr(this.toxic, 'delay') / 1000;
    let i = 1;
    const step = (): void => {
      if (i >= offs.length) return;
      this.emit({ data: c.data.subarray(offs[i - 1], offs[i]), ts: c.ts });
      const rest = offs[i] as number;
      i += 2;
      this.hold(delayMs, step, () => {
        if (rest < c.data.length) this.emit({ data: c.data.subarray(rest), ts: c.ts });
      });
    };
    step();
  }

  private limitData(c: Item): void {
    if (c === null) return this.close();
    const limit = attr(this.toxic, 'bytes');
    const remaining = Math.max(0, limit - this.limitSent);
    let out = c;
    if (remaining < c.data.length) {
      out = { data: c.data.subarray(0, remaining), ts: c.ts };
      this.link.dropped({ data: c.data.subarray(remaining), ts: c.ts });
    }
    if (out.data.length > 0) {
      this.emit(out);
      this.limitSent += out.data.length;
    }
    if (limit - this.limitSent <= 0) this.close();
  }
}

class Sink implements Receiver {
  constructor(private readonly link: Link) {}
  push(item: Item): void {
    if (item === null) this.link.finish();
    else this.link.deliver(item.data);
  }
}

export class Link {
  readonly stages: Stage[];
  private readonly sink: Sink;
  private inFlight = 0;
  private paused = false;
  private ended = false;
  private finished = false;

  constructor(
    readonly conn: Connection,
    readonly direction: Direction,
    readonly source: Socket,
    readonly dest: Socket,
    chain: readonly ToxicConfig[],
    readonly env: LinkEnv,
  ) {
    this.sink = new Sink(this);
    this.stages = [];
    const all = [NOOP, ...chain];
    for (let i = all.length - 1; i >= 0; i--) {
      const next: Receiver = this.stages[0] ?? this.sink;
      this.stages.unshift(new Stage(this, all[i] as ToxicConfig, next));
    }
    source.on('data', (data: Buffer) => {
      if (this.ended) return;
      this.inFlight += data.length;
      this.checkPause();
      const ts = performance.now();
      // Go reads through a 32 KiB buffer; chunk boundaries matter to slicer and latency.
      for (let i = 0; i < data.length; i += READ_SIZE) this.input({ data: data.subarray(i, i + READ_SIZE), ts });
    });
    source.on('end', () => this.sourceEnded());
    source.on('close', () => this.sourceEnded());
    dest.on('drain', () => this.maybeResume());
  }

  start(): void {
    for (const s of this.stages) s.run();
    this.source.resume();
  }

  private input(item: Item): void {
    (this.stages[0] as Stage).push(item);
  }

  /** The source hit EOF, an error, or was closed by the other link: end of stream enters the chain. */
  sourceEnded(): void {
    if (this.ended) return;
    this.ended = true;
    this.source.pause();
    this.input(null);
  }

  dropped(item: Item): void {
    if (item === null) return;
    this.inFlight -= item.data.length;
    this.maybeResume();
  }

  deliver(data: Buffer): void {
    this.inFlight -= data.length;
    if (data.length > 0 && !this.dest.destroyed && !this.dest.writableEnded) this.dest.write(data);
    this.maybeResume();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.conn.closeSocket(this.dest);
  }

  private checkPause(): void {
    if (!this.paused && this.inFlight + this.dest.writableLength > HIGH_WATER) {
      this.paused = true;
      this.source.pause();
    }
  }

  private maybeResume(): void {
    if (this.paused && !this.ended && this.inFlight + this.dest.writableLength <= LOW_WATER) {
      this.paused = false;
      this.source.resume();
    }
  }

  private indexOf(t: ToxicConfig): number {
    return this.stages.findIndex((s) => s.toxic === t);
  }

  addToxic(t: ToxicConfig): void {
    const last = this.stages[this.stages.length - 1] as Stage;
    const stage = new Stage(this, t, this.sink);
    // A closed chain stays closed; the new toxic never sees data (as in Toxiproxy).
    if (!last.interrupt()) return;
    last.next = stage;
    this.stages.push(stage);
    stage.run();
    last.run();
  }

  updateToxic(t: ToxicConfig): void {
    const i = this.indexOf(t);
    if (i < 1) return;
    const stage = this.stages[i] as Stage;
    if (stage.interrupt()) stage.run();
  }

  removeToxic(t: ToxicConfig): void {
    const i = this.indexOf(t);
    if (i < 1) return;
    const stage = this.stages[i] as Stage;
    if (!stage.interrupt()) return;
    if (t.type === 'timeout') {
      // Toxiproxy's timeout cleanup closes the connection rather than letting held-back traffic resume.
      stage.close();
      return;
    }
    const prev = this.stages[i - 1] as Stage;
    const prevRunning = prev.interrupt();
    while (stage.queue.length > 0) {
      const it = stage.queue.shift() as Item;
      if (it === null) {
        stage.close();
        return;
      }
      stage.next.push(it);
    }
    prev.next = stage.next;
    this.stages.splice(i, 1);
    stage.abort();
    if (prevRunning) prev.run();
  }

  abort(): void {
    for (const s of this.stages) s.abort();
  }
}

/** A client connection and its upstream connection, with the two links between them. */
export class Connection {
  readonly up: Link;
  readonly down: Link;
  /** Set by reset_peer (or present at connect): sockets close with RST instead of FIN. */
  lingerZero = false;
  private readonly closing = new Set<Socket>();
  private gone = false;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    upChain: readonly ToxicConfig[],
    downChain: readonly ToxicConfig[],
    env: LinkEnv,
    private readonly onGone: (c: Connection) => void,
  ) {
    this.lingerZero = [...upChain, ...downChain].some((t) => t.type === 'reset_peer');
    this.up = new Link(this, 'upstream', client, upstream, upChain, env);
    this.down = new Link(this, 'downstream', upstream, client, downChain, env);
    for (const s of [client, upstream]) {
      // Go's TCP connections default to TCP_NODELAY; Nagle here would add ~40 ms stalls to request/reply traffic.
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.on('close', () => this.checkGone());
    }
  }

  start(): void {
    this.up.start();
    this.down.start();
  }

  link(direction: Direction): Link {
    return direction === 'upstream' ? this.up : this.down;
  }

  /** Go's conn.Close(): both directions of that socket end; the link reading from it sees end of stream. */
  closeSocket(s: Socket): void {
    if (this.closing.has(s)) return;
    this.closing.add(s);
    (s === this.client ? this.up : this.down).sourceEnded();
    if (s.destroyed) return;
    if (this.lingerZero) {
      s.resetAndDestroy();
      return;
    }
    s.end(() => s.destroy());
  }

  /** Proxy disabled or removed: drop everything at once. */
  destroy(): void {
    this.up.abort();
    this.down.abort();
    this.client.destroy();
    this.upstream.destroy();
    this.checkGone();
  }

  private checkGone(): void {
    if (this.gone || !this.client.destroyed || !this.upstream.destroyed) return;
    this.gone = true;
    this.up.abort();
    this.down.abort();
    this.onGone(this);
  }
}
