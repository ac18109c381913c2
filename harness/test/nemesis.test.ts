import { expect } from 'chai';
import { Prng } from '../src/random/prng.js';
import { generateSchedule, applicableFaults, MASTER_TARGET } from '../src/nemesis/schedule.js';
import { ALL_FAULT_KINDS, partitionSpecOf } from '../src/nemesis/faults.js';
import type { Topology } from '../src/topology/model.js';

const topo: Topology = {
  name: 't', file: '<t>', kind: 'sentinel',
  hosts: [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }],
  redis: [
    { name: 'r1', host: 'h1', port: 6379, config: {}, target: 'redis' },
    { name: 'r2', host: 'h2', port: 6379, config: {}, target: 'redis', replicaof: 'r1' },
    { name: 'r3', host: 'h3', port: 6379, config: {}, target: 'redis', replicaof: 'r1' },
  ],
  sentinels: [],
  toxiproxy: { host: 'h3', apiPort: 8474, links: [{ name: 'client-haproxy', from: 'client', to: 'haproxy', listenPort: 16000 }] },
  budgets: { failoverMs: 10000, unavailabilityMs: 15000 },
};

describe('random: seeded PRNG', () => {
  it('same seed gives the same sequence, another seed a different one', () => {
    const a = new Prng(123), b = new Prng(123), c = new Prng(124);
    const sa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).to.deep.equal(sa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).to.not.deep.equal(sa);
  });
  it('stays in range and covers it', () => {
    const r = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(3, 8);
      expect(v).to.be.within(3, 8);
      seen.add(v);
      const f = r.next();
      expect(f).to.be.at.least(0).and.below(1);
    }
    expect([...seen].sort()).to.deep.equal([3, 4, 5, 6, 7, 8]);
  });
  it('forks are independent and reproducible', () => {
    expect(new Prng(1).fork('x').nextU32()).to.equal(new Prng(1).fork('x').nextU32());
    expect(new Prng(1).fork('x').nextU32()).to.not.equal(new Prng(1).fork('y').nextU32());
  });
});

describe('nemesis: seeded schedule', () => {
  const opts = { durationMs: 60_000, faults: ALL_FAULT_KINDS };
  it('is a pure function of (seed, topology, options)', () => {
    const a = generateSchedule(99, topo, opts);
    const b = generateSchedule(99, topo, opts);
    expect(a.length).to.be.greaterThan(3);
    expect(b).to.deep.equal(a);
    expect(generateSchedule(100, topo, opts)).to.not.deep.equal(a);
  });
  it('keeps faults inside the duration, ordered, non-overlapping, with valid targets', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const s = generateSchedule(seed, topo, { ...opts, minGapMs: 1000, maxGapMs: 2000 });
      let end = 0;
      for (const f of s) {
        expect(f.at).to.be.at.least(end + 1000);
        expect(f.at + f.duration).to.be.at.most(60_000);
        end = f.at + f.duration;
        if (f.fault.startsWith('toxic-')) expect(f.targets).to.deep.equal(['client-haproxy']);
        else if (f.fault === 'partition-split') {
          expect([...f.targets].sort()).to.deep.equal(['h1', 'h2', 'h3']);
          const spec = partitionSpecOf(f);
          expect(spec.kind).to.equal('split');
        } else if (f.fault.startsWith('partition-') || f.fault === 'stop-host') f.targets.forEach((t) => expect(['h1', 'h2', 'h3']).to.include(t));
        else expect(['r1', 'r2', 'r3', MASTER_TARGET]).to.include(f.targets[0]);
      }
    }
  });
  it('aims a configurable share of instance faults at whatever is master when they fire', () => {
    const instanceFaults = (bias: number) =>
      generateSchedule(3, topo, { durationMs: 600_000, faults: ['kill', 'pause'], masterBias: bias, minGapMs: 100, maxGapMs: 200, minFaultMs: 100, maxFaultMs: 200 });
    expect(instanceFaults(0).some((f) => f.targets[0] === MASTER_TARGET)).to.equal(false);
    expect(instanceFaults(1).every((f) => f.targets[0] === MASTER_TARGET)).to.equal(true);
    const half = instanceFaults(0.5);
    const share = half.filter((f) => f.targets[0] === MASTER_TARGET).length / half.length;
    expect(share).to.be.within(0.35, 0.65);
  });

  it('leaves out what the topology or environment cannot do', () => {
    const noParts = generateSchedule(5, topo, { ...opts, partitions: false });
    expect(noParts.some((f) => f.fault.startsWith('partition-'))).to.equal(false);
    const noToxi = applicableFaults({ ...topo, toxiproxy: undefined } as Topology, ALL_FAULT_KINDS, true);
    expect(noToxi.some((k) => k.startsWith('toxic-'))).to.equal(false);
    expect(generateSchedule(5, topo, { ...opts, faults: [] })).to.deep.equal([]);
  });
});
