/** Splits a replication stream into commands, keeping each command's raw bytes (proxied to sub-replicas verbatim). */
export interface StreamCommand { argv: string[]; start: number; end: number }

export class StreamReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  feed(chunk: Buffer): void {
    const rest = this.buf.length - this.pos;
    this.buf = rest === 0 ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  get buffered(): number { return this.buf.length - this.pos; }

  private line(from: number): number {
    const i = this.buf.indexOf(13, from);
    return i >= 0 && i + 1 < this.buf.length ? i : -1;
  }

  /** The next complete command, or null; throws on a protocol error. */
  next(): StreamCommand | null {
    const b = this.buf;
    let p = this.pos;
    // Newlines are keepalives Redis sends before the payload; they are not commands.
    while (p < b.length && (b[p] === 10 || b[p] === 13)) p++;
    if (p >= b.length) { this.pos = p; return null; }
    const start = p;
    if (b[p] !== 42) {
      const e = b.indexOf(10, p);
      if (e < 0) return null;
      const line = b.toString('latin1', p, e).replace(/\r$/, '');
      this.pos = e + 1;
      return { argv: line.split(' ').filter((s) => s !== ''), start, end: e + 1 };
    }
    let e = this.line(p);
    if (e < 0) return null;
    const n = parseInt(b.toString('latin1', p + 1, e), 10);
    if (!Number.isFinite(n)) throw new Error('Protocol error: invalid multibulk length');
    p = e + 2;
    const argv: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      if (p >= b.length) return null;
      if (b[p] !== 36) throw new Error(`Protocol error: expected '$', got '${String.fromCharCode(b[p]!)}'`);
      e = this.line(p);
      if (e < 0) return null;
      const len = parseInt(b.toString('latin1', p + 1, e), 10);
      p = e + 2;
      if (p + len + 2 > b.length) return null;
      argv[i] = b.toString('latin1', p, p + len);
      p += len + 2;
    }
    this.pos = p;
    return { argv, start, end: p };
  }
}
