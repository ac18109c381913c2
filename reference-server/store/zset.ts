/**
 * RZSet as a skiplist with spans (O(log n) rank and range queries) plus a Map member -> score.
 * Order is (score, member) where members compare as latin1 strings, i.e. as bytes (memcmp).
 */
import type { RZSet } from './types.js';

const MAX_LEVEL = 32;

/** Listpack limits the sorted sets convert at; commands refresh them from the config before writes. */
export const zsetLimits = { maxEntries: 128, maxValue: 64 };

export function setZsetLimits(maxEntries: number, maxValue: number): void {
  zsetLimits.maxEntries = maxEntries;
  zsetLimits.maxValue = maxValue;
}

/**
 * A skiplist node. Most nodes (3 in 4) have one level, and they are this class alone: score, level-0 link and
 * span, member, backward link; taller nodes are TallNodes, which keep levels 1-3 in their own fields (a search
 * step loads one object, as a C skiplist node does) and higher levels in side arrays. Small nodes keep the
 * list dense in memory, which is what a search over a big set waits on.
 */
export class SkipNode {
  // Field order is memory order: what a search step reads (score, forward pointer) comes first.
  score: number;
  f0: SkipNode | null = null;
  s0 = 0;
  readonly member: string;
  backward: SkipNode | null = null;
  readonly height: number;
  constructor(member: string, score: number, level: number) {
    this.score = score;
    this.member = member;
    this.height = level;
  }
}

class TallNode extends SkipNode {
  f1: SkipNode | null = null;
  f2: SkipNode | null = null;
  f3: SkipNode | null = null;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  upF: (SkipNode | null)[] | null = null;
  upS: number[] | null = null;
  constructor(member: string, score: number, level: number) {
    super(member, score, level);
    if (level > 4) {
      this.upF = [];
      this.upS = [];
      for (let i = 4; i < level; i++) {
        this.upF.push(null);
        this.upS.push(0);
      }
    }
  }
}

// Levels above 0 are only ever asked of nodes at least that tall (a search reaches a node at level i only
// through its level-i link), so they are TallNodes.
function fw(x: SkipNode, i: number): SkipNode | null {
  switch (i) {
    case 0: return x.f0;
    case 1: return (x as TallNode).f1;
    case 2: return (x as TallNode).f2;
    case 3: return (x as TallNode).f3;
    default: return ((x as TallNode).upF as (SkipNode | null)[])[i - 4];
  }
}

function setFw(x: SkipNode, i: number, v: SkipNode | null): void {
  switch (i) {
    case 0: x.f0 = v; break;
    case 1: (x as TallNode).f1 = v; break;
    case 2: (x as TallNode).f2 = v; break;
    case 3: (x as TallNode).f3 = v; break;
    default: ((x as TallNode).upF as (SkipNode | null)[])[i - 4] = v;
  }
}

function sp(x: SkipNode, i: number): number {
  switch (i) {
    case 0: return x.s0;
    case 1: return (x as TallNode).s1;
    case 2: return (x as TallNode).s2;
    case 3: return (x as TallNode).s3;
    default: return ((x as TallNode).upS as number[])[i - 4];
  }
}

function setSp(x: SkipNode, i: number, v: number): void {
  switch (i) {
    case 0: x.s0 = v; break;
    case 1: (x as TallNode).s1 = v; break;
    case 2: (x as TallNode).s2 = v; break;
    case 3: (x as TallNode).s3 = v; break;
    default: ((x as TallNode).upS as number[])[i - 4] = v;
  }
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

function makeNode(level: number, member: string, score: number): SkipNode {
  return level === 1 ? new SkipNode(member, score, 1) : new TallNode(member, score, level);
}

/** Scratch arrays for insert/delete (one operation at a time, so they can be shared). */
const updateScratch: (SkipNode | null)[] = [];
const rankScratch: number[] = [];

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < 0.25) level++;
  return level;
}

