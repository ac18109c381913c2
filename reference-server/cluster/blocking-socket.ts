/**
 * Blocking TCP calls for MIGRATE: connect, write and read reply lines, each bounded by a timeout, returning only when
 * done. Redis's MIGRATE blocks the whole server while it talks to the target (so no other client can touch the keys
 * in flight); the server thread does the same here by sleeping in Atomics.wait while a worker thread
 * (blocking-socket-worker.ts) does the socket I/O.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

export type BlockingRequest =
  | { op: 'connect'; id: number; host: string; port: number; timeoutMs: number }
  | { op: 'exchange'; id: number; data: Uint8Array; count: number; timeoutMs: number }
  | { op: 'close'; id: number };

export interface BlockingReply {
  ok: boolean;
  /** The step failed because its timeout passed (Redis's errno ETIMEDOUT), not because the link failed. */
  timedOut: boolean;
  /** The lines read, fewer than asked when it failed. */
  lines?: string[];
  /** The write went through (a failure after it is a read's). */
  written?: boolean;
}

/** Slack over a request's own timeouts before the worker is taken as hung. */
const WORKER_SLACK_MS = 5000;

export class BlockingSockets {
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  /** Bumped when the worker is replaced: connection ids of an older one are gone. */
  generation = 0;

  /** Opens a connection; its id, or null when it failed or timed out. */
  connect(host: string, port: number, timeoutMs: number): number | null {
    const id = this.nextId++;
    const r = this.call({ op: 'connect', id, host, port, timeoutMs }, timeoutMs);
    return r.ok ? id : null;
  }

  /**
   * A write and then up to `count` reply lines in one request: one hand-off to the worker and back instead of two
   * (each wakes both threads), as Redis's syncWrite then syncReadLine per reply, each step within timeoutMs.
   */
  exchange(id: number, data: Uint8Array, count: number, timeoutMs: number): BlockingReply & { lines: string[]; written: boolean } {
    const r = this.call({ op: 'exchange', id, data, count, timeoutMs }, timeoutMs * (1 + Math.max(1, count)));
    return { ...r, lines: r.lines ?? [], written: r.written ?? false };
  }

  close(id: number): void {
    if (this.worker) this.call({ op: 'close', id }, 0);
  }

  /** Stops the worker and with it every connection. */
  stop(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = null;
    this.port = null;
    this.generation++;
  }

  private call(req: BlockingRequest, timeoutMs: number): BlockingReply {
    const worker = this.ensureWorker();
    Atomics.store(this.flag, 0, 0);
    worker.postMessage(req);
    const woke = Atomics.wait(this.flag, 0, 0, timeoutMs + WORKER_SLACK_MS);
    const msg = receiveMessageOnPort(this.port!);
    if (woke === 'timed-out' || !msg) {
      this.stop();
      return { ok: false, timedOut: true };
    }
    return msg.message as BlockingReply;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./blocking-socket-worker.js', import.meta.url), {
      workerData: { port: port2, flag: this.flag },
      transferList: [port2],
    });
    // Neither keeps the process alive: idle cached connections must not delay an exit.
    worker.unref();
    port1.unref();
    worker.on('error', () => this.stop());
    this.worker = worker;
    this.port = port1;
    return worker;
  }
}
