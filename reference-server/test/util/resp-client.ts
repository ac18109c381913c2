/** A raw RESP test client: sends bytes, reads whole reply frames as their exact bytes (latin1). */
import net from 'node:net';

export interface Frame {
  /** Exact bytes of the frame. */
  raw: string;
  /** Exact bytes of each element of an aggregate (a map's pairs are joined two by two), else []. */
  elements: string[];
}

/** Length of the complete frame starting at `pos`, or -1 if it is not wholly buffered. */
export function frameEnd(buf: string, pos: number): number {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return -1;
  const t = buf[pos];
  const line = buf.slice(pos + 1, nl);
  let p = nl + 2;
  switch (t) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return p;
    case '$': case '!': case '=': {
      const n = parseInt(line, 10);
      if (n < 0) return p;
      return buf.length >= p + n + 2 ? p + n + 2 : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = parseInt(line, 10);
      if (n < 0) return p;
      if (t === '%' || t === '|') n *= 2;
      for (let i = 0; i < n; i++) {
        p = frameEnd(buf, p);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      // Not RESP (e.g. an inline reply from a misbehaving server): take the line.
      return p;
  }
}

/** Splits an aggregate frame into its elements' raw bytes (map pairs kept together). */
export function splitFrame(raw: string): string[] {
  const t = raw[0];
  if (!'*~>%|'.includes(t)) return [];
  const nl = raw.indexOf('\r\n');
  const n = parseInt(raw.slice(1, nl), 10);
  if (n <= 0) return [];
  const out: string[] = [];
  let p = nl + 2;
  const pair = t === '%' || t === '|';
  for (let i = 0; i < n; i++) {
    const start = p;
    p = frameEnd(raw, p);
    if (pair) p = frameEnd(raw, p);
    out.push(raw.slice(start, p));
  }
  return out;
}

export class RespClient {
  private buf = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RespClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitChange(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  write(bytes: string): void {
    if (!this.closed) this.sock.write(bytes, 'latin1');
  }

  send(argv: string[]): void {
    let o = '*' + argv.length + '\r\n';
    for (const a of argv) o += '$' + a.length + '\r\n' + a + '\r\n';
    this.write(o);
  }

  /** Next frame, or null on timeout / close. */
  async read(timeoutMs = 3000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = frameEnd(this.buf, 0);
      if (end > 0) {
        const raw = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        return { raw, elements: splitFrame(raw) };
      }
      if (this.closed || Date.now() >= deadline) return null;
      await this.waitChange(deadline);
    }
  }

  async call(argv: string[], timeoutMs = 3000): Promise<string | null> {
    this.send(argv);
    const f = await this.read(timeoutMs);
    return f ? f.raw : null;
  }

  /** Resolves true once the server closed the connection (false at the deadline). */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await this.waitChange(deadline);
    return this.closed;
  }

  /** Stops reading from the socket (a slow consumer), so the server's output piles up. */
  pause(): void {
    this.sock.pause();
  }

  close(): void {
    this.sock.destroy();
  }
}
