/**
 * RZSet as an order-statistic list of sorted blocks plus a Map member -> score. Order is (score, member) where
 * members compare as latin1 strings, i.e. as bytes (memcmp).
 *
 * Why blocks and not Redis's skiplist: a skiplist search in JS chases ~30 pointers through scattered objects per
 * lookup, and ZADD on a big set waited on those cache misses (half of Redis's throughput). Here a search is two
 * binary searches over contiguous Float64Arrays (the blocks' last scores, then one block's scores), an insert or
 * delete shifts at most BLOCK_MAX entries, and ranks come from a Fenwick tree over the block sizes. OBJECT ENCODING
 * still reports Redis's names ('listpack' while small, then 'skiplist').
 */
import type { RZSet } from './types.js';
import { DEFAULT_LIMITS, type EncodingLimits } from './limits.js';

/** A block holds at most this many entries; a full one splits in two halves. */
const BLOCK_MAX = 128;
/** A block this small merges with a neighbour when both fit in one. */
const BLOCK_MIN = 32;

/** A run of entries in (score, member) order; the entries of block k all sort before those of block k+1. */
class Block {
  readonly scores = new Float64Array(BLOCK_MAX);
  readonly members: string[] = new Array<string>(BLOCK_MAX).fill('');
  n = 0;
}

/** One entry's position, as range commands walk them (a fresh object per step; valid until the set changes). */
export class ZCursor {
  constructor(
    readonly member: string,
    readonly score: number,
    /** Block index and offset inside it. */
    readonly block: number,
    readonly index: number,
  ) {}
}

/** A score interval; ex flags make a bound exclusive. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** A lex interval; null min means "-" (unbounded), null max means "+". */
export interface LexRange {
  min: string | null;
  max: string | null;
  minex: boolean;
  maxex: boolean;
  /** "+" given as min, or "-" as max: the range is empty. */
  empty?: boolean;
}

export function scoreGteMin(score: number, r: ScoreRange): boolean {
  return r.minex ? score > r.min : score >= r.min;
}

export function scoreLteMax(score: number, r: ScoreRange): boolean {
  return r.maxex ? score < r.max : score <= r.max;
}

export function lexGteMin(m: string, r: LexRange): boolean {
  if (r.min === null) return true;
  return r.minex ? m > r.min : m >= r.min;
}

export function lexLteMax(m: string, r: LexRange): boolean {
  if (r.max === null) return true;
  return r.maxex ? m < r.max : m <= r.max;
}

function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

