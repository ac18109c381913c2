import { expect } from 'chai';
import { createZSet, zsetEncoding } from '../store/zset.js';
import { DEFAULT_LIMITS } from '../store/limits.js';

function cmp(a: [string, number], b: [string, number]): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** A repeatable draw in [0, n): the same seed replays the same operations when a test fails. */
function seededRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
}

describe('store/zset SortedSet', () => {
  it('keeps (score, member) order, ranks and ranges equal to a sorted model', () => {
    const rnd = seededRandom(99);
    const z = createZSet();
    const model = new Map<string, number>();
    for (let step = 0; step < 5000; step++) {
      const m = `m${rnd(400)}`;
      const s = rnd(30) - 15;
      if (rnd(4) === 0) expect(z.remove(m)).to.equal(model.delete(m));
      else {
        expect(z.add(m, s)).to.equal(!model.has(m));
        model.set(m, s);
      }
      if (step % 250 === 0 || step === 4999) {
        const sorted = [...model.entries()].sort(cmp);
        expect([...z.entries()]).to.deep.equal(sorted);
        expect(z.size).to.equal(sorted.length);
        sorted.forEach(([mem], i) => expect(z.rank(mem)).to.equal(i));
        const r = { min: -3, max: 4, minex: true, maxex: false };
        const inRange = sorted.filter(([, sc]) => sc > -3 && sc <= 4);
        expect(z.countInScoreRange(r)).to.equal(inRange.length);
        expect(z.firstInScoreRange(r)?.member).to.equal(inRange[0]?.[0]);
        expect(z.lastInScoreRange(r)?.member).to.equal(inRange[inRange.length - 1]?.[0]);
        expect(z.rangeByRank(3, 10)).to.deep.equal(sorted.slice(3, 11));
        expect(z.rangeByRank(0, 4, true)).to.deep.equal(sorted.slice().reverse().slice(0, 5));
      }
    }
  });

  it('stays equal to a sorted model through block splits and merges: ranks, nodeAt, cursors both ways, score ranges', () => {
    const rnd = seededRandom(7);
    const z = createZSet();
    const model = new Map<string, number>();
    const verify = (): void => {
      const sorted = [...model.entries()].sort(cmp);
      expect([...z.entries()]).to.deep.equal(sorted);
      expect(z.size).to.equal(sorted.length);
      for (let i = 0; i < sorted.length; i += 7) {
        expect(z.rank(sorted[i]![0])).to.equal(i);
        expect(z.nodeAt(i)?.member).to.equal(sorted[i]![0]);
      }
      const forward: string[] = [];
      for (let c = z.first(); c; c = z.next(c)) forward.push(c.member);
      const backward: string[] = [];
      for (let c = z.last(); c; c = z.prev(c)) backward.push(c.member);
      expect(forward).to.deep.equal(sorted.map((e) => e[0]));
      expect(backward).to.deep.equal(sorted.map((e) => e[0]).reverse());
      const r = { min: 100, max: 400, minex: false, maxex: true };
      const inRange = sorted.filter(([, sc]) => sc >= 100 && sc < 400);
      expect(z.countInScoreRange(r)).to.equal(inRange.length);
      expect(z.firstInScoreRange(r)?.member).to.equal(inRange[0]?.[0]);
      expect(z.lastInScoreRange(r)?.member).to.equal(inRange[inRange.length - 1]?.[0]);
      const mid = Math.floor(sorted.length / 2);
      expect(z.rangeByRank(mid, mid + 300)).to.deep.equal(sorted.slice(mid, mid + 301));
      expect(z.rangeByRank(mid, mid + 300, true)).to.deep.equal(sorted.slice().reverse().slice(mid, mid + 301));
    };
    // Growth with score changes (in place and moving), then shrinking until blocks merge and vanish.
    for (let step = 0; step < 20000; step++) {
      const m = `k${rnd(3000)}`;
      const s = rnd(1000) - 100;
      expect(z.add(m, s)).to.equal(!model.has(m));
      model.set(m, s);
      if (step % 5000 === 4999) verify();
    }
    for (const m of [...model.keys()]) {
      if (rnd(10) === 0) continue;
      expect(z.remove(m)).to.equal(true);
      model.delete(m);
      if (model.size % 700 === 0) verify();
    }
    verify();
    while (model.size > 0) {
      const [m, s] = z.popMin()!;
      expect(model.get(m)).to.equal(s);
      model.delete(m);
    }
    expect(z.first()).to.equal(null);
    expect(z.nodeAt(0)).to.equal(null);
  });

  it('compares members bytewise and answers lex ranges', () => {
    const z = createZSet();
    for (const m of ['b', 'a', '\xff', 'ab', '\x00', 'B']) z.add(m, 0);
    expect([...z.entries()].map(e => e[0])).to.deep.equal(['\x00', 'B', 'a', 'ab', 'b', '\xff']);
    expect(z.countInLexRange({ min: 'a', max: 'b', minex: false, maxex: true })).to.equal(2);
    expect(z.countInLexRange({ min: null, max: null, minex: false, maxex: false })).to.equal(6);
    expect(z.firstInLexRange({ min: 'ab', max: null, minex: true, maxex: false })?.member).to.equal('b');
    expect(z.countInLexRange({ min: 'c', max: 'a', minex: false, maxex: false })).to.equal(0);
    expect(z.popMin()).to.deep.equal(['\x00', 0]);
    expect(z.popMax()).to.deep.equal(['\xff', 0]);
    expect(z.rank('missing')).to.equal(undefined);
  });

  it('reports listpack until the limits are passed, then skiplist for good', () => {
    const limits = { ...DEFAULT_LIMITS, zsetMaxListpackEntries: 3, zsetMaxListpackValue: 8 };
    const z = createZSet(limits);
    z.add('a', 1); z.add('b', 2); z.add('c', 3);
    expect(zsetEncoding(z)).to.equal('listpack');
    z.add('d', 4);
    expect(zsetEncoding(z)).to.equal('skiplist');
    z.remove('d'); z.remove('c');
    expect(zsetEncoding(z)).to.equal('skiplist');
    const y = createZSet(limits);
    y.add('0123456789', 1);
    expect(zsetEncoding(y)).to.equal('skiplist');
  });
});
