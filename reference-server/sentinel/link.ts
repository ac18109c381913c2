/**
 * An outgoing RESP2 connection as Sentinel uses hiredis: commands with a callback per reply, pub/sub messages to a
 * handler, and the link closed on anything it cannot parse or on an error reply nobody waits for (hiredis's rule,
 * which Sentinel's NOAUTH-on-SUBSCRIBE handling relies on).
 */
import net from 'node:net';
import { encodeCommand } from '../resp/writer.js';

export class RespError {
  constructor(readonly message: string) {}
}

export type RespValue = string | number | null | RespError | RespValue[];

const MAX_BULK = 512 * 1024 * 1024;

/** Incremental RESP2 reply parser; throws on a protocol error. */
export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): RespValue | undefined {
    const r = this.parseAt(0);
    if (r === undefined) return undefined;
    this.buf = this.buf.subarray(r.end);
    return r.value;
  }

  private line(pos: number): { text: string; end: number } | undefined {
    const i = this.buf.indexOf('\r\n', pos, 'latin1');
    if (i < 0) {
      if (this.buf.length - pos > 64 * 1024) throw new Error('Protocol error: line too long');
      return undefined;
    }
    return { text: this.buf.toString('latin1', pos + 1, i), end: i + 2 };
  }

  private parseAt(pos: number): { value: RespValue; end: number } | undefined {
    if (pos >= this.buf.length) return undefined;
    const type = String.fromCharCode(this.buf[pos]);
    const l = this.line(pos);
    if (l === undefined) return undefined;
    switch (type) {
      case '+':
        return { value: l.text, end: l.end };
      case '-':
        return { value: new RespError(l.text), end: l.end };
      case ':': {
        if (!/^-?\d+$/.test(l.text)) throw new Error('Protocol error: bad integer');
        return { value: Number(l.text), end: l.end };
      }
      case '$': {
        const n = Number(l.text);
        if (!/^-?\d+$/.test(l.text) || n > MAX_BULK) throw new Error('Protocol error: bad bulk length');
        if (n < 0) return { value: null, end: l.end };
        if (this.buf.length < l.end + n + 2) return undefined;
        return { value: this.buf.toString('latin1', l.end, l.end + n), end: l.end + n + 2 };
      }
      case '*': {
        const n = Number(l.text);
        if (!/^-?\d+$/.test(l.text) || n > 1024 * 1024) throw new Error('Protocol error: bad multibulk length');
        if (n < 0) return { value: null, end: l.end };
        const items: RespValue[] = [];
        let p = l.end;
        for (let i = 0; i < n; i++) {
          const r = this.parseAt(p);
          if (r === undefined) return undefined;
          items.push(r.value);
          p = r.end;
        }
        return { value: items, end: p };
      }
      default:
        throw new Error(`Protocol error: unexpected byte '${type}'`);
    }
  }
}

export type ReplyCallback = (reply: RespValue) => void;

/** One connection to a Redis or Sentinel instance. */
export class RedisLink {
  readonly socket: net.Socket;
  connected = false;
  closed = false;
  private readonly parser = new ReplyParser();
  /** Callbacks in send order; undefined for commands whose reply is ignored (AUTH, CLIENT SETNAME). */
  private readonly pending: (ReplyCallback | undefined)[] = [];
  /** Set for a pub/sub link: replies that are not to a pending command go here. */
  onPush: ((msg: RespValue[]) => void) | null = null;
  /** Every byte received counts as activity (the pub/sub link's idle check). */
  lastActivity = Date.now();
  onConnect: () => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** Subscription replies expected before messages (pub/sub link). */
  private subscribesPending = 0;

  constructor(host: string, port: number, connectTimeoutMs: number) {
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(connectTimeoutMs, () => this.close('connect timeout'));
    this.socket.on('connect', () => {
      this.socket.setTimeout(0);
      this.connected = true;
      this.lastActivity = Date.now();
      this.onConnect();
    });
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (e) => this.close(e.message));
    this.socket.on('close', () => this.close('connection closed'));
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  send(argv: readonly string[], cb?: ReplyCallback): void {
    if (this.closed) return;
    this.pending.push(cb);
    this.socket.write(encodeCommand(argv), 'latin1');
  }

  /** SUBSCRIBE: its confirmation goes to onPush like any message (hiredis treats it as a pub/sub reply). */
  subscribe(channel: string): void {
    if (this.closed) return;
    this.subscribesPending++;
    this.socket.write(encodeCommand(['SUBSCRIBE', channel]), 'latin1');
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.socket.destroy();
    this.pending.length = 0;
    this.onClose(reason);
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    try {
      this.parser.feed(chunk);
      for (;;) {
        const v = this.parser.next();
        if (v === undefined) break;
        this.dispatch(v);
        if (this.closed) return;
      }
    } catch (e) {
      this.close((e as Error).message);
    }
  }

  private dispatch(v: RespValue): void {
    if (this.onPush !== null && Array.isArray(v) && v.length >= 3 && typeof v[0] === 'string') {
      const kind = v[0].toLowerCase();
      if (kind === 'message' || kind === 'subscribe' || kind === 'pmessage') {
        if (kind === 'subscribe' && this.subscribesPending > 0) this.subscribesPending--;
        this.onPush(v);
        return;
      }
    }
    if (this.pending.length === 0) {
      // hiredis: an error reply nobody waits for (e.g. NOAUTH to SUBSCRIBE) closes the link.
      if (v instanceof RespError) this.close(`unexpected error reply: ${v.message}`);
      return;
    }
    const cb = this.pending.shift();
    if (cb) cb(v);
  }
}
