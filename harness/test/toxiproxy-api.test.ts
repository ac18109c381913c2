import { expect } from 'chai';
import net from 'node:net';
import { startToxiproxyServer, type ToxiproxyServer } from '../src/toxiproxy/server.js';
import { connectError, RecordingClient, startEchoServer, type EchoServer } from './fixtures/toxiproxy-testkit.js';

interface Res {
  status: number;
  text: string;
  headers: Headers;
}

// Status codes, error bodies and headers of Toxiproxy 2.12's HTTP API (shared/notes/toxiproxy-api.md).
describe('toxiproxy HTTP API', function () {
  this.timeout(10000);
  let server: ToxiproxyServer;
  let echo: EchoServer;
  let busy: net.Server;
  let busyPort: number;

  async function call(method: string, path: string, body?: string | unknown, headers: Record<string, string> = {}): Promise<Res> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
  const parsed = <T>(r: Res): T => JSON.parse(r.text) as T;

  before(async () => {
    echo = await startEchoServer();
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as net.AddressInfo).port;
  });
  after(async () => {
    await echo?.close();
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  });
  beforeEach(async () => {
    server = await startToxiproxyServer({ port: 0 });
    expect((await call('POST', '/proxies', { name: 'p', listen: '127.0.0.1:0', upstream: echo.address })).status).to.equal(201);
    expect((await call('POST', '/proxies/p/toxics', { name: 'lat', type: 'latency', attributes: { latency: 10 } })).status).to.equal(200);
  });
  afterEach(async () => {
    await server.close();
  });

  const errorCases: { title: string; method: string; path: string; body?: string | unknown; headers?: Record<string, string>; status: number; error?: string; errorPrefix?: string; text?: string }[] = [
    { title: 'unknown path', method: 'GET', path: '/nope', status: 404, text: '404 page not found\n' },
    { title: 'trailing slash is another path', method: 'GET', path: '/proxies/', status: 404, text: '404 page not found\n' },
    { title: 'wrong method', method: 'DELETE', path: '/version', status: 405, text: '' },
    { title: 'wrong method on proxies', method: 'PUT', path: '/proxies', status: 405, text: '' },
    { title: 'browser user agent', method: 'GET', path: '/version', headers: { 'User-Agent': 'Mozilla/5.0 (X11)' }, status: 403, text: 'User agent not allowed\n' },
    { title: 'create: empty body', method: 'POST', path: '/proxies', body: '', status: 400, error: 'bad request body: EOF' },
    { title: 'create: malformed JSON', method: 'POST', path: '/proxies', body: '{"name":', status: 400, errorPrefix: 'bad request body: ' },
    { title: 'create: wrong field type', method: 'POST', path: '/proxies', body: { name: 5, upstream: 'x:1' }, status: 400, error: 'bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string' },
    { title: 'create: no name', method: 'POST', path: '/proxies', body: { upstream: 'x:1' }, status: 400, error: 'missing required field: name' },
    { title: 'create: no upstream', method: 'POST', path: '/proxies', body: { name: 'n' }, status: 400, error: 'missing required field: upstream' },
    { title: 'create: duplicate name (before binding)', method: 'POST', path: '/proxies', body: { name: 'p', listen: 'not an address', upstream: 'x:1' }, status: 409, error: 'proxy already exists' },
    { title: 'show: unknown proxy', method: 'GET', path: '/proxies/missing', status: 404, error: 'proxy not found' },
    { title: 'update: unknown proxy', method: 'POST', path: '/proxies/missing', body: {}, status: 404, error: 'proxy not found' },
    { title: 'patch: unknown proxy', method: 'PATCH', path: '/proxies/missing', body: {}, status: 404, error: 'proxy not found' },
    { title: 'update: bad body', method: 'POST', path: '/proxies/p', body: '[', status: 400, errorPrefix: 'bad request body: ' },
    { title: 'delete: unknown proxy', method: 'DELETE', path: '/proxies/missing', status: 404, error: 'proxy not found' },
    { title: 'toxics: unknown proxy', method: 'GET', path: '/proxies/missing/toxics', status: 404, error: 'proxy not found' },
    { title: 'add toxic: proxy checked first', method: 'POST', path: '/proxies/missing/toxics', body: 'garbage', status: 404, error: 'proxy not found' },
    { title: 'add toxic: bad body', method: 'POST', path: '/proxies/p/toxics', body: 'garbage', status: 400, errorPrefix: 'bad request body: ' },
    { title: 'add toxic: stream checked before type', method: 'POST', path: '/proxies/p/toxics', body: { type: 'nope', stream: 'sideways' }, status: 400, error: 'stream was invalid, can be either upstream or downstream' },
    { title: 'add toxic: unknown type', method: 'POST', path: '/proxies/p/toxics', body: { type: 'nope' }, status: 400, error: 'invalid toxic type' },
    { title: 'add toxic: down is not a toxic', method: 'POST', path: '/proxies/p/toxics', body: { type: 'down' }, status: 400, error: 'invalid toxic type' },
    { title: 'add toxic: duplicate name', method: 'POST', path: '/proxies/p/toxics', body: { name: 'lat', type: 'latency' }, status: 409, error: 'toxic already exists' },
    { title: 'add toxic: names unique across streams', method: 'POST', path: '/proxies/p/toxics', body: { name: 'lat', type: 'bandwidth', stream: 'upstream' }, status: 409, error: 'toxic already exists' },
    { title: 'add toxic: duplicate checked before attributes', method: 'POST', path: '/proxies/p/toxics', body: { name: 'lat', type: 'latency', attributes: { latency: 'x' } }, status: 409, error: 'toxic already exists' },
    {
      title: 'add toxic: non-integer attribute',
      method: 'POST',
      path: '/proxies/p/toxics',
      body: { type: 'latency', attributes: { latency: 1.5 } },
      status: 400,
      error: 'bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64',
    },
    { title: 'add toxic: string toxicity', method: 'POST', path: '/proxies/p/toxics', body: { type: 'latency', toxicity: 'high' }, status: 400, errorPrefix: 'bad request body: ' },
    { title: 'show toxic: unknown toxic', method: 'GET', path: '/proxies/p/toxics/none', status: 404, error: 'toxic not found' },
    { title: 'show toxic: unknown proxy', method: 'GET', path: '/proxies/none/toxics/lat', status: 404, error: 'proxy not found' },
    { title: 'update toxic: unknown toxic', method: 'POST', path: '/proxies/p/toxics/none', body: {}, status: 404, error: 'toxic not found' },
    { title: 'update toxic: bad attribute', method: 'PATCH', path: '/proxies/p/toxics/lat', body: { attributes: { jitter: 'x' } }, status: 400, errorPrefix: 'bad request body: json: cannot unmarshal string' },
    { title: 'delete toxic: unknown toxic', method: 'DELETE', path: '/proxies/p/toxics/none', status: 404, error: 'toxic not found' },
    { title: 'delete toxic: unknown proxy', method: 'DELETE', path: '/proxies/none/toxics/lat', status: 404, error: 'proxy not found' },
  ];

  for (const c of errorCases) {
    it(`${c.title}: ${c.method} ${c.path} -> ${c.status}`, async () => {
      const r = await call(c.method, c.path, c.body, c.headers);
      expect(r.status).to.equal(c.status);
      expect(r.headers.get('x-toxiproxy-request-id')).to.match(/^[0-9a-v]{20}$/);
      if (c.text !== undefined) expect(r.text).to.equal(c.text);
      if (c.error !== undefined || c.errorPrefix !== undefined) {
        expect(r.text.endsWith('}\n'), r.text).to.equal(true);
        expect(r.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
        const body = parsed<{ error: string; status: number }>(r);
        expect(Object.keys(body)).to.deep.equal(['error', 'status']);
        expect(body.status).to.equal(c.status);
        if (c.error !== undefined) expect(body.error).to.equal(c.error);
        else expect(body.error.startsWith(c.errorPrefix as string), body.error).to.equal(true);
      }
    });
  }

  it('create: bind failure is 500 with the bind error', async () => {
    const r = await call('POST', '/proxies', { name: 'b', listen: `127.0.0.1:${busyPort}`, upstream: echo.address });
    expect(r.status).to.equal(500);
    expect(parsed<{ error: string }>(r).error).to.equal(`listen tcp 127.0.0.1:${busyPort}: bind: address already in use`);
    expect((await call('GET', '/proxies/b')).status).to.equal(404);
  });

  it('GET /version: exact body and content type', async () => {
    const r = await call('GET', '/version');
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('{"version": "2.12.0"}\n');
    expect(r.headers.get('content-type')).to.equal('application/json;charset=utf-8');
  });

  it('create: 201, real address for port 0, enabled by default; disabled keeps listen as given', async () => {
    const r = await call('POST', '/proxies', { name: 'q', listen: 'localhost:0', upstream: echo.address });
    expect(r.status).to.equal(201);
    expect(r.headers.get('content-type')).to.equal('application/json');
    const p = parsed<{ name: string; listen: string; upstream: string; enabled: boolean; toxics: unknown[] }>(r);
    expect(Object.keys(p)).to.deep.equal(['name', 'listen', 'upstream', 'enabled', 'toxics']);
    expect(p.listen).to.match(/^127\.0\.0\.1:\d+$/);
    expect(p.listen).to.not.equal('127.0.0.1:0');
    expect(p).to.include({ name: 'q', upstream: echo.address, enabled: true });
    expect(p.toxics).to.deep.equal([]);
    const d = parsed<{ listen: string; enabled: boolean }>(await call('POST', '/proxies', { name: 'd', listen: 'localhost:0', upstream: echo.address, enabled: false }));
    expect(d).to.include({ listen: 'localhost:0', enabled: false });
  });

  it('create: no listen means every interface, any port, shown as [::]:port; a listen without port is 500', async () => {
    const r = await call('POST', '/proxies', { name: 'anywhere', upstream: echo.address });
    expect(r.status).to.equal(201);
    const listen = parsed<{ listen: string }>(r).listen;
    expect(listen).to.match(/^\[::\]:\d+$/);
    const c = await RecordingClient.connect(Number(listen.slice(listen.lastIndexOf(':') + 1)));
    c.socket.write('hi');
    await c.waitBytes(2, 2000);
    c.destroy();
    const bad = await call('POST', '/proxies', { name: 'noport', listen: '127.0.0.1', upstream: echo.address });
    expect(bad.status).to.equal(500);
    expect(parsed<{ error: string }>(bad).error).to.equal('listen tcp: address 127.0.0.1: missing port in address');
  });

  it('GET /proxies: object keyed by name, sorted', async () => {
    await call('POST', '/proxies', { name: 'a', listen: '127.0.0.1:0', upstream: echo.address });
    const r = await call('GET', '/proxies');
    expect(r.status).to.equal(200);
    const all = parsed<Record<string, { name: string; toxics: { name: string }[] }>>(r);
    expect(Object.keys(all)).to.deep.equal(['a', 'p']);
    expect(all['p']?.toxics.map((t) => t.name)).to.deep.equal(['lat']);
  });

  it('toxic defaults, explicit toxicity 0, case-insensitive stream, listing order', async () => {
    let r = await call('POST', '/proxies/p/toxics', { type: 'bandwidth' });
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('{"attributes":{"rate":0},"name":"bandwidth_downstream","type":"bandwidth","stream":"downstream","toxicity":1}');
    r = await call('POST', '/proxies/p/toxics', { type: 'slicer', stream: 'UpStream', toxicity: 0, attributes: { average_size: 5, bogus: 1 } });
    expect(r.status).to.equal(200);
    expect(parsed(r)).to.deep.equal({ attributes: { average_size: 5, size_variation: 0, delay: 0 }, name: 'slicer_UpStream', type: 'slicer', stream: 'UpStream', toxicity: 0 });
    await call('POST', '/proxies/p/toxics', { name: 'up2', type: 'timeout', stream: 'upstream' });
    const list = parsed<{ name: string }[]>(await call('GET', '/proxies/p/toxics'));
    expect(list.map((t) => t.name)).to.deep.equal(['slicer_UpStream', 'up2', 'lat', 'bandwidth_downstream']);
  });

  it('toxic update merges attributes and keeps toxicity when absent; type, stream, name stay', async () => {
    let r = await call('POST', '/proxies/p/toxics/lat', { attributes: { jitter: 5 } });
    expect(r.status).to.equal(200);
    expect(parsed(r)).to.deep.equal({ attributes: { latency: 10, jitter: 5 }, name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1 });
    r = await call('PATCH', '/proxies/p/toxics/lat', { toxicity: 0.5, type: 'timeout', stream: 'upstream', name: 'other' });
    expect(parsed(r)).to.deep.equal({ attributes: { latency: 10, jitter: 5 }, name: 'lat', type: 'latency', stream: 'downstream', toxicity: 0.5 });
    expect(parsed(await call('GET', '/proxies/p/toxics/lat'))).to.deep.equal(parsed(r));
  });

  it('toxic delete: 204 with an empty body', async () => {
    const r = await call('DELETE', '/proxies/p/toxics/lat');
    expect(r.status).to.equal(204);
    expect(r.text).to.equal('');
    expect((await call('GET', '/proxies/p/toxics/lat')).status).to.equal(404);
  });

  it('proxy update: missing fields keep their values; a new upstream takes effect; name cannot change', async () => {
    const before = parsed<{ listen: string }>(await call('GET', '/proxies/p'));
    let r = await call('POST', '/proxies/p', {});
    expect(r.status).to.equal(200);
    expect(parsed(r)).to.deep.include({ name: 'p', listen: before.listen, upstream: echo.address, enabled: true });
    const other = await startEchoServer();
    try {
      r = await call('PATCH', '/proxies/p', { upstream: other.address, name: 'renamed' });
      expect(parsed(r)).to.deep.include({ name: 'p', upstream: other.address, listen: before.listen, enabled: true });
      const port = Number(before.listen.split(':')[1]);
      const c = await RecordingClient.connect(port);
      c.socket.write('hi');
      await c.waitBytes(2, 2000);
      c.destroy();
      expect(other.accepted).to.equal(1);
    } finally {
      await other.close();
    }
  });

  it('proxy update: a new listen closes the listener and its connections, then listens there', async () => {
    const oldListen = parsed<{ listen: string }>(await call('GET', '/proxies/p')).listen;
    const oldPort = Number(oldListen.split(':')[1]);
    const c = await RecordingClient.connect(oldPort);
    c.socket.write('x');
    await c.waitBytes(1, 2000);
    const r = await call('PATCH', '/proxies/p', { listen: '127.0.0.1:0' });
    expect(r.status).to.equal(200);
    const listen = parsed<{ listen: string; toxics: unknown[] }>(r).listen;
    expect(listen).to.match(/^127\.0\.0\.1:\d+$/);
    await c.waitClosed(2000);
    c.destroy();
    if (listen !== oldListen) expect(await connectError(oldPort)).to.equal('ECONNREFUSED');
    const c2 = await RecordingClient.connect(Number(listen.split(':')[1]));
    c2.socket.write('y');
    await c2.waitBytes(1, 2000);
    c2.destroy();
    expect(parsed<{ toxics: unknown[] }>(await call('GET', '/proxies/p')).toxics).to.have.length(1);
  });

  it('proxy delete: 204, listener gone, 404 afterwards', async () => {
    const port = Number(parsed<{ listen: string }>(await call('GET', '/proxies/p')).listen.split(':')[1]);
    const r = await call('DELETE', '/proxies/p');
    expect(r.status).to.equal(204);
    expect(r.text).to.equal('');
    expect((await call('GET', '/proxies/p')).status).to.equal(404);
    expect(await connectError(port)).to.equal('ECONNREFUSED');
  });

  it('populate: 201 with proxies; empty list gives []; same config kept with toxics; a differing one replaced', async () => {
    let r = await call('POST', '/populate', []);
    expect(r.status).to.equal(201);
    expect(r.text).to.equal('{"proxies":[]}');
    const listen = parsed<{ listen: string }>(await call('GET', '/proxies/p')).listen;
    r = await call('POST', '/populate', [
      { name: 'p', listen, upstream: echo.address },
      { name: 'n', listen: '127.0.0.1:0', upstream: echo.address },
    ]);
    expect(r.status).to.equal(201);
    const out = parsed<{ proxies: { name: string; toxics: unknown[]; enabled: boolean }[] }>(r);
    expect(out.proxies.map((p) => p.name)).to.deep.equal(['p', 'n']);
    expect(out.proxies[0]?.toxics).to.have.length(1);
    const open = await RecordingClient.connect(Number(listen.split(':')[1]));
    try {
      r = await call('POST', '/populate', [{ name: 'p', listen: '127.0.0.1:0', upstream: echo.address }]);
      const replaced = parsed<{ proxies: { listen: string; toxics: unknown[] }[] }>(r).proxies[0];
      expect(replaced?.toxics).to.deep.equal([]);
      // The old proxy was stopped, so its connections are gone (the new port may even be the same one).
      await open.waitClosed(2000);
    } finally {
      open.destroy();
    }
  });

  it('populate: validates every entry first (1-based index), creates nothing on a missing field', async () => {
    const r = await call('POST', '/populate', [
      { name: 'a', upstream: echo.address, listen: '127.0.0.1:0' },
      { upstream: echo.address },
    ]);
    expect(r.status).to.equal(400);
    const body = parsed<{ error: string; status: number; proxies: unknown[] }>(r);
    expect(body).to.deep.equal({ error: 'missing required field: name at proxy 2', status: 400, proxies: [] });
    expect((await call('GET', '/proxies/a')).status).to.equal(404);
  });

  it('populate: a later failure stops mid-list and keeps the earlier proxies', async () => {
    const r = await call('POST', '/populate', [
      { name: 'a', upstream: echo.address, listen: '127.0.0.1:0' },
      { name: 'b', upstream: echo.address, listen: `127.0.0.1:${busyPort}` },
      { name: 'c', upstream: echo.address, listen: '127.0.0.1:0' },
    ]);
    expect(r.status).to.equal(500);
    const body = parsed<{ error: string; status: number; proxies: { name: string }[] }>(r);
    expect(Object.keys(body)).to.deep.equal(['error', 'status', 'proxies']);
    expect(body.error).to.equal(`listen tcp 127.0.0.1:${busyPort}: bind: address already in use`);
    expect(body.proxies.map((p) => p.name)).to.deep.equal(['a']);
    expect((await call('GET', '/proxies/a')).status).to.equal(200);
    expect((await call('GET', '/proxies/c')).status).to.equal(404);
  });

  it('reset: 204, re-enables proxies and removes toxics, deletes none', async () => {
    await call('POST', '/proxies/p', { enabled: false });
    const r = await call('POST', '/reset');
    expect(r.status).to.equal(204);
    const p = parsed<{ enabled: boolean; toxics: unknown[] }>(await call('GET', '/proxies/p'));
    expect(p.enabled).to.equal(true);
    expect(p.toxics).to.deep.equal([]);
  });

  it('testcontainers flow: GET /proxies, listen 0.0.0.0:<port>, setEnabled posts enabled+listen+upstream', async () => {
    expect((await call('GET', '/proxies')).status).to.equal(200);
    // Like testcontainers, take the first port of a range that is free (ours: 18400-18499).
    let freePort = 0;
    let r: Res | undefined;
    for (let port = 18400 + Math.floor(Math.random() * 90); port < 18500 && freePort === 0; port++) {
      r = await call('POST', '/proxies', { name: 'tc', listen: `0.0.0.0:${port}`, upstream: echo.address });
      if (r.status === 201) freePort = port;
      else expect(parsed<{ error: string }>(r).error).to.contain('address already in use');
    }
    expect(freePort, 'a free port in 18400-18499').to.not.equal(0);
    const created = parsed<{ listen: string; upstream: string }>(r as Res);
    // Go listens dual-stack on a wildcard address and reports it as [::].
    expect(created.listen).to.equal(`[::]:${freePort}`);
    r = await call('POST', '/proxies/tc', { enabled: false, listen: created.listen, upstream: created.upstream });
    expect(parsed(r)).to.deep.include({ enabled: false, listen: created.listen });
    expect(await connectError(freePort)).to.equal('ECONNREFUSED');
    r = await call('POST', '/proxies/tc', { enabled: true, listen: created.listen, upstream: created.upstream });
    expect(parsed(r)).to.deep.include({ enabled: true, listen: created.listen });
    const c = await RecordingClient.connect(freePort);
    c.socket.write('ok');
    await c.waitBytes(2, 2000);
    c.destroy();
  });

  it('Go-style JSON escaping of <, > and &', async () => {
    const r = await call('POST', '/proxies', { name: 'a<b>&c', listen: '127.0.0.1:0', upstream: echo.address, enabled: false });
    expect(r.text).to.contain('"name":"a\\u003cb\\u003e\\u0026c"');
  });
});
