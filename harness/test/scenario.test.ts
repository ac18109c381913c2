import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTopology } from '../src/topology/load.js';
import { shippedTopologiesDir } from '../src/topology/paths.js';
import { runScenarios, skipReason } from '../src/engine/run.js';
import { getScenario } from '../src/scenarios/index.js';
import { keySlot, ROUTING_KEYS } from '../src/scenarios/cluster.js';
import type { Deployment } from '../src/drivers/driver.js';
import type { HistoryEvent } from '../src/history/events.js';
import { attributeLosses, chaosLossBudget, persistenceOff } from '../src/scenarios/chaos.js';
import { medianLatency } from '../src/scenarios/toxic.js';

describe('scenarios', function () {
  this.timeout(120_000);

  it('key1/key2/key3 hash to the seed\'s slots 9189/4998/935 (and hash tags are honoured)', () => {
    for (const [k, slot] of Object.entries(ROUTING_KEYS)) expect(keySlot(k)).to.equal(slot);
    expect(keySlot('{key1}.other')).to.equal(9189);
    expect(keySlot('foo{}bar')).to.equal(keySlot('foo{}bar'));
    expect(keySlot('123456789')).to.equal(12739);
  });

  it('says why a scenario cannot run instead of passing silently', () => {
    const sentinel = loadTopology(join(shippedTopologiesDir(), 'sentinel-3.yml'));
    const cluster = loadTopology(join(shippedTopologiesDir(), 'cluster-3x2.yml'));
    expect(skipReason(getScenario('cluster-routing')!, sentinel)).to.contain('cluster');
    expect(skipReason(getScenario('sentinel-failover')!, cluster)).to.contain('sentinel');
    const noPartitions = { partitionUnsupportedReason: 'not root' } as Deployment;
    expect(skipReason(getScenario('partition-isolate-master')!, sentinel, noPartitions)).to.equal('needs network partitions: not root');
    expect(skipReason(getScenario('partition-isolate-master')!, sentinel)).to.equal(undefined);
    const noHaproxy = { ...sentinel, haproxy: undefined };
    expect(skipReason(getScenario('haproxy-routing')!, noHaproxy)).to.contain('HAProxy');
  });

  it('random-chaos attributes lost writes to the fault that cost them', () => {
    const ev: HistoryEvent[] = [
      { type: 'op', scenario: 's', process: 0, f: 'add', via: 'x', phase: 'ok', value: 'a', time: 100 },
      { type: 'fault', scenario: 's', name: 'restart', targets: ['m1'], phase: 'start', time: 1000 },
      { type: 'fault', scenario: 's', name: 'restart', targets: ['m1'], phase: 'end', time: 1000 },
      { type: 'op', scenario: 's', process: 0, f: 'add', via: 'x', phase: 'ok', value: 'b', time: 5000 },
      { type: 'fault', scenario: 's', name: 'partition-isolate', targets: ['h2'], phase: 'start', time: 6000 },
      { type: 'op', scenario: 's', process: 0, f: 'add', via: 'x', phase: 'ok', value: 'c', time: 7000 },
      { type: 'fault', scenario: 's', name: 'partition-isolate', targets: ['h2'], phase: 'end', time: 9000 },
      { type: 'op', scenario: 's', process: 0, f: 'add', via: 'x', phase: 'ok', value: 'd', time: 20000 },
    ];
    expect(attributeLosses(ev, ['a', 'b', 'c', 'd'])).to.deep.equal(['restart(m1)@1000: 1', 'partition-isolate(h2)@6000: 2', 'after the last fault: 1']);
    expect(attributeLosses(ev, [])).to.deep.equal([]);
  });

  it('random-chaos knows when no instance persists its data', () => {
    const conf = (content: string) => ({ kind: 'redis.conf', content });
    expect(persistenceOff([conf('port 1\nsave ""\nappendonly no\n'), conf('save ""\n')])).to.equal(true);
    expect(persistenceOff([conf('save ""\nappendonly yes\n')])).to.equal(false);
    expect(persistenceOff([conf('save 60 1\n')])).to.equal(false);
    expect(persistenceOff([{ kind: 'sentinel.conf', content: 'save ""' }])).to.equal(false);
  });

  it('random-chaos allows partition losses only up to failure detection', () => {
    const cluster = loadTopology(join(shippedTopologiesDir(), 'cluster-3x2.yml'), { profile: 'ci' });
    const part = { at: 0, fault: 'partition-isolate' as const, targets: ['redis1'], duration: 5000 };
    const kill = { at: 0, fault: 'kill' as const, targets: ['m1'], duration: 5000 };
    expect(chaosLossBudget([kill], cluster)).to.equal(200);
    expect(chaosLossBudget([kill, part, part], cluster)).to.equal(200 + 2 * 5000);
  });

  it('toxic-client-link measures the median write latency inside a window', () => {
    const op = (time: number, process: number, phase: 'invoke' | 'ok'): HistoryEvent => ({ type: 'op', scenario: 's', process, f: 'add', via: 'x', phase, value: String(process), time });
    const ev = [op(0, 1, 'invoke'), op(10, 1, 'ok'), op(100, 2, 'invoke'), op(500, 2, 'ok'), op(110, 3, 'invoke'), op(520, 3, 'ok'), op(120, 4, 'invoke'), op(900, 4, 'ok')];
    expect(medianLatency(ev, 100, 1000)).to.equal(410);
    expect(medianLatency(ev, 2000, 3000)).to.equal(undefined);
    expect(skipReason(getScenario('toxic-client-link')!, loadTopology(join(shippedTopologiesDir(), 'sentinel-3.yml')))).to.contain('Toxiproxy');
  });

  describe('cluster-routing on cluster-3x2 with real Redis', () => {
    let out: string;
    before(() => {
      out = mkdtempSync(join(tmpdir(), 'chaos-scn-'));
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    it('finds MOVED to the owning master for key1/key2/key3 and reads every key back through the Cluster client', async () => {
      const topology = loadTopology(join(shippedTopologiesDir(), 'cluster-3x2.yml'), { profile: 'ci' });
      const res = await runScenarios({ topology, scenarios: ['cluster-routing'], target: 'redis', driverName: 'local', seed: 11, outDir: out, commandLine: 'test' });
      const s = res.scenarios[0]!;
      const detail = s.checks.map((c) => `${c.name}=${c.verdict}: ${c.detail}`).join('\n');
      expect(s.verdict, `${s.error ?? ''}\n${detail}`).to.equal('pass');
      const moved = s.checks.find((c) => c.name === 'moved-redirects')!;
      // One probe per key on each of the three masters: one owner answers OK, two answer MOVED.
      expect(moved.data?.['probes']).to.equal(9);
      expect(s.checks.find((c) => c.name === 'slot-coverage')!.verdict).to.equal('pass');
      expect(s.writes.acknowledged).to.be.greaterThan(100);
      expect(s.writes.lost).to.equal(0);
    });
  });
});
