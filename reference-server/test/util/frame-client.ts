/** A RESP client that decodes replies (RESP2 and RESP3 aggregates) for tests that compare values, not bytes. */
import net from 'node:net';

export type Frame = string | number | null | Frame[] | { error: string };

export function parseFrame(buf: string, i: number): { v: Frame; end: number } | null {
  const nl = buf.indexOf('\r\n', i);
  if (nl < 0) return null;
  const t = buf[i];
  const line = buf.slice(i + 1, nl);
  switch (t) {
    case '+': return { v: line, end: nl + 2 };
    case '-': return { v: { error: line }, end: nl + 2 };
    case ':': return { v: Number(line), end: nl + 2 };
    case ',': return { v: line, end: nl + 2 };
    case '_': return { v: null, end: nl + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { v: null, end: nl + 2 };
      if (buf.length < nl + 4 + n) return null;
      return { v: buf.slice(nl + 2, nl + 2 + n), end: nl + 4 + n };
    }
    case '*': case '~': case '>': {
      const n = Number(line);
      if (n < 0) return { v: null, end: nl + 2 };
      const items: Frame[] = [];
      let p = nl + 2;
      for (let k = 0; k < n; k++) {
        const f = parseFrame(buf, p);
        if (!f) return null;
        items.push(f.v);
        p = f.end;
      }
      return { v: items, end: p };
    }
    default: throw new Error(`unexpected RESP type ${JSON.stringify(t)}`);
  }
}

/** End offset of the whole frame (any RESP2/RESP3 type) starting at i, or -1 when it is not all buffered yet. */
export function frameEnd(buf: string, i: number): number {
  const nl = buf.indexOf('\r\n', i);
  if (nl < 0) return -1;
  const t = buf[i];
  const n = Number(buf.slice(i + 1, nl));
  if (t === '$' || t === '=' || t === '!') {
    if (n < 0) return nl + 2;
    return buf.length >= nl + 4 + n ? nl + 4 + n : -1;
  }
  if (t === '*' || t === '~' || t === '>' || t === '%') {
    if (n < 0) return nl + 2;
    let p = nl + 2;
    for (let k = 0; k < (t === '%' ? 2 * n : n); k++) {
      p = frameEnd(buf, p);
      if (p < 0) return -1;
    }
    return p;
  }
  return nl + 2;
}

/** A reply waited for: decoded (send) or as its raw bytes (sendRaw, for byte-for-byte comparisons). */
type Waiter = { raw: true; resolve: (raw: string) => void } | { raw: false; resolve: (f: Frame) => void };

export class FrameClient {
  private buf = '';
  private waiting: Waiter[] = [];
  private readonly sock: net.Socket;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      while (this.waiting.length > 0) {
        const end = frameEnd(this.buf, 0);
        if (end < 0) return;
        const raw = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        const w = this.waiting.shift() as Waiter;
        if (w.raw) w.resolve(raw);
        else w.resolve((parseFrame(raw, 0) as { v: Frame }).v);
      }
    });
    sock.on('error', () => undefined);
  }

  static open(port: number): Promise<FrameClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new FrameClient(s)));
      s.once('error', reject);
    });
  }

  send(...argv: string[]): Promise<Frame> {
    const p = new Promise<Frame>((resolve) => this.waiting.push({ raw: false, resolve }));
    this.write(argv);
    return p;
  }

  /** The reply's bytes as the server wrote them. */
  sendRaw(argv: readonly string[]): Promise<string> {
    const p = new Promise<string>((resolve) => this.waiting.push({ raw: true, resolve }));
    this.write(argv);
    return p;
  }

  private write(argv: readonly string[]): void {
    let s = `*${argv.length}\r\n`;
    for (const a of argv) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
    this.sock.write(s, 'latin1');
  }

  close(): void {
    this.sock.destroy();
  }
}
