/**
 * One client connection: owns the socket, the request parser and the reply buffer. Replies are
 * accumulated while a whole socket read is processed and written with one socket.write after the poll phase.
 */
import { Socket } from 'node:net';
import type { BlockRequest, ClientState, ClientTracking, CommandSpec } from '../commands/command.js';
import { RequestParser } from '../resp/parser.js';
import { ReplyBuffer } from '../resp/writer.js';


export interface BlockedState {
  req: BlockRequest;
  spec: CommandSpec;
  argv: string[];
  dbIndex: number;
  /** Absolute deadline in ms, 0 = forever. */
  deadline: number;
}

/** Clients hand themselves to the server through this; server.ts implements it. */
export interface ClientHost {
  processClient(c: Client): void;
  clientClosed(c: Client): void;
  /** Byte counters for INFO stats (total_net_input_bytes / total_net_output_bytes). */
  readonly net: { in: number; out: number };
  /** Hard output limit in bytes for this client's class (client-output-buffer-limit), 0 = none. */
  outputLimit(c: Client): number;
}

/**
 * Clients that read in this turn of the event loop and have replies to write. Like Redis's beforeSleep, replies
 * are written once every ready socket has been read: the peers get their data in one burst instead of one wake-up
 * per reply (less kernel time per write with many pipelining clients).
 */
let flushScheduled = false;
let toFlush: Client[] = [];
function flushAll(): void {
  flushScheduled = false;
  const list = toFlush;
  toFlush = [];
  for (let i = 0; i < list.length; i++) list[i].flush();
}

/**
 * The one buffer every accepted client's reads land in. A read is parsed, and what it leaves unparsed copied out,
 * before the callback returns, so the next read (of any client) can reuse it: no 64 KiB allocation per read.
 */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/** Socket internals that adoptAccepted moves from the socket net.Server made to the one that replaces it. */
interface AcceptedSocketInternals {
  _handle: unknown;
  _server: unknown;
  server: unknown;
}

/**
 * Rebuilds a socket accepted with pauseOnConnect so that its reads go to `onRead` through the shared buffer
 * (net's onread option, which only a socket built by the caller can have) instead of a 'data' event per read.
 */
export function adoptAccepted(accepted: Socket, onRead: (n: number, buf: Buffer) => void): Socket {
  const old = accepted as unknown as AcceptedSocketInternals;
  const handle = old._handle;
  const server = old._server;
  // The server counts this connection until the new socket closes; the old one lets go of the handle and is dropped.
  old._handle = null;
  old._server = null;
  old.server = null;
  accepted.destroy();
  const sock = new Socket({ handle, readable: true, writable: true, onread: { buffer: sharedReadBuffer, callback: onRead } } as unknown as ConstructorParameters<typeof Socket>[0]);
  const fresh = sock as unknown as AcceptedSocketInternals;
  fresh._server = server;
  fresh.server = server;
  return sock;
}

export class Client implements ClientState {
  name = '';
  dbIndex = 0;
  authenticated: boolean;
  user = 'default';
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = 'NULL';
  kind: 'normal' | 'replica' | 'master' | 'pubsub' = 'normal';
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  readonly shardChannels = new Set<string>();
  inMulti = false;
  noEvict = false;
  readonly reply = new ReplyBuffer();
  readonly parser: RequestParser;
  /** Queued MULTI commands; multiError set when one was rejected (EXEC then fails with EXECABORT). */
  multiQueue: { spec: CommandSpec; argv: string[] }[] = [];
  multiError = false;
  /** WATCHed keys as "db\0key"; dirtyCas once any of them changed. */
  readonly watched = new Set<string>();
  dirtyCas = false;
  blocked: BlockedState | null = null;
  /** Set while a command waits for CLIENT PAUSE to end. */
  paused: string[] | null = null;
  monitor = false;
  closing = false;
  closed = false;
  /** CLIENT REPLY OFF / SKIP. */
  replyMode: 'on' | 'off' | 'skip' = 'on';
  /** Output written while the client is corked (processing a read or inside a served block). */
  private corked = false;
  /** While a read is processed, the bytes it left in the query buffer (CLIENT LIST's qbuf counts them until the batch ends). */
  readLen = 0;
  /** Set by replication when it takes the socket over (PSYNC); the client stops reading then. */
  detached = false;
  /** CLIENT TRACKING mode, null when off. */
  tracking: ClientTracking | null = null;
  /** Values modes keep per client (server.clientSlot). */
  readonly modeSlots: unknown[] = [];

