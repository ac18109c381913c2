import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MiniDeployment, freePort } from './fixtures/mini-deployment.js';
import { HistoryWriter } from '../src/history/writer.js';
import type { FaultEvent } from '../src/history/events.js';
import type { Deployment, Endpoint } from '../src/drivers/driver.js';
import { applyFault } from '../src/nemesis/faults.js';
import { NemesisExecutor } from '../src/nemesis/executor.js';
import { Workload } from '../src/workload/workload.js';
import { waitFor } from '../src/support/time.js';
import { startToxiproxyServer, type ToxiproxyServer } from '../src/toxiproxy/server.js';

function faults(h: HistoryWriter): FaultEvent[] {
  return h.events().filter((e): e is FaultEvent => e.type === 'fault');
}

describe('nemesis: faults applied to a real deployment and Toxiproxy', function () {
  this.timeout(60_000);
  let dep: MiniDeployment;
  let toxi: ToxiproxyServer;
  let linked: Deployment;
  let linkEp: Endpoint;
  const clients: Redis[] = [];
  before(async () => {
    dep = await MiniDeployment.start(0);
    toxi = await startToxiproxyServer({ host: '127.0.0.1', port: await freePort() });
    linkEp = { host: '127.0.0.1', port: await freePort() };
    const res = await fetch(`${toxi.url}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name: 'client-m', listen: `127.0.0.1:${linkEp.port}`, upstream: `127.0.0.1:${dep.endpoint('m').port}`, enabled: true }),
    });
    expect(res.status).to.equal(201);
    // The mini deployment plus the Toxiproxy link, as a driver with a toxiproxy host would expose them.
    linked = Object.create(dep, {
      toxiproxyUrl: { value: toxi.url },
      linkEndpoint: { value: (name: string) => { if (name !== 'client-m') throw new Error(name); return linkEp; } },
    }) as Deployment;
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await toxi?.close();
    await dep?.down();
  });

  function viaLink(): Redis {
    const c = new Redis({ host: linkEp.host, port: linkEp.port, maxRetriesPerRequest: 0, commandTimeout: 3000, retryStrategy: () => 50 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  it('toxic-latency slows the link while in effect and is removed by its undo', async () => {
    const h = new HistoryWriter();
    const c = viaLink();
    await c.ping();
    const undo = await applyFault(linked, h, { at: 0, fault: 'toxic-latency', targets: ['client-m'], duration: 0, attributes: { latency: 300, jitter: 0 } });
    let t = performance.now();
    await c.ping();
    expect(performance.now() - t).to.be.at.least(280);
    await undo();
    t = performance.now();
    await c.ping();
    expect(performance.now() - t).to.be.below(250);
    expect(faults(h).map((f) => [f.name, f.phase, f.targets[0]])).to.deep.equal([['toxic-latency', 'start', 'client-m'], ['toxic-latency', 'end', 'client-m']]);
  });

  it('toxic-down cuts the link until undone', async () => {
    const h = new HistoryWriter();
    const undo = await applyFault(linked, h, { at: 0, fault: 'toxic-down', targets: ['client-m'], duration: 0 });
    const c = new Redis({ host: linkEp.host, port: linkEp.port, maxRetriesPerRequest: 0, connectTimeout: 300, commandTimeout: 300, retryStrategy: () => null, lazyConnect: true });
    c.on('error', () => undefined);
    clients.push(c);
    let failed = false;
    try {
      await c.connect();
      await c.ping();
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    await undo();
    const d = viaLink();
    expect(await d.ping()).to.equal('PONG');
  });

  it('a workload through the link records timeouts under toxic-timeout as info and recovers after the undo', async () => {
    const h = new HistoryWriter();
    const wl = new Workload(linked, h, { kind: 'set', path: { kind: 'toxiproxy', link: 'client-m' }, processes: 4, connections: 1, keyPrefix: 'nf', timeouts: { connectMs: 300, commandMs: 300 } });
    try {
      await wl.start();
      expect(wl.via).to.equal('toxiproxy:client-m');
      await waitFor('acknowledged adds', () => wl.stats.ok >= 50, 10_000);
      const undo = await applyFault(linked, h, { at: 0, fault: 'toxic-timeout', targets: ['client-m'], duration: 0, attributes: { timeout: 0 } });
      await waitFor('timeouts recorded as info', () => wl.stats.info >= 4, 10_000);
      await undo();
      const after = h.now();
      await waitFor('writes acknowledged again', () => wl.lastOkInvokedAt > after, 10_000);
      await wl.stop();
      const infos = h.events().filter((e) => e.type === 'op' && e.phase === 'info');
      expect(infos.length).to.be.at.least(4);
      for (const e of infos) expect(e.type === 'op' && e.error).to.match(/timed out|Socket timeout|closed|max retries/i);
    } finally {
      await wl.close();
    }
  });

  it('kill and pause act on the process, and the executor records start/end in order', async () => {
    const h = new HistoryWriter();
    const ex = new NemesisExecutor(dep, h);
    const res = await ex.run([
      { at: 0, fault: 'kill', targets: ['m'], duration: 200 },
      { at: 300, fault: 'pause', targets: ['m'], duration: 200 },
    ]);
    expect(res).to.deep.equal({ applied: 2, errors: [], skipped: [] });
    expect(dep.isRunning('m')).to.equal(true);
    const fs = faults(h);
    expect(fs.map((f) => `${f.name}:${f.phase}`)).to.deep.equal(['kill:start', 'kill:end', 'pause:start', 'pause:end']);
    expect(fs[1]!.time - fs[0]!.time).to.be.at.least(190);
    expect(fs[2]!.time - fs[0]!.time).to.be.at.least(290);
    const c = dep.client('m');
    clients.push(c);
    expect(await c.ping()).to.equal('PONG');
  });

  it('resolves a symbolic target when the fault fires, and records one that matches nothing then as skipped (not an error)', async () => {
    const h = new HistoryWriter();
    const ex = new NemesisExecutor(dep, h);
    const bad = await ex.run([{ at: 0, fault: 'pause', targets: ['@master'], duration: 10 }]);
    expect(bad.errors).to.deep.equal([]);
    expect(bad.applied).to.equal(0);
    expect(bad.skipped).to.deep.equal(['#1 pause @master: no instance matches @master right now']);
    expect(h.events().some((e) => e.type === 'mark' && e.name === 'fault-skipped')).to.equal(true);
    ex.resolve = (sym) => (sym === '@master' ? ['m'] : []);
    const ok = await ex.run([{ at: 0, fault: 'pause', targets: ['@master'], duration: 50 }]);
    expect(ok).to.deep.equal({ applied: 1, errors: [], skipped: [] });
    expect(faults(h).map((f) => `${f.name}:${f.phase}:${f.targets.join(',')}`)).to.deep.equal(['pause:start:m', 'pause:end:m']);
  });

  it('a fault the deployment cannot do is recorded as an error, not thrown', async () => {
    const h = new HistoryWriter();
    const res = await new NemesisExecutor(dep, h).run([{ at: 0, fault: 'partition-isolate', targets: ['local'], duration: 10 }]);
    expect(res.applied).to.equal(0);
    expect(res.errors[0]).to.contain('partitions unsupported');
    expect(h.events().some((e) => e.type === 'mark' && e.name === 'fault-error')).to.equal(true);
  });
});
