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

export class FrameClient {
  private buf = '';
  private waiting: ((f: Frame) => void)[] = [];
  private readonly sock: net.Socket;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (;;) {
        if (this.waiting.length === 0) return;
        const f = parseFrame(this.buf, 0);
        if (!f) return;
        this.buf = this.buf.slice(f.end);
        (this.waiting.shift() as (f: Frame) => void)(f.v);
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
    let s = `*${argv.length}\r\n`;
    for (const a of argv) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
    const p = new Promise<Frame>((resolve) => this.waiting.push(resolve));
    this.sock.write(s, 'latin1');
    return p;
  }

  close(): void {
    this.sock.destroy();
  }
}
