/**
 * A server restarted with key-load-delay stays in its loading state, as Redis's Sentinel test "Master reboot in very
 * short time" relies on: it answers -LOADING to PING (so Sentinel keeps its reboot flag and fails over), INFO shows
 * loading:1, a SIGTERM meanwhile exits without saving the partial dataset, and once every key is in it serves them
 * all. Each step runs on redis-server and on the reference server, and their answers must match.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { client, info, removeDir, tempDir, waitFor } from './fixtures/repl-kit.js';
import { freePort, REF_BIN } from './util/servers.js';

const KINDS = ['real', 'ref'] as const;

function start(kind: (typeof KINDS)[number], port: number, dir: string, extra: string[]): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--enable-debug-command', 'yes',
    '--logfile', join(dir, 'log'), ...extra];
  return kind === 'real' ? spawn('redis-server', args, { stdio: 'ignore' }) : spawn(process.execPath, [REF_BIN, ...args], { stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** PING's answer as text: "PONG", the error line, or "down" while nothing listens. */
async function ping(port: number): Promise<string> {
  const c = client(port);
  c.on('error', () => undefined);
  try {
    return await c.ping();
  } catch (e) {
    return (e as Error).message.startsWith('LOADING') ? (e as Error).message : 'down';
  } finally {
    c.disconnect();
  }
}

describe('start-up loading with key-load-delay (as redis-server)', function () {
  this.timeout(120000);
  const seen: Record<string, Record<string, unknown>> = { real: {}, ref: {} };
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) removeDir(d);
  });

  for (const kind of KINDS) {
    it(`${kind}: -LOADING and loading:1 until the keys are in; SIGTERM while loading keeps the file`, async () => {
      const dir = tempDir(`loading-${kind}`);
      dirs.push(dir);
      const port = await freePort();
      let child = start(kind, port, dir, []);
      children.push(child);
      await waitFor(`${kind} up`, async () => (await ping(port)) === 'PONG', 10000);
      const c = client(port);
      await c.debug('POPULATE', '4000');
      await c.save();
      c.disconnect();
      child.kill('SIGKILL');
      await exited(child);

      // 4000 keys at 500 µs each: about 2 s of loading, answering clients every 1024 bytes read (as the Sentinel test sets).
      const slowLoad = ['--key-load-delay', '500', '--loading-process-events-interval-bytes', '1024'];
      child = start(kind, port, dir, slowLoad);
      children.push(child);
      await waitFor(`${kind} listening while loading`, async () => (await ping(port)) !== 'down', 10000);
      const loadingReply = await ping(port);
      const ic = client(port);
      const persistence = await info(ic, 'persistence');
      ic.disconnect();
      seen[kind].loadingReply = loadingReply;
      seen[kind].loadingFlag = persistence.get('loading');
      seen[kind].totalBytesKnown = Number(persistence.get('loading_total_bytes')) > 0;
      // A SIGTERM while loading: the partial dataset must not replace the file.
      child.kill('SIGTERM');
      seen[kind].exitCode = await exited(child);

      child = start(kind, port, dir, slowLoad);
      children.push(child);
      await waitFor(`${kind} loaded`, async () => (await ping(port)) === 'PONG', 30000);
      const dc = client(port);
      seen[kind].keysAfter = await dc.dbsize();
      dc.disconnect();
      child.kill('SIGKILL');
      await exited(child);

      expect(seen[kind].loadingReply).to.match(/^LOADING /);
      expect(seen[kind].loadingFlag).to.equal('1');
      expect(seen[kind].keysAfter).to.equal(4000);
    });
  }

  it('the reference server answered as redis-server did', () => {
    expect(seen.ref).to.deep.equal(seen.real);
  });
});