/** True when (s1, m1) sorts before (s2, m2). */
function before(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
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

export class SkipZSet implements RZSet {
  readonly kind = 'zset' as const;
  /** member -> its skiplist node (the score lives in the node, as Redis's dict points at it). */
  private readonly dict = new Map<string, SkipNode>();
  /** The node score() found last: ZADD looks a member up and then updates it, and this saves the second lookup. */
  private lastNode: SkipNode | null = null;
  // The header's score is never compared; 0 (not -Infinity) keeps integer scores unboxed in every node.
  private readonly header: SkipNode = makeNode(MAX_LEVEL, '', 0);
  private tail: SkipNode | null = null;
  private level = 1;
  /** Redis's encoding: 'listpack' while small, 'skiplist' once it grew past the limits (never back). */
  encoding: 'listpack' | 'skiplist' = 'listpack';

  get size(): number {
    return this.dict.size;
  }

  score(member: string): number | undefined {
    const n = this.dict.get(member);
    if (n === undefined) return undefined;
    this.lastNode = n;
    return n.score;
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
    this.encoding = this.size <= zsetLimits.maxEntries && maxLen <= zsetLimits.maxValue ? 'listpack' : 'skiplist';
    if (this.encoding !== 'listpack') return;
    // Converting to a listpack prints scores, and -0 reads back as 0; the order is unchanged (-0 == 0).
    for (let n = this.header.f0; n; n = n.f0) {
      if (Object.is(n.score, -0)) n.score = 0;
    }
  }

  add(member: string, score: number): boolean {
    const old = this.dict.get(member);
    if (old === undefined) {
      this.insertNew(member, score);
      return true;
    }
    this.updateScore(member, old.score, score);
    return false;
  }

  /** Adds a member known to be absent (the caller already looked it up). */
  insertNew(member: string, score: number): void {
    if (this.encoding === 'listpack' && (this.dict.size + 1 > zsetLimits.maxEntries || member.length > zsetLimits.maxValue)) {
      this.encoding = 'skiplist';
    }
    // A listpack keeps scores as printed numbers, and "-0" reads back as 0 there.
    if (this.encoding === 'listpack' && Object.is(score, -0)) score = 0;
    this.dict.set(member, this.slInsert(member, score));
  }

  /** Moves a present member from its current score `old` to `score`. */
  updateScore(member: string, old: number, score: number): void {
    if (this.encoding === 'listpack' && Object.is(score, -0)) score = 0;
    if (old === score) return;
    const last = this.lastNode;
    const node = last !== null && last.member === member ? last : this.dict.get(member);
    if (node === undefined) return;
    // Still between its neighbours: the score changes in place, as Redis's zslUpdateScore does.
    const b = node.backward, f = node.f0;
    if ((b === null || before(b.score, b.member, score, member)) && (f === null || before(score, member, f.score, f.member))) {
      node.score = score;
      return;
    }
    // The unlinked node goes back in at its new place (same height): no allocation per score change.
    const n = this.slDelete(member, old);
    if (n !== null) n.score = score;
    const placed = this.slInsert(member, score, n);
    if (placed !== node) this.dict.set(member, placed);
  }

  remove(member: string): boolean {
    const old = this.dict.get(member);
    if (old === undefined) return false;
    this.slDelete(member, old.score);
    this.dict.delete(member);
    if (this.lastNode === old) this.lastNode = null;
    return true;
  }

  rank(member: string): number | undefined {
    const node = this.dict.get(member);
    if (node === undefined) return undefined;
    const score = node.score;
    let rank = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = fw(x, i);
      while (f && (before(f.score, f.member, score, member) || (f.score === score && f.member === member))) {
        rank += sp(x, i);
        x = f;
        f = fw(x, i);
      }
      if (x !== this.header && x.member === member) return rank - 1;
    }
    return undefined;
  }

  /** Node at 0-based ascending rank, or null. */
  nodeAt(rank: number): SkipNode | null {
    if (rank < 0 || rank >= this.size) return null;
    const target = rank + 1;
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      while (fw(x, i) && traversed + sp(x, i) <= target) {
        traversed += sp(x, i);
        x = fw(x, i) as SkipNode;
      }
      if (traversed === target) return x;
    }
    return null;
  }

  first(): SkipNode | null {
    return this.header.f0;
  }

  last(): SkipNode | null {
    return this.tail;
  }

  next(n: SkipNode): SkipNode | null {
    return n.f0;
  }

  prev(n: SkipNode): SkipNode | null {
    return n.backward;
  }

  *entries(): IterableIterator<[member: string, score: number]> {
    for (let x = this.header.f0; x; x = x.f0) yield [x.member, x.score];
  }

  /** Members with scores in ascending rank order, start..stop inclusive (normalised). */
  rangeByRank(start: number, stop: number, rev = false): [string, number][] {
    const out: [string, number][] = [];
    if (start > stop || start >= this.size) return out;
    if (stop >= this.size) stop = this.size - 1;
    if (!rev) {
      for (let x = this.nodeAt(start), i = start; x && i <= stop; x = x.f0, i++) out.push([x.member, x.score]);
    } else {
      for (let x = this.nodeAt(this.size - 1 - start), i = start; x && i <= stop; x = x.backward, i++) {
        out.push([x.member, x.score]);
      }
    }
    return out;
  }

  /** First node whose score is within the range, or null. */
  firstInScoreRange(r: ScoreRange): SkipNode | null {
    if (scoreRangeEmpty(r) || !this.tail || !scoreGteMin(this.tail.score, r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = fw(x, i);
      while (f && !scoreGteMin(f.score, r)) {
        x = f;
        f = fw(x, i);
      }
    }
    const n = x.f0;
    return n && scoreLteMax(n.score, r) ? n : null;
  }

  lastInScoreRange(r: ScoreRange): SkipNode | null {
    const first = this.header.f0;
    if (scoreRangeEmpty(r) || !first || !scoreLteMax(first.score, r)) return null;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = fw(x, i);
      while (f && scoreLteMax(f.score, r)) {
        x = f;
        f = fw(x, i);
      }
    }
    return x !== this.header && scoreGteMin(x.score, r) ? x : null;
  }

  /** zslIsInLexRange: the tail reaches min and the head reaches max. */
  private lexRangeTouches(r: LexRange): boolean {
    const first = this.header.f0;
    if (lexRangeEmpty(r) || !this.tail || !first) return false;
    return lexGteMin(this.tail.member, r) && lexLteMax(first.member, r);
  }

  /**
   * First node in a lex range. Lex ranges assume equal scores; with mixed scores Redis's answer depends on
   * how it walks, so a listpack-encoded set is scanned linearly exactly as Redis scans its listpack.
   */
  firstInLexRange(r: LexRange): SkipNode | null {
    if (!this.lexRangeTouches(r)) return null;
    if (this.encoding === 'listpack') {
      for (let n = this.header.f0; n; n = n.f0) {
        if (lexGteMin(n.member, r)) return lexLteMax(n.member, r) ? n : null;
      }
      return null;
    }
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = fw(x, i);
      while (f && !lexGteMin(f.member, r)) {
        x = f;
        f = fw(x, i);
      }
    }
    const n = x.f0;
    return n && lexLteMax(n.member, r) ? n : null;
  }

  lastInLexRange(r: LexRange): SkipNode | null {
    if (!this.lexRangeTouches(r)) return null;
    if (this.encoding === 'listpack') {
      for (let n = this.tail; n; n = n.backward) {
        if (lexLteMax(n.member, r)) return lexGteMin(n.member, r) ? n : null;
      }
      return null;
    }
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = fw(x, i);
      while (f && lexLteMax(f.member, r)) {
        x = f;
        f = fw(x, i);
      }
    }
    return x !== this.header && lexGteMin(x.member, r) ? x : null;
  }

  countInScoreRange(r: ScoreRange): number {
    const a = this.firstInScoreRange(r);
    if (!a) return 0;
    const b = this.lastInScoreRange(r) as SkipNode;
    return (this.rank(b.member) as number) - (this.rank(a.member) as number) + 1;
  }

  countInLexRange(r: LexRange): number {
    const a = this.firstInLexRange(r);
    if (!a) return 0;
    if (this.encoding === 'listpack') {
      let count = 0;
      for (let n: SkipNode | null = a; n && lexLteMax(n.member, r); n = n.f0) count++;
      return count;
    }
    const b = this.lastInLexRange(r) as SkipNode;
    return (this.rank(b.member) as number) - (this.rank(a.member) as number) + 1;
  }

  popMin(): [string, number] | undefined {
    const n = this.header.f0;
    if (!n) return undefined;
    this.remove(n.member);
    return [n.member, n.score];
  }

  popMax(): [string, number] | undefined {
    const n = this.tail;
    if (!n) return undefined;
    this.remove(n.member);
    return [n.member, n.score];
  }

  private slInsert(member: string, score: number, reuse: SkipNode | null = null): SkipNode {
    const update = updateScratch;
    const rank = rankScratch;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rank[i] = i === this.level - 1 ? 0 : rank[i + 1];
      let f = fw(x, i);
      while (f && before(f.score, f.member, score, member)) {
        rank[i] += sp(x, i);
        x = f;
        f = fw(x, i);
      }
      update[i] = x;
    }
    const level = reuse !== null ? reuse.height : randomLevel();
    if (level > this.level) {
      for (let i = this.level; i < level; i++) {
        rank[i] = 0;
        update[i] = this.header;
        setSp(this.header, i, this.size);
      }
      this.level = level;
    }
    const n = reuse ?? makeNode(level, member, score);
    for (let i = 0; i < level; i++) {
      const u = update[i] as SkipNode;
      setFw(n, i, fw(u, i));
      setFw(u, i, n);
      setSp(n, i, sp(u, i) - (rank[0] - rank[i]));
      setSp(u, i, rank[0] - rank[i] + 1);
    }
    for (let i = level; i < this.level; i++) {
      const u = update[i] as SkipNode;
      setSp(u, i, sp(u, i) + 1);
    }
    n.backward = update[0] === this.header ? null : update[0];
    if (n.f0) n.f0.backward = n;
    else this.tail = n;
    // The shared scratch must not keep nodes (and through them a deleted set) alive.
    for (let i = 0; i < this.level; i++) update[i] = null;
    return n;
  }

  /** Unlinks the node for (score, member); returns it, or null when absent. */
  private slDelete(member: string, score: number): SkipNode | null {
    const update = updateScratch;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f = fw(x, i);
      while (f && before(f.score, f.member, score, member)) {
        x = f;
        f = fw(x, i);
      }
      update[i] = x;
    }
    const n = x.f0;
    const levels = this.level;
    if (n && n.score === score && n.member === member) {
      for (let i = 0; i < levels; i++) {
        const u = update[i] as SkipNode;
        if (fw(u, i) === n) {
          setSp(u, i, sp(u, i) + sp(n, i) - 1);
          setFw(u, i, fw(n, i));
        } else {
          setSp(u, i, sp(u, i) - 1);
        }
      }
    }
    for (let i = 0; i < levels; i++) update[i] = null;
    if (!n || n.score !== score || n.member !== member) return null;
    if (n.f0) n.f0.backward = n.backward;
    else this.tail = n.backward;
    while (this.level > 1 && fw(this.header, this.level - 1) === null) this.level--;    return n;
  }
}

export function createZSet(): SkipZSet {
  return new SkipZSet();
}

/** OBJECT ENCODING of a sorted set, as Redis 7.0 reports it. */
export function zsetEncoding(z: RZSet): string {
  return z instanceof SkipZSet ? z.encoding : 'skiplist';
}

export function isZSet(v: unknown): v is SkipZSet {
  return v instanceof SkipZSet;
}