  constructor(
    readonly id: number,
    readonly socket: Socket | null,
    readonly addr: string,
    readonly laddr: string,
    private readonly host: ClientHost,
    maxBulkLen: number,
    requirePass: boolean,
    sharedReads = false,
  ) {
    this.authenticated = !requirePass;
    this.parser = new RequestParser({ maxBulkLen, authRequired: requirePass });
    if (socket) {
      socket.setNoDelay(true);
      // An adopted socket's reads arrive through onSharedRead instead.
      if (!sharedReads) socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', () => this.destroy());
      socket.on('close', () => this.destroy());
    }
  }

  get resp(): 2 | 3 {
    return this.reply.resp;
  }
  set resp(v: 2 | 3) {
    this.reply.resp = v;
  }

  /** Bytes of the query buffer: while a read is processed, what it left (CLIENT LIST's qbuf counts them until the batch ends). */
  get queryBufferLength(): number {
    return this.readLen > 0 ? this.readLen : this.parser.buffered;
  }

  /** Number of subscriptions, as (P)SUBSCRIBE replies count them. */
  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size;
  }

  /** A read into the shared buffer: processed like any read, then whatever the parser keeps is copied out of it. */
  onSharedRead(n: number, buf: Buffer): void {
    this.onData(buf.subarray(0, n));
    this.parser.release();
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.detached) return;
    this.lastInteraction = Date.now();
    this.host.net.in += chunk.length;
    this.parser.feed(chunk);
    this.corked = true;
    this.readLen = this.parser.buffered;
    this.host.processClient(this);
    this.readLen = 0;
    this.corked = false;
    // A big pending reply (a bulk load through --pipe) is written now: a burst is worth a write, and the buffer stays small.
    if (this.reply.len >= 16384) {
      this.flush();
      return;
    }
    this.scheduleFlush();
  }

  /** Output produced outside this client's own read (invalidations, broadcasts): written with this turn's flushes. */
  scheduleFlush(): void {
    if (this.corked || this.closed) return;
    toFlush.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  /** Writes everything pending: after the poll phase for clients that read (at once for a big reply), and after a blocked/paused client is served. */
  flush(): void {
    if (this.corked) return;
    const reply = this.reply;
    if (reply.len > 0) {
      const n = reply.len;
      const data = reply.take();
      if (this.socket && !this.closed && !this.detached) {
        this.host.net.out += n;
        this.socket.write(data);
        // Anything still queued may be this buffer: the reply buffer is reused only once the kernel has it all.
        reply.released(this.socket.writableLength > 0);
        const limit = this.host.outputLimit(this);
        // A consumer that cannot keep up is dropped, as Redis does past the hard limit.
        if (limit > 0 && this.socket.writableLength > limit) this.destroy();
      }
    }
    if (this.closing && !this.closed) this.destroy(true);
  }

  close(afterReply = true): void {
    this.closing = true;
    if (!afterReply) this.reply.out = '';
    this.flush();
  }

  /** Ends the connection; graceful = let written data drain first. */
  destroy(graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    if (this.socket && !this.detached) {
      if (graceful) {
        // Like Redis's close() after the last reply: once it is written the socket is gone, so a peer still sending gets a reset.
        const sock = this.socket;
        sock.end(() => sock.destroy());
      }
      else this.socket.destroy();
    }
    this.host.clientClosed(this);
  }

  /** Hands the socket to someone else (replication after PSYNC); the client is forgotten by the server. */
  detach(): Socket | null {
    this.flush();
    this.detached = true;
    this.socket?.removeAllListeners('data');
    this.socket?.removeAllListeners('error');
    this.socket?.removeAllListeners('close');
    this.host.clientClosed(this);
    this.closed = true;
    return this.socket;
  }
}
