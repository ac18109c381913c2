/**
 * RList as a growable ring buffer: O(1) push/pop at both ends and O(1) index access,
 * which is what LPUSH/RPOP/LINDEX/LRANGE need; middle edits (LINSERT, LREM) are O(n) as in Redis.
 */
import type { RList } from './types.js';

const MIN_CAPACITY = 8;

export class RingList implements RList {
  readonly kind = 'list' as const;
  private buf: (string | undefined)[];
  private head = 0;
  private len = 0;

  constructor(items?: Iterable<string>) {
    this.buf = new Array<string | undefined>(MIN_CAPACITY);
    if (items) for (const v of items) this.pushTail(v);
  }

  get length(): number {
    return this.len;
  }

  private slot(i: number): number {
    return (this.head + i) & (this.buf.length - 1);
  }

  private grow(): void {
    const old = this.buf;
    const next = new Array<string | undefined>(old.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.buf = next;
    this.head = 0;
  }

  private maybeShrink(): void {
    // Shrink when mostly empty so a drained big list does not pin its memory.
    if (this.buf.length > MIN_CAPACITY * 4 && this.len < this.buf.length / 4) {
      const old = this.buf;
      const next = new Array<string | undefined>(old.length / 2);
      for (let i = 0; i < this.len; i++) next[i] = old[(this.head + i) & (old.length - 1)];
      this.buf = next;
      this.head = 0;
    }
  }

  pushHead(v: string): void {
    if (this.len === this.buf.length) this.grow();
    this.head = (this.head - 1) & (this.buf.length - 1);
    this.buf[this.head] = v;
    this.len++;
  }

  pushTail(v: string): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[this.slot(this.len)] = v;
    this.len++;
  }

  popHead(): string | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.len--;
    this.maybeShrink();
    return v;
  }

  popTail(): string | undefined {
    if (this.len === 0) return undefined;
    const s = this.slot(this.len - 1);
    const v = this.buf[s];
    this.buf[s] = undefined;
    this.len--;
    this.maybeShrink();
    return v;
  }

  at(index: number): string | undefined {
    if (index < 0) index += this.len;
    if (index < 0 || index >= this.len) return undefined;
    return this.buf[this.slot(index)];
  }

  set(index: number, v: string): boolean {
    if (index < 0) index += this.len;
    if (index < 0 || index >= this.len) return false;
    this.buf[this.slot(index)] = v;
    return true;
  }

  range(start: number, stop: number): string[] {
    const out: string[] = [];
    if (start < 0) start = 0;
    if (stop >= this.len) stop = this.len - 1;
    for (let i = start; i <= stop; i++) out.push(this.buf[this.slot(i)] as string);
    return out;
  }

  /** Inserts v so that it ends up at position index (0..length). */
  insertAt(index: number, v: string): void {
    if (index <= 0) return this.pushHead(v);
    if (index >= this.len) return this.pushTail(v);
    const items = this.toArray();
    items.splice(index, 0, v);
    this.replaceAll(items);
  }

  /** Keeps only [start, stop] (normalised, inclusive); an empty range empties the list. */
  trim(start: number, stop: number): void {
    if (start < 0) start = 0;
    if (stop >= this.len) stop = this.len - 1;
    if (start > stop) {
      this.replaceAll([]);
      return;
    }
    const keep = stop - start + 1;
    for (let i = 0; i < start; i++) this.popHead();
    while (this.len > keep) this.popTail();
  }

  /** Removes the elements at the given ascending positions. */
  removePositions(positions: readonly number[]): void {
    if (positions.length === 0) return;
    const drop = new Set(positions);
    const kept: string[] = [];
    for (let i = 0; i < this.len; i++) if (!drop.has(i)) kept.push(this.buf[this.slot(i)] as string);
    this.replaceAll(kept);
  }

  replaceAll(items: readonly string[]): void {
    let cap = MIN_CAPACITY;
    while (cap < items.length) cap *= 2;
    this.buf = new Array<string | undefined>(cap);
    for (let i = 0; i < items.length; i++) this.buf[i] = items[i];
    this.head = 0;
    this.len = items.length;
  }

  toArray(): string[] {
    return this.range(0, this.len - 1);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.len; i++) yield this.buf[this.slot(i)] as string;
  }
}

export function createList(items?: Iterable<string>): RingList {
  return new RingList(items);
}

/** OBJECT ENCODING of a list: Redis 7.0 keeps every list in a quicklist, whatever its size. */
export function listEncoding(_l: RList): string {
  return 'quicklist';
}

export function isList(v: unknown): v is RingList {
  return v instanceof RingList;
}
