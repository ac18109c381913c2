import { expect } from 'chai';
import { addDrops, planPartition, type DropSets } from '../src/drivers/shared/partition-plan.js';

const hosts = ['a', 'b', 'c'];
const addrOf: Record<string, string> = { a: '10.0.0.1', b: '10.0.0.2', c: '10.0.0.3' };
const address = (h: string) => {
  const a = addrOf[h];
  if (!a) throw new Error(`unknown host "${h}"`);
  return a;
};
const flat = (m: Map<string, DropSets>) => Object.fromEntries([...m].map(([h, r]) => [h, { from: [...r.from], to: [...r.to] }]));

describe('partition plan', () => {
  it('isolate: only the isolated host drops every other host, both ways', () => {
    expect(flat(planPartition({ kind: 'isolate', host: 'b' }, hosts, address))).to.deep.equal({
      b: { from: ['10.0.0.1', '10.0.0.3'], to: ['10.0.0.1', '10.0.0.3'] },
    });
  });

  it('split: each side drops the other side both ways, and nothing within its own side', () => {
    expect(flat(planPartition({ kind: 'split', sides: [['a'], ['b', 'c']] }, hosts, address))).to.deep.equal({
      a: { from: ['10.0.0.2', '10.0.0.3'], to: ['10.0.0.2', '10.0.0.3'] },
      b: { from: ['10.0.0.1'], to: ['10.0.0.1'] },
      c: { from: ['10.0.0.1'], to: ['10.0.0.1'] },
    });
  });

  it('one-way: only `to` drops what arrives from `from`; its own packets still leave', () => {
    expect(flat(planPartition({ kind: 'one-way', from: 'a', to: 'c' }, hosts, address))).to.deep.equal({
      c: { from: ['10.0.0.1'], to: [] },
    });
  });

  it('an unknown host fails before any rule is planned', () => {
    expect(() => planPartition({ kind: 'isolate', host: 'x' }, hosts, address)).to.throw('unknown host "x"');
    expect(() => planPartition({ kind: 'split', sides: [['a'], ['x']] }, hosts, address)).to.throw('unknown host "x"');
    expect(() => planPartition({ kind: 'one-way', from: 'x', to: 'a' }, hosts, address)).to.throw('unknown host "x"');
  });

  it('partitions add up until heal: a merge keeps earlier drops and names only the hosts it touched', () => {
    const drops = new Map<string, DropSets>();
    expect(addDrops(drops, planPartition({ kind: 'one-way', from: 'a', to: 'c' }, hosts, address))).to.deep.equal(['c']);
    expect(addDrops(drops, planPartition({ kind: 'split', sides: [['a', 'b'], ['c']] }, hosts, address))).to.deep.equal(['a', 'b', 'c']);
    expect(flat(drops)).to.deep.equal({
      c: { from: ['10.0.0.1', '10.0.0.2'], to: ['10.0.0.1', '10.0.0.2'] },
      a: { from: ['10.0.0.3'], to: ['10.0.0.3'] },
      b: { from: ['10.0.0.3'], to: ['10.0.0.3'] },
    });
  });
});
