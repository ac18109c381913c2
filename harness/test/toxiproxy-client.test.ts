import { expect } from 'chai';
import { Toxiproxy, type Latency } from 'toxiproxy-node-client';
import { ToxiproxyClient } from '../src/toxiproxy/client.js';
import { startToxiproxyServer, type ToxiproxyServer } from '../src/toxiproxy/server.js';
import { connectError, RecordingClient, startEchoServer, type EchoServer } from './fixtures/toxiproxy-testkit.js';

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

async function roundTripMs(port: number): Promise<number> {
  const c = await RecordingClient.connect(port);
  try {
    const t0 = performance.now();
    c.socket.write('x');
    return (await c.waitBytes(1, 3000)) - t0;
  } finally {
    c.destroy();
  }
}

// toxiproxy-node-client 4.x, unchanged, against our server; then the harness's ToxiproxyClient built on it.
describe('toxiproxy with toxiproxy-node-client', function () {
  this.timeout(10000);
  let server: ToxiproxyServer;
  let echo: EchoServer;

  beforeEach(async () => {
    echo = await startEchoServer();
    server = await startToxiproxyServer({ port: 0 });
  });
  afterEach(async () => {
    await server.close();
    await echo.close();
  });

  it('createProxy, get, getAll, update, addToxic, getToxic, Toxic.update, remove, reset, getVersion', async () => {
    const tp = new Toxiproxy(server.url);
    expect(await tp.getVersion()).to.equal('{"version": "2.12.0"}\n');

    const created = await tp.createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: echo.address });
    expect(created.name).to.equal('redis');
    expect(created.enabled).to.equal(true);
    expect(created.upstream).to.equal(echo.address);
    const port = portOf(created.listen);
    expect(port).to.be.greaterThan(0);

    const got = await tp.get('redis');
    expect(got.toJson()).to.deep.equal(created.toJson());
    expect(Object.keys(await tp.getAll())).to.deep.equal(['redis']);

    const toxic = await got.addToxic<Latency>({ name: 'lag', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 200, jitter: 0 } });
    expect(toxic.toJson()).to.deep.equal({ attributes: { latency: 200, jitter: 0 }, name: 'lag', stream: 'downstream', toxicity: 1, type: 'latency' });
    expect(await roundTripMs(port)).to.be.at.least(200);

    const fetched = await got.getToxic<Latency>('lag');
    expect(fetched.attributes.latency).to.equal(200);
    const updated = await fetched.update({ ...fetched.toJson(), attributes: { latency: 400, jitter: 0 } });
    expect(updated.attributes.latency).to.equal(400);
    expect(await roundTripMs(port)).to.be.at.least(400);

    await updated.remove();
    expect(await roundTripMs(port)).to.be.below(190);

    const disabled = await got.update({ enabled: false, listen: got.listen, upstream: got.upstream });
    expect(disabled.enabled).to.equal(false);
    expect(await connectError(port)).to.equal('ECONNREFUSED');

    await got.addToxic({ name: 'cut', type: 'limit_data', stream: 'upstream', toxicity: 1, attributes: { bytes: 1 } });
    await tp.reset();
    const afterReset = await tp.get('redis');
    expect(afterReset.enabled).to.equal(true);
    expect(await roundTripMs(port)).to.be.below(190);
    const raw = (await (await fetch(`${server.url}/proxies/redis/toxics`)).json()) as unknown[];
    expect(raw).to.deep.equal([]);

    await afterReset.remove();
    expect(await tp.getAll()).to.deep.equal({});
    let error: unknown;
    await tp.get('redis').catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('Request failed with status code 404');
  });

  it('populate returns the proxies by name', async () => {
    const tp = new Toxiproxy(server.url);
    const proxies = await tp.populate([
      { name: 'a', listen: '127.0.0.1:0', upstream: echo.address },
      { name: 'b', listen: '127.0.0.1:0', upstream: echo.address, enabled: false },
    ]);
    expect(Object.keys(proxies).sort()).to.deep.equal(['a', 'b']);
    expect(proxies['a']?.enabled).to.equal(true);
    expect(proxies['b']?.enabled).to.equal(false);
    expect(await roundTripMs(portOf(proxies['a']?.listen ?? ''))).to.be.below(200);
  });

  it('ToxiproxyClient: ensureProxy is idempotent, toxics add and remove, down disables, reset restores', async () => {
    const faults = new ToxiproxyClient(server.url);
    const p = await faults.ensureProxy('link', '127.0.0.1:0', echo.address);
    expect(p.enabled).to.equal(true);
    const again = await faults.ensureProxy('link', '127.0.0.1:0', echo.address);
    expect(again.listen).to.equal(p.listen);
    const port = portOf(p.listen);

    const t = await faults.addToxic('link', { type: 'latency', attributes: { latency: 300 } });
    expect(t).to.deep.include({ name: 'latency_downstream', stream: 'downstream', toxicity: 1 });
    expect(t.attributes).to.deep.equal({ latency: 300, jitter: 0 });
    expect(await roundTripMs(port)).to.be.at.least(300);
    await faults.removeToxic('link', 'latency_downstream');
    expect(await roundTripMs(port)).to.be.below(250);

    await faults.addToxic('link', { type: 'down' });
    expect(await connectError(port)).to.equal('ECONNREFUSED');
    await faults.removeToxic('link', 'down');
    expect(await roundTripMs(port)).to.be.below(250);

    await faults.setEnabled('link', false);
    await faults.addToxic('link', { type: 'timeout', stream: 'upstream', attributes: { timeout: 0 }, name: 'hole' });
    await faults.reset();
    expect(await roundTripMs(port)).to.be.below(250);
    expect((await faults.listProxies())[0]).to.deep.include({ name: 'link', enabled: true });

    // ensureProxy re-enables a disabled proxy and follows a new upstream.
    await faults.setEnabled('link', false);
    const other = await startEchoServer();
    try {
      const moved = await faults.ensureProxy('link', '127.0.0.1:0', other.address);
      expect(moved).to.deep.include({ enabled: true, upstream: other.address, listen: p.listen });
      await roundTripMs(port);
      expect(other.accepted).to.equal(1);
    } finally {
      await other.close();
    }

    let error: unknown;
    await faults.addToxic('nope', { type: 'latency' }).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal(`toxiproxy ${server.url}: add latency toxic latency_downstream to nope: Request failed with status code 404`);
  });
});
