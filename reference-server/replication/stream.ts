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
