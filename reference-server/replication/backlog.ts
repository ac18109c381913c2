/** The replication backlog: a ring of the last repl-backlog-size bytes of the stream, addressed by global offset. */
export class Backlog {
  private buf: Buffer;
  /** Bytes held (repl_backlog_histlen). */
  histlen = 0;
  /** Write position in the ring. */
  private idx = 0;

  /** endOffset is master_repl_offset at creation: the next byte fed has offset endOffset + 1. */
  constructor(size: number, public endOffset: number) {
    this.buf = Buffer.alloc(Math.max(1, size));
  }

  get size(): number { return this.buf.length; }

  /** repl_backlog_first_byte_offset. */
  get firstByteOffset(): number { return this.endOffset - this.histlen + 1; }

  append(data: Buffer): void {
    this.endOffset += data.length;
    const size = this.buf.length;
    let src = data;
    if (src.length > size) src = src.subarray(src.length - size);
    const first = Math.min(src.length, size - this.idx);
    src.copy(this.buf, this.idx, 0, first);
    if (first < src.length) src.copy(this.buf, 0, first);
    this.idx = (this.idx + src.length) % size;
    this.histlen = Math.min(size, this.histlen + data.length);
  }

  /** True when every byte from offset (the first byte the replica lacks) up to now is held. */
  covers(offset: number): boolean {
    return this.histlen > 0 ? offset >= this.firstByteOffset && offset <= this.endOffset + 1 : offset === this.endOffset + 1;
  }

  /** Bytes from offset (inclusive) to the end. */
  from(offset: number): Buffer {
    const n = this.endOffset + 1 - offset;
    if (n <= 0) return Buffer.alloc(0);
    const size = this.buf.length;
    const start = (this.idx - n + size * 2) % size;
    if (start + n <= size) return Buffer.from(this.buf.subarray(start, start + n));
    return Buffer.concat([this.buf.subarray(start), this.buf.subarray(0, n - (size - start))]);
  }

  /** CONFIG SET repl-backlog-size: keeps the newest bytes that fit. */
  resize(size: number): void {
    if (size === this.buf.length) return;
    const keep = this.from(this.endOffset + 1 - Math.min(this.histlen, size));
    this.buf = Buffer.alloc(Math.max(1, size));
    this.idx = 0;
    const end = this.endOffset;
    this.histlen = 0;
    this.endOffset = end - keep.length;
    this.append(keep);
  }
}