function lexRangeEmpty(r: LexRange): boolean {
  if (r.empty) return true;
  if (r.min === null || r.max === null) return false;
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** First index in [0, n) for which pred is false, given pred is true on a prefix ("advance while"). */
function partition(n: number, pred: (i: number) => boolean): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedSet implements RZSet {
  readonly kind = 'zset' as const;
  private readonly dict = new Map<string, number>();
  private blocks: Block[] = [];
  /** Each block's last score, for the first binary search (contiguous: that search touches a few cache lines). */
  private lastScores = new Float64Array(16);
  /** Fenwick tree over block sizes (1-based): prefix sums give a block's first rank. */
  private fen = new Int32Array(17);
  /** Redis's encoding: 'listpack' while small, 'skiplist' once it grew past the limits (never back). */
  encoding: 'listpack' | 'skiplist' = 'listpack';

  /** limits: the owning server's (zset-max-listpack-*, read live, so CONFIG SET applies to existing sets). */
  constructor(public limits: Readonly<EncodingLimits> = DEFAULT_LIMITS) {}

  get size(): number {
    return this.dict.size;
  }

  score(member: string): number | undefined {
    return this.dict.get(member);
  }

  has(member: string): boolean {
    return this.dict.has(member);
  }

  /** Switches to the big encoding now (ZADD on a new key with a long member, large ZRANGESTORE). */
  forceSkiplist(): void {
    this.encoding = 'skiplist';
  }

  /** Picks the encoding a freshly built set gets (ZUNIONSTORE, RDB load) from its contents. */
  settleEncoding(): void {
    let maxLen = 0;
    for (const m of this.dict.keys()) if (m.length > maxLen) maxLen = m.length;
    this.encoding = this.size <= this.limits.zsetMaxListpackEntries && maxLen <= this.limits.zsetMaxListpackValue ? 'listpack' : 'skiplist';
    if (this.encoding !== 'listpack') return;
    // Converting to a listpack prints scores, and -0 reads back as 0; the order is unchanged (-0 == 0).
    for (const b of this.blocks) {
      for (let i = 0; i < b.n; i++) if (Object.is(b.scores[i], -0)) b.scores[i] = 0;
    }
    for (const [m, s] of this.dict) if (Object.is(s, -0)) this.dict.set(m, 0);
  }

  add(member: string, score: number): boolean {
    const old = this.dict.get(member);
    if (old === undefined) {
      this.insertNew(member, score);
      return true;
    }
    this.updateScore(member, old, score);
    return false;
  }

  /** Adds a member known to be absent (the caller already looked it up). */
  insertNew(member: string, score: number): void {
    if (this.encoding === 'listpack' && (this.dict.size + 1 > this.limits.zsetMaxListpackEntries || member.length > this.limits.zsetMaxListpackValue)) {
      this.encoding = 'skiplist';
    }
    // A listpack keeps scores as printed numbers, and "-0" reads back as 0 there.
    if (this.encoding === 'listpack' && Object.is(score, -0)) score = 0;
    this.dict.set(member, score);
    this.insertAt(member, score);
  }

  /** Moves a present member from its current score `old` to `score`. */
  updateScore(member: string, old: number, score: number): void {
    if (this.encoding === 'listpack' && Object.is(score, -0)) score = 0;
    if (old === score) return;
    const bi = this.blockFor(old, member);
    const b = this.blocks[bi];
    if (b === undefined) return;
    const i = this.indexIn(b, old, member);
    if (i >= b.n || b.members[i] !== member) return;
    this.dict.set(member, score);
    // Still between its neighbours: the score changes in place, as Redis's zslUpdateScore does.
    if (this.afterPrevious(bi, i, score, member) && this.beforeNext(bi, i, score, member)) {
      b.scores[i] = score;
      if (i === b.n - 1) this.lastScores[bi] = score;
      return;
    }
    this.removeAt(bi, i);
    this.insertAt(member, score);
  }

  remove(member: string): boolean {
    const score = this.dict.get(member);
    if (score === undefined) return false;
    this.dict.delete(member);
    const bi = this.blockFor(score, member);
    const b = this.blocks[bi];
    if (b !== undefined) {
      const i = this.indexIn(b, score, member);
      if (i < b.n && b.members[i] === member) this.removeAt(bi, i);
    }
    return true;
  }

  rank(member: string): number | undefined {
    const score = this.dict.get(member);
    if (score === undefined) return undefined;
    const bi = this.blockFor(score, member);
    const b = this.blocks[bi];
    if (b === undefined) return undefined;
    const i = this.indexIn(b, score, member);
    return i < b.n && b.members[i] === member ? this.prefix(bi) + i : undefined;
  }

  /** Entry at 0-based ascending rank, or null. */
  nodeAt(rank: number): ZCursor | null {
    if (rank < 0 || rank >= this.size) return null;
    const bi = this.blockOfRank(rank);
    return this.cursor(bi, rank - this.prefix(bi));
  }

  first(): ZCursor | null {
    return this.blocks.length === 0 ? null : this.cursor(0, 0);
  }

  last(): ZCursor | null {
    const bi = this.blocks.length - 1;
    return bi < 0 ? null : this.cursor(bi, this.blocks[bi].n - 1);
  }

  next(c: ZCursor): ZCursor | null {
    const b = this.blocks[c.block];
    if (c.index + 1 < b.n) return this.cursor(c.block, c.index + 1);
    return c.block + 1 < this.blocks.length ? this.cursor(c.block + 1, 0) : null;
  }

  prev(c: ZCursor): ZCursor | null {
    if (c.index > 0) return this.cursor(c.block, c.index - 1);
    return c.block > 0 ? this.cursor(c.block - 1, this.blocks[c.block - 1].n - 1) : null;
  }

  *entries(): IterableIterator<[member: string, score: number]> {
    for (const b of this.blocks) for (let i = 0; i < b.n; i++) yield [b.members[i], b.scores[i]];
  }

  /** Members with scores in ascending rank order, start..stop inclusive (normalised). */
  rangeByRank(start: number, stop: number, rev = false): [string, number][] {
    const out: [string, number][] = [];
    if (start > stop || start >= this.size) return out;
    if (stop >= this.size) stop = this.size - 1;
    const count = stop - start + 1;
    const from = rev ? this.size - 1 - start : start;
    let bi = this.blockOfRank(from);
    let i = from - this.prefix(bi);
    const blocks = this.blocks;
    for (let k = 0; k < count; k++) {
      const b = blocks[bi];
      out.push([b.members[i], b.scores[i]]);
      if (rev) {
        if (--i < 0 && --bi >= 0) i = blocks[bi].n - 1;
      } else if (++i >= b.n) {
        bi++;
        i = 0;
      }
    }
    return out;
  }

  /** First entry whose score is within the range, or null. */
  firstInScoreRange(r: ScoreRange): ZCursor | null {
    if (scoreRangeEmpty(r)) return null;
    const c = this.firstWhere((s) => !scoreGteMin(s, r), null);
    return c && scoreLteMax(c.score, r) ? c : null;
  }

  lastInScoreRange(r: ScoreRange): ZCursor | null {
    if (scoreRangeEmpty(r)) return null;
    const c = this.lastWhere((s) => scoreLteMax(s, r), null);
    return c && scoreGteMin(c.score, r) ? c : null;
  }

  /** zslIsInLexRange: the tail reaches min and the head reaches max. */
  private lexRangeTouches(r: LexRange): boolean {
    const first = this.first();
    const last = this.last();
    if (lexRangeEmpty(r) || !first || !last) return false;
    return lexGteMin(last.member, r) && lexLteMax(first.member, r);
  }

  /**
   * First entry in a lex range. Lex ranges assume equal scores; with mixed scores Redis's answer depends on
   * how it walks, so a listpack-encoded set is scanned linearly exactly as Redis scans its listpack.
   */
  firstInLexRange(r: LexRange): ZCursor | null {
    if (!this.lexRangeTouches(r)) return null;
    if (this.encoding === 'listpack') {
      for (let c = this.first(); c; c = this.next(c)) {
        if (lexGteMin(c.member, r)) return lexLteMax(c.member, r) ? c : null;
      }
      return null;
    }
    const c = this.firstWhere(null, (m) => !lexGteMin(m, r));
    return c && lexLteMax(c.member, r) ? c : null;
  }

  lastInLexRange(r: LexRange): ZCursor | null {
    if (!this.lexRangeTouches(r)) return null;
    if (this.encoding === 'listpack') {
      for (let c = this.last(); c; c = this.prev(c)) {
        if (lexLteMax(c.member, r)) return lexGteMin(c.member, r) ? c : null;
      }
      return null;
    }
    const c = this.lastWhere(null, (m) => lexLteMax(m, r));
    return c && lexGteMin(c.member, r) ? c : null;
  }

  countInScoreRange(r: ScoreRange): number {
    const a = this.firstInScoreRange(r);
    if (!a) return 0;
    const b = this.lastInScoreRange(r) as ZCursor;
    return this.rankOf(b) - this.rankOf(a) + 1;
  }

  countInLexRange(r: LexRange): number {
    const a = this.firstInLexRange(r);
    if (!a) return 0;
    if (this.encoding === 'listpack') {
      let count = 0;
      for (let c: ZCursor | null = a; c && lexLteMax(c.member, r); c = this.next(c)) count++;
      return count;
    }
    const b = this.lastInLexRange(r) as ZCursor;
    return this.rankOf(b) - this.rankOf(a) + 1;
  }

  popMin(): [string, number] | undefined {
    const c = this.first();
    if (!c) return undefined;
    this.remove(c.member);
    return [c.member, c.score];
  }

  popMax(): [string, number] | undefined {
    const c = this.last();
    if (!c) return undefined;
    this.remove(c.member);
    return [c.member, c.score];
  }

  private cursor(bi: number, i: number): ZCursor {
    const b = this.blocks[bi];
    return new ZCursor(b.members[i], b.scores[i], bi, i);
  }

  private rankOf(c: ZCursor): number {
    return this.prefix(c.block) + c.index;
  }

  /** True when (score, member) would still sort after the entry before position (bi, i). */
  private afterPrevious(bi: number, i: number, score: number, member: string): boolean {
    const b = i > 0 ? this.blocks[bi] : bi > 0 ? this.blocks[bi - 1] : null;
    if (b === null) return true;
    const j = i > 0 ? i - 1 : b.n - 1;
    return before(b.scores[j], b.members[j], score, member);
  }

  /** True when (score, member) would still sort before the entry after position (bi, i). */
  private beforeNext(bi: number, i: number, score: number, member: string): boolean {
    const inBlock = i + 1 < this.blocks[bi].n;
    const b = inBlock ? this.blocks[bi] : bi + 1 < this.blocks.length ? this.blocks[bi + 1] : null;
    if (b === null) return true;
    const j = inBlock ? i + 1 : 0;
    return before(score, member, b.scores[j], b.members[j]);
  }

  /** Index of the first block whose last entry is not before (score, member); blocks.length when none. */
  private blockFor(score: number, member: string): number {
    const last = this.lastScores;
    const blocks = this.blocks;
    let lo = 0, hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = last[mid];
      if (s < score || (s === score && blocks[mid].members[blocks[mid].n - 1] < member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first entry of b not before (score, member). */
  private indexIn(b: Block, score: number, member: string): number {
    const scores = b.scores;
    let lo = 0, hi = b.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = scores[mid];
      if (s < score || (s === score && b.members[mid] < member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The first entry for which "advance" (on its score, or on its member) is false, as a skiplist search for a
   * range start finds it; null past the end.
   */
  private firstWhere(onScore: ((s: number) => boolean) | null, onMember: ((m: string) => boolean) | null): ZCursor | null {
    const adv = (b: Block, i: number): boolean => (onScore ? onScore(b.scores[i]) : (onMember as (m: string) => boolean)(b.members[i]));
    const blocks = this.blocks;
    const bi = partition(blocks.length, (k) => adv(blocks[k], blocks[k].n - 1));
    if (bi >= blocks.length) return null;
    const b = blocks[bi];
    return this.cursor(bi, partition(b.n, (i) => adv(b, i)));
  }

  /** The last entry for which "keep" is true (true on a prefix), as a skiplist search for a range end finds it. */
  private lastWhere(onScore: ((s: number) => boolean) | null, onMember: ((m: string) => boolean) | null): ZCursor | null {
    const keep = (b: Block, i: number): boolean => (onScore ? onScore(b.scores[i]) : (onMember as (m: string) => boolean)(b.members[i]));
    const blocks = this.blocks;
    // The first block whose first entry is not kept; the answer is in the block before it.
    const after = partition(blocks.length, (k) => keep(blocks[k], 0));
    if (after === 0) return null;
    const b = blocks[after - 1];
    return this.cursor(after - 1, partition(b.n, (i) => keep(b, i)) - 1);
  }

  private insertAt(member: string, score: number): void {
    const blocks = this.blocks;
    if (blocks.length === 0) {
      const nb = new Block();
      blocks.push(nb);
      this.reindex();
    }
    let bi = this.blockFor(score, member);
    if (bi === blocks.length) bi--;
    const b = blocks[bi];
    const i = this.indexIn(b, score, member);
    const n = b.n;
    const scores = b.scores;
    const members = b.members;
    if (i < n) {
      scores.copyWithin(i + 1, i, n);
      for (let k = n; k > i; k--) members[k] = members[k - 1];
    }
    scores[i] = score;
    members[i] = member;
    b.n = n + 1;
    if (i === n) this.lastScores[bi] = score;
    if (b.n === BLOCK_MAX) this.split(bi);
    else this.fenAdd(bi, 1);
  }

  private removeAt(bi: number, i: number): void {
    const b = this.blocks[bi];
    const n = b.n - 1;
    if (i < n) {
      b.scores.copyWithin(i, i + 1, n + 1);
      for (let k = i; k < n; k++) b.members[k] = b.members[k + 1];
    }
    // The block must not keep a removed member's string alive.
    b.members[n] = '';
    b.n = n;
    if (n === 0) {
      this.blocks.splice(bi, 1);
      this.reindex();
      return;
    }
    this.lastScores[bi] = b.scores[n - 1];
    if (n < BLOCK_MIN && this.tryMerge(bi)) return;
    this.fenAdd(bi, -1);
  }

  /** A full block becomes two half-full ones. */
  private split(bi: number): void {
    const b = this.blocks[bi];
    const half = b.n >>> 1;
    const nb = new Block();
    nb.scores.set(b.scores.subarray(half, b.n));
    for (let k = half; k < b.n; k++) {
      nb.members[k - half] = b.members[k];
      b.members[k] = '';
    }
    nb.n = b.n - half;
    b.n = half;
    this.blocks.splice(bi + 1, 0, nb);
    this.reindex();
  }

  /** Merges a small block into a neighbour when the two fit in one; true when the index was rebuilt. */
  private tryMerge(bi: number): boolean {
    const blocks = this.blocks;
    const left = bi > 0 && blocks[bi - 1].n + blocks[bi].n < BLOCK_MAX ? bi - 1 : -1;
    const at = left >= 0 ? left : bi + 1 < blocks.length && blocks[bi].n + blocks[bi + 1].n < BLOCK_MAX ? bi : -1;
    if (at < 0) return false;
    const a = blocks[at];
    const c = blocks[at + 1];
    a.scores.set(c.scores.subarray(0, c.n), a.n);
    for (let k = 0; k < c.n; k++) a.members[a.n + k] = c.members[k];
    a.n += c.n;
    blocks.splice(at + 1, 1);
    this.reindex();
    return true;
  }

  /** Rebuilds the last-score array and the Fenwick tree after blocks were added or removed. */
  private reindex(): void {
    const blocks = this.blocks;
    const nb = blocks.length;
    if (this.lastScores.length < nb) this.lastScores = new Float64Array(Math.max(nb, this.lastScores.length * 2));
    if (this.fen.length < nb + 1) this.fen = new Int32Array(this.lastScores.length + 1);
    const fen = this.fen;
    fen.fill(0);
    for (let k = 0; k < nb; k++) {
      const b = blocks[k];
      this.lastScores[k] = b.n > 0 ? b.scores[b.n - 1] : 0;
      // Linear-time Fenwick build: each node passes its sum to its parent.
      fen[k + 1] += b.n;
      const parent = k + 1 + ((k + 1) & -(k + 1));
      if (parent <= nb) fen[parent] += fen[k + 1];
    }
  }

  private fenAdd(bi: number, d: number): void {
    const fen = this.fen;
    const nb = this.blocks.length;
    for (let k = bi + 1; k <= nb; k += k & -k) fen[k] += d;
  }

  /** Number of entries in the blocks before block bi. */
  private prefix(bi: number): number {
    const fen = this.fen;
    let sum = 0;
    for (let k = bi; k > 0; k -= k & -k) sum += fen[k];
    return sum;
  }

  /** The block holding the entry of 0-based rank `rank` (Fenwick descent). */
  private blockOfRank(rank: number): number {
    const fen = this.fen;
    const nb = this.blocks.length;
    let pos = 0;
    let rest = rank;
    let step = 1;
    while (step * 2 <= nb) step *= 2;
    for (; step > 0; step >>= 1) {
      if (pos + step <= nb && fen[pos + step] <= rest) {
        pos += step;
        rest -= fen[pos];
      }
    }
    return pos;
  }
}

/** True when (s1, m1) sorts before (s2, m2). */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

export function createZSet(limits: Readonly<EncodingLimits> = DEFAULT_LIMITS): SortedSet {
  return new SortedSet(limits);
}

/** OBJECT ENCODING of a sorted set, as Redis 7.0 reports it. */
export function zsetEncoding(z: RZSet): string {
  return z instanceof SortedSet ? z.encoding : 'skiplist';
}

export function isZSet(v: unknown): v is SortedSet {
  return v instanceof SortedSet;
}
