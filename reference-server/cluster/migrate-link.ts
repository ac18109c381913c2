/**
 * MIGRATE's connection to its target (migrateGetSocket in cluster.c): one cached socket per host:port, closed after
 * 10 s unused, remembering the db it last SELECTed. A request writes a batch of commands and reads one reply line per
 * command, each step bounded by the timeout.
 */
import net from 'node:net';

const CACHE_TTL_MS = 10000;

export type TargetFailure = 'connect' | 'write' | 'read';

interface CachedSocket {
  socket: net.Socket;
  lastDbid: number;
  lastUse: number;
  buffer: string;
  closed: boolean;
  waiter: (() => void) | null;
}

export class MigrateSockets {
  private readonly cache = new Map<string, CachedSocket>();

  /** The db the cached connection to host:port last selected, or -1. */
  lastDbid(host: string, port: string): number {
    return this.cache.get(`${host}:${port}`)?.lastDbid ?? -1;
  }

  setLastDbid(host: string, port: string, dbid: number): void {
    const cs = this.cache.get(`${host}:${port}`);
    if (cs) cs.lastDbid = dbid;
  }

  close(host: string, port: string): void {
    const name = `${host}:${port}`;
    const cs = this.cache.get(name);
    if (!cs) return;
    cs.socket.destroy();
    this.cache.delete(name);
  }

  /** migrateCloseTimedoutSockets: drop connections unused for 10 s (called from cron). */
  closeIdle(now = Date.now()): void {
    for (const [name, cs] of this.cache) {
      if (now - cs.lastUse > CACHE_TTL_MS || cs.closed) {
        cs.socket.destroy();
        this.cache.delete(name);
      }
    }
  }

  closeAll(): void {
    for (const cs of this.cache.values()) cs.socket.destroy();
    this.cache.clear();
  }

  private async get(host: string, port: string, timeoutMs: number): Promise<CachedSocket | null> {
    const name = `${host}:${port}`;
    const cached = this.cache.get(name);
    if (cached && !cached.closed) {
      cached.lastUse = Date.now();
      return cached;
    }
    this.cache.delete(name);
    const socket = await new Promise<net.Socket | null>((resolve) => {
      const s = net.connect({ host, port: Number.parseInt(port, 10) || 0 });
      const timer = setTimeout(() => {
        s.destroy();
        resolve(null);
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
    if (!socket) return null;
    socket.setNoDelay(true);
    const cs: CachedSocket = { socket, lastDbid: -1, lastUse: Date.now(), buffer: '', closed: false, waiter: null };
    socket.on('data', (d: Buffer) => {
      cs.buffer += d.toString('latin1');
      cs.waiter?.();
    });
    const onGone = () => {
      cs.closed = true;
      cs.waiter?.();
    };
    socket.on('close', onGone);
    socket.on('error', onGone);
    this.cache.set(name, cs);
    return cs;
  }

  private readLine(cs: CachedSocket, timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const deadline = Date.now() + timeoutMs;
      const attempt = (): void => {
        const nl = cs.buffer.indexOf('\r\n');
        if (nl !== -1) {
          const line = cs.buffer.slice(0, nl);
          cs.buffer = cs.buffer.slice(nl + 2);
          cs.waiter = null;
          resolve(line);
          return;
        }
        const left = deadline - Date.now();
        if (cs.closed || left <= 0) {
          cs.waiter = null;
          resolve(null);
          return;
        }
        const timer = setTimeout(() => attempt(), left);
        cs.waiter = () => {
          clearTimeout(timer);
          attempt();
        };
      };
      attempt();
    });
  }

  /**
   * Sends the bytes and reads `replies` lines. Resolves the lines read (fewer than asked when the socket failed
   * while reading), or the step that failed before any reply.
   */
  async request(host: string, port: string, timeoutMs: number, bytes: Buffer, replies: number): Promise<{ lines: string[]; readError: boolean } | { failure: TargetFailure }> {
    const cs = await this.get(host, port, timeoutMs);
    if (!cs) return { failure: 'connect' };
    const written = await new Promise<boolean>((resolve) => {
      if (cs.closed) return resolve(false);
      const timer = setTimeout(() => resolve(false), timeoutMs);
      cs.socket.write(bytes, (err) => {
        clearTimeout(timer);
        resolve(!err);
      });
    });
    if (!written) return { failure: 'write' };
    const lines: string[] = [];
    for (let i = 0; i < replies; i++) {
      const line = await this.readLine(cs, timeoutMs);
      if (line === null) return { lines, readError: true };
      lines.push(line);
    }
    cs.lastUse = Date.now();
    return { lines, readError: false };
  }
}

/** A RESP multi-bulk command (what rioWriteBulkCount/rioWriteBulkString produce). */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${a.length}\r\n${a}\r\n`;
  return out;
}
