import { expect } from 'chai';
import { MiniDeployment } from './fixtures/mini-deployment.js';
import { waitFor } from '../src/support/time.js';
import { HistoryWriter } from '../src/history/writer.js';
import type { OpEvent } from '../src/history/events.js';
import { Workload } from '../src/workload/workload.js';
import { checkAcknowledgedWrites, checkCounter } from '../src/checkers/index.js';
import { classifyError, natMapFor, parsePath, pathLabel } from '../src/clients/index.js';
import type { Deployment } from '../src/drivers/driver.js';

function opsOf(h: HistoryWriter): OpEvent[] {
  return h.events().filter((e): e is OpEvent => e.type === 'op');
}

/** Every invoke is followed by exactly one completion of the same process, and an 'info' retires the process. */
function assertWellFormed(ops: OpEvent[]): void {
  const open = new Map<number, OpEvent>();
  const retired = new Set<number>();
  for (const o of ops) {
    if (o.f === 'read-all') continue;
    if (o.phase === 'invoke') {
      expect(open.has(o.process), `process ${o.process} invoked twice`).to.equal(false);
      expect(retired.has(o.process), `retired process ${o.process} reused`).to.equal(false);
      open.set(o.process, o);
    } else {
      const inv = open.get(o.process);
      expect(inv, `completion without invoke for ${o.process}`).to.not.equal(undefined);
      expect(o.value ?? null).to.satisfy((v: unknown) => o.f === 'incr' || v === inv!.value);
      open.delete(o.process);
      if (o.phase === 'info') retired.add(o.process);
    }
  }
  expect(open.size, 'ops left without completion').to.equal(0);
}

