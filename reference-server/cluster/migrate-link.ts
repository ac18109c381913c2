/**
 * MIGRATE's connections to its targets (migrateGetSocket in cluster.c): one cached connection per host:port, at most
 * 64 (a random one is dropped for a new one), closed after 10 s unused, remembering the db it last SELECTed. The
 * calls block (blocking-socket.ts) as Redis's do.
 */
import { BlockingSockets, type BlockingReply } from './blocking-socket.js';

const CACHE_ITEMS = 64;
const CACHE_TTL_S = 10;

export interface CachedSocket {
  readonly id: number;
  readonly generation: number;
  lastDbid: number;
  /** Unix seconds. */
  lastUse: number;
}

const unixSeconds = (): number => Math.floor(Date.now() / 1000);

export class MigrateSockets {
  private readonly cache = new Map<string, CachedSocket>();
  private readonly io = new BlockingSockets();
  private timer: NodeJS.Timeout | null = null;

  /** migrate_cached_sockets of INFO stats. */
  get size(): number {
    return this.cache.size;
  }

  /** The cached connection to host:port, or a new one; null when connecting failed or timed out. */
  get(host: string, port: string, timeoutMs: number): CachedSocket | null {
    const name = `${host}:${port}`;
    const cached = this.cache.get(name);
    if (cached && cached.generation === this.io.generation) {
      cached.lastUse = unixSeconds();
      return cached;
    }
    if (cached) this.cache.delete(name);
    if (this.cache.size >= CACHE_ITEMS) {
      const names = [...this.cache.keys()];
      this.closeName(names[Math.floor(Math.random() * names.length)]!);
    }
    // atoi(): a port that is not a number connects to port 0 and fails.
    const id = this.io.connect(host, Number.parseInt(port, 10) || 0, timeoutMs);
    if (id === null) return null;
    const cs: CachedSocket = { id, generation: this.io.generation, lastDbid: -1, lastUse: unixSeconds() };
    this.cache.set(name, cs);
    this.startTimer();
    return cs;
  }

  /** Writes the data, then reads up to `count` reply lines, in one hand-off to the I/O thread. */
  exchange(cs: CachedSocket, data: Uint8Array, count: number, timeoutMs: number): BlockingReply & { lines: string[]; written: boolean } {
    return this.io.exchange(cs.id, data, count, timeoutMs);
  }

  /** migrateCloseSocket: the next MIGRATE to host:port connects (and SELECTs) again. */
  close(host: string, port: string): void {
    this.closeName(`${host}:${port}`);
  }

  /** migrateCloseTimedoutSockets: connections unused for more than 10 s. */
  closeIdle(now = unixSeconds()): void {
    for (const [name, cs] of this.cache) if (now - cs.lastUse > CACHE_TTL_S) this.closeName(name);
    if (this.cache.size === 0) this.stopTimer();
  }

  closeAll(): void {
    this.cache.clear();
    this.stopTimer();
    this.io.stop();
  }

  private closeName(name: string): void {
    const cs = this.cache.get(name);
    if (!cs) return;
    this.cache.delete(name);
    if (cs.generation === this.io.generation) this.io.close(cs.id);
  }

  // Redis checks once a second from serverCron; the timer runs only while something is cached.
  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.closeIdle(), 1000);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** A RESP multi-bulk command (what rioWriteBulkCount/rioWriteBulkString produce), bytes as latin1 chars. */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${a.length}\r\n${a}\r\n`;
  return out;
}
