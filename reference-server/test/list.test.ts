import { expect } from 'chai';
import { createList, listEncoding } from '../store/list.js';

describe('store/list RingList', () => {
  it('matches an array model under random pushes, pops, sets and trims', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const l = createList();
    const model: string[] = [];
    for (let step = 0; step < 20000; step++) {
      const op = rnd(8);
      const v = `v${step}`;
      if (op === 0 || op === 5) { l.pushHead(v); model.unshift(v); }
      else if (op === 1 || op === 6) { l.pushTail(v); model.push(v); }
      else if (op === 2) expect(l.popHead()).to.equal(model.shift());
      else if (op === 3) expect(l.popTail()).to.equal(model.pop());
      else if (op === 4 && model.length > 0) {
        const i = rnd(model.length);
        expect(l.set(i, v)).to.equal(true);
        model[i] = v;
      } else if (op === 7 && rnd(50) === 0) {
        const a = rnd(model.length + 1);
        const b = rnd(model.length + 1);
        l.trim(a, b);
        model.splice(0, model.length, ...model.slice(a, b + 1));
      }
      expect(l.length).to.equal(model.length);
      if (model.length > 0) {
        const i = rnd(model.length);
        expect(l.at(i)).to.equal(model[i]);
        expect(l.at(i - model.length)).to.equal(model[i]);
      }
    }
    expect([...l]).to.deep.equal(model);
    expect(l.range(0, model.length - 1)).to.deep.equal(model);
  });

  it('handles out-of-range indexes and middle edits', () => {
    const l = createList(['a', 'b', 'c']);
    expect(l.at(3)).to.equal(undefined);
    expect(l.at(-4)).to.equal(undefined);
    expect(l.set(5, 'x')).to.equal(false);
    l.insertAt(1, 'z');
    expect(l.toArray()).to.deep.equal(['a', 'z', 'b', 'c']);
    l.removePositions([0, 2]);
    expect(l.toArray()).to.deep.equal(['z', 'c']);
    expect(listEncoding(l)).to.equal('quicklist');
  });
});