describe('workload against real redis-server', function () {
  this.timeout(60_000);
  let dep: MiniDeployment;
  let wl: Workload | undefined;
  before(async () => {
    dep = await MiniDeployment.start(1);
  });
  afterEach(async () => {
    await wl?.close();
    wl = undefined;
  });
  after(async () => {
    await dep?.down();
  });

  it('set workload on the master: every add acknowledged and read back', async () => {
    const h = new HistoryWriter();
    wl = new Workload(dep, h, { kind: 'set', path: { kind: 'direct', instance: 'm' }, processes: 8, keyPrefix: 'wt1' });
    await wl.start();
    await waitFor('200 acknowledged adds', () => wl!.stats.ok >= 200, 10_000);
    await wl.stop();
    const read = await wl.finalRead();
    const ops = opsOf(h);
    assertWellFormed(ops);
    const r = checkAcknowledgedWrites(h.events());
    expect(r.result.verdict).to.equal('pass');
    expect(r.counts.acknowledged).to.equal(wl.stats.ok);
    expect(r.counts.lost).to.equal(0);
    expect(read).to.have.length(wl.stats.ok);
    expect(new Set(ops.filter((o) => o.phase === 'invoke' && o.f === 'add').map((o) => o.process)).size).to.equal(8);
  });

  it('writes to a replica are definite failures (READONLY), nothing acknowledged', async () => {
    const h = new HistoryWriter();
    wl = new Workload(dep, h, { kind: 'set', path: { kind: 'direct', instance: 'r1' }, processes: 4, keyPrefix: 'wt2' });
    await wl.start();
    await waitFor('20 failed adds', () => wl!.stats.fail >= 20, 10_000);
    await wl.stop();
    const ops = opsOf(h);
    assertWellFormed(ops);
    const fails = ops.filter((o) => o.phase === 'fail');
    expect(fails.length).to.be.at.least(20);
    for (const f of fails) expect(f.error).to.match(/^READONLY/);
    expect(ops.filter((o) => o.phase === 'ok')).to.have.length(0);
    expect(wl.stats.info).to.equal(0);
  });

  it('key-per-write and counter workloads read back what was acknowledged', async () => {
    const h = new HistoryWriter();
    const keys = new Workload(dep, h, { kind: 'keys', path: { kind: 'direct', instance: 'm' }, processes: 4, keyPrefix: 'wt3' });
    const counter = new Workload(dep, h, { kind: 'counter', path: { kind: 'direct', instance: 'm' }, processes: 4, keyPrefix: 'wt3' });
    try {
      await keys.start();
      await counter.start();
      await waitFor('100 of each', () => keys.stats.ok >= 100 && counter.stats.ok >= 100, 10_000);
      await keys.stop();
      await counter.stop();
      await keys.finalRead();
      const keyEvents = h.events().filter((e) => e.type !== 'op' || e.via === keys.via);
      const kr = checkAcknowledgedWrites(keyEvents.filter((e) => e.type === 'op' && (e.f === 'write' || (e.f === 'read-all' && Array.isArray(e.value) && String(e.value[0]).includes('=')))));
      expect(kr.result.verdict).to.equal('pass');
      expect(kr.counts.acknowledged).to.equal(keys.stats.ok);
      const h2 = new HistoryWriter();
      for (const e of h.events()) if (e.type === 'op' && e.f === 'incr') h2.append(e);
      const c2 = new Workload(dep, h2, { kind: 'counter', path: { kind: 'direct', instance: 'm' }, processes: 1, keyPrefix: 'wt3' });
      await c2.finalRead();
      await c2.close();
      const cc = checkCounter(h2.events());
      expect(cc.verdict, cc.detail).to.equal('pass');
      expect(cc.data?.['final']).to.equal(counter.stats.ok);
    } finally {
      await keys.close();
      await counter.close();
    }
  });

  it('killing the master mid-run yields info/fail outcomes, retires processes, and the survivors still check', async () => {
    const h = new HistoryWriter();
    wl = new Workload(dep, h, { kind: 'set', path: { kind: 'direct', instance: 'm' }, processes: 8, keyPrefix: 'wt4', timeouts: { connectMs: 300, commandMs: 300 } });
    await wl.start();
    await waitFor('some acknowledged adds', () => wl!.stats.ok >= 100, 10_000);
    await dep.kill('m');
    await waitFor('outcomes after the kill', () => wl!.stats.fail + wl!.stats.info >= 8, 10_000);
    await dep.start('m');
    await waitFor('writes again', () => wl!.stats.ok >= 200 && wl!.lastOkInvokedAt > 0, 15_000);
    await wl.stop();
    const ops = opsOf(h);
    assertWellFormed(ops);
    expect(ops.some((o) => o.phase === 'info' || o.phase === 'fail')).to.equal(true);
    // Persistence is off: the restarted master is empty, so the checker must see the loss.
    await wl.finalRead();
    const r = checkAcknowledgedWrites(h.events());
    expect(r.counts.lost).to.be.greaterThan(0);
    expect(r.result.verdict).to.equal('fail');
  });

  it('maps announced addresses to reachable ones only when they differ (docker), and labels paths', () => {
    const fake = (internalPort: number): Deployment =>
      Object.create(dep, { internalAddress: { value: (n: string) => ({ host: `10.0.0.${n === 'm' ? 1 : 2}`, port: internalPort }) } }) as Deployment;
    const nat = natMapFor(fake(6379))!;
    expect(nat['10.0.0.1:6379']).to.deep.equal(dep.endpoint('m'));
    expect(nat['10.0.0.2:6379']).to.deep.equal(dep.endpoint('r1'));
    expect(natMapFor(dep)).to.equal(undefined);
    for (const label of ['haproxy', 'sentinel', 'cluster', 'direct:redis1', 'toxiproxy:client-haproxy']) expect(pathLabel(parsePath(label))).to.equal(label);
    expect(() => parsePath('bogus')).to.throw('unknown client path');
  });

  it('classifies errors: server replies and unsent commands are fail, timeouts and closed connections info', () => {
    const reply = new Error('READONLY You can\'t write against a read only replica.');
    reply.name = 'ReplyError';
    expect(classifyError(reply).type).to.equal('fail');
    expect(classifyError(new Error("Stream isn't writeable and enableOfflineQueue options is false")).type).to.equal('fail');
    expect(classifyError(new Error('Command timed out')).type).to.equal('info');
    expect(classifyError(new Error('Connection is closed.')).type).to.equal('info');
    expect(classifyError(new Error('Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.')).type).to.equal('info');
  });
});
