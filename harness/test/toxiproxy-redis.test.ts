import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startToxiproxyServer, type ToxiproxyServer } from '../src/toxiproxy/server.js';
import { RecordingClient, unusedPort, waitFor } from './fixtures/toxiproxy-testkit.js';

/** Sends one inline command and returns the reply once `done` says it is complete, with the round-trip time. */
async function command(port: number, line: string, done: (text: string) => boolean): Promise<{ reply: string; ms: number }> {
  const c = await RecordingClient.connect(port);
  try {
    const t0 = performance.now();
    c.socket.write(`${line}\r\n`);
    await waitFor(() => done(c.text) || c.closedAt !== undefined, 3000, `the reply to ${line}`);
    return { reply: c.text, ms: (c.chunks[c.chunks.length - 1]?.at ?? NaN) - t0 };
  } finally {
    c.destroy();
  }
}

const line = (t: string): boolean => t.endsWith('\r\n');

// A real redis-server behind a proxy of ours: the harness's own use of Toxiproxy.
describe('toxiproxy in front of a real redis-server', function () {
  this.timeout(15000);
  let redis: ChildProcess | undefined;
  let dir: string | undefined;
  let redisPort = 0;
  let server: ToxiproxyServer | undefined;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'toxiproxy-redis-'));
    redisPort = await unusedPort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const spawnError = new Promise<Error>((resolve) => redis?.once('error', resolve));
    const ready = (async () => {
      const deadline = performance.now() + 5000;
      for (;;) {
        try {
          if ((await command(redisPort, 'PING', line)).reply === '+PONG\r\n') return;
        } catch (e) {
          if (performance.now() > deadline) throw e;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const first = await Promise.race([ready.then(() => undefined), spawnError]);
    if (first instanceof Error) throw new Error(`redis-server could not start (${first.message}); run scripts/setup.sh`);
    server = await startToxiproxyServer({ port: 0 });
  });

  after(async () => {
    await server?.close();
    if (redis && redis.exitCode === null) {
      const exited = new Promise((r) => redis?.once('exit', r));
      redis.kill('SIGKILL');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('PING through the proxy takes at least the latency; SET/GET pass unchanged', async () => {
    const s = server as ToxiproxyServer;
    const res = await fetch(`${s.url}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'redis', listen: '127.0.0.1:0', upstream: `127.0.0.1:${redisPort}` }) });
    expect(res.status).to.equal(201);
    const listen = ((await res.json()) as { listen: string }).listen;
    const port = Number(listen.slice(listen.lastIndexOf(':') + 1));

    const plain = await command(port, 'PING', line);
    expect(plain.reply).to.equal('+PONG\r\n');
    expect(plain.ms).to.be.below(250);

    const t = await fetch(`${s.url}/proxies/redis/toxics`, { method: 'POST', body: JSON.stringify({ type: 'latency', attributes: { latency: 300 } }) });
    expect(t.status).to.equal(200);
    const slow = await command(port, 'PING', line);
    expect(slow.reply).to.equal('+PONG\r\n');
    expect(slow.ms).to.be.at.least(300).and.below(600);

    expect((await command(port, 'SET chaos:key hello', line)).reply).to.equal('+OK\r\n');
    expect((await command(port, 'GET chaos:key', (x) => x.split('\r\n').length >= 3)).reply).to.equal('$5\r\nhello\r\n');

    // A cut connection: limit_data upstream stops the command half-way, so redis never answers.
    await fetch(`${s.url}/proxies/redis/toxics/latency_downstream`, { method: 'DELETE' });
    await fetch(`${s.url}/proxies/redis/toxics`, { method: 'POST', body: JSON.stringify({ type: 'limit_data', stream: 'upstream', attributes: { bytes: 3 } }) });
    const cut = await command(port, 'PING', line);
    expect(cut.reply).to.equal('');
  });
});
