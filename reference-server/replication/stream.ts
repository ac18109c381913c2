/**
 * The bytes of the master's stream not yet known to belong to a complete command. The commands themselves are
 * parsed by the master client's own RequestParser; this keeps their raw bytes so a replica proxies them verbatim
 * (its offsets must stay equal to its master's, PSYNC2) without re-encoding or copying them.
 */
export class PendingBytes {
  private parts: Buffer[] = [];
  /** Bytes held. */
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.length += chunk.length;
  }

  /** Removes and returns the first n bytes (views of the pushed chunks, no copy). */
  take(n: number): Buffer[] {
    if (n <= 0) return [];
    if (n > this.length) throw new Error(`PendingBytes: ${n} bytes asked, ${this.length} held`);
    const out: Buffer[] = [];
    let left = n;
    let i = 0;
    while (left > 0) {
      const p = this.parts[i]!;
      if (p.length <= left) {
        out.push(p);
        left -= p.length;
        i++;
      } else {
        out.push(p.subarray(0, left));
        this.parts[i] = p.subarray(left);
        left = 0;
      }
    }
    this.parts.splice(0, i);
    this.length -= n;
    return out;
  }

  clear(): void {
    this.parts = [];
    this.length = 0;
  }
}

const PIECE = 64 * 1024;

function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : String(n).length;
}

/**
 * The stream a master generates: commands encoded as RESP straight into a buffer (no intermediate strings), handed
 * out as pieces that are never written again, so the backlog and every replica socket can share them.
 */
export class StreamOut {
  private buf = Buffer.allocUnsafe(PIECE);
  private start = 0;
  private pos = 0;

  /** Bytes written and not yet taken. */
  get length(): number { return this.pos - this.start; }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const held = this.pos - this.start;
    // Room for what is held, this write and a piece more (a huge argument gets its own buffer, not twice its size).
    const next = Buffer.allocUnsafe(held + n + PIECE);
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = held;
  }

  private int(n: number): void {
    const b = this.buf;
    if (n < 10) b[this.pos++] = 48 + n;
    else if (n < 100) { b[this.pos++] = 48 + ((n / 10) | 0); b[this.pos++] = 48 + (n % 10); }
    else this.str(String(n));
  }

  private str(s: string): void {
    const n = s.length;
    const b = this.buf;
    // Short arguments (most keys and values) are cheaper copied by hand than through Buffer.write.
    if (n < 64) {
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
      this.pos = p;
    } else this.pos += b.write(s, this.pos, n, 'latin1');
  }

  /** Appends argv as a RESP multibulk; returns its length in bytes. */
  command(argv: readonly string[]): number {
    let size = 3 + digits(argv.length);
    for (let i = 0; i < argv.length; i++) size += 5 + digits(argv[i]!.length) + argv[i]!.length;
    this.ensure(size);
    const b = this.buf;
    b[this.pos++] = 42;
    this.int(argv.length);
    b[this.pos++] = 13; b[this.pos++] = 10;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      b[this.pos++] = 36;
      this.int(a.length);
      b[this.pos++] = 13; b[this.pos++] = 10;
      this.str(a);
      b[this.pos++] = 13; b[this.pos++] = 10;
    }
    return size;
  }

  /** Appends bytes given as a latin1 string. */
  raw(s: string): void {
    this.ensure(s.length);
    this.str(s);
  }

  /** Everything written since the last take (a view; those bytes are never overwritten). */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    return out;
  }
}
