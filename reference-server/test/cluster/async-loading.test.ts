/**
 * Async loading (repl-diskless-load swapdb), as Redis's cluster suite unit 17 drives it, on redis-server and on the
 * reference server as replicas of a redis-server master: a replica restarted from its own RDB continues the master's
 * history, so the full sync it needs (the backlog is too small) loads asynchronously: INFO says async_loading:1 and
 * loading:0 (commands are not refused with LOADING); when the master goes away mid-transfer the old data stays.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameClient } from '../util/frame-client.js';
import { freePort, REF_BIN, startRealRedis, stopChild, waitForPing, type RunningServer } from '../util/servers.js';
import { waitUntil } from '../util/wait.js';

async function field(c: FrameClient, section: string, name: string): Promise<string> {
  const info = String(await c.send('INFO', section));
  return info.match(new RegExp(`${name}:(\\S+)`))?.[1] ?? 'missing';
}

function startReplica(kind: 'redis-server' | 'reference', port: number, dir: string, masterPort: number): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--repl-diskless-load', 'swapdb', '--replicaof', '127.0.0.1', String(masterPort),
    // Redis answers clients while loading only every so many bytes read.
    '--loading-process-events-interval-bytes', '1024'];
  return kind === 'reference'
    ? spawn(process.execPath, [REF_BIN, ...args, '--logfile', join(dir, 'log')], { stdio: 'ignore' })
    : spawn('redis-server', args, { stdio: 'ignore' });
}

for (const kind of ['redis-server', 'reference'] as const) {
  describe(`async loading of a replica continuing its master's history (${kind})`, function () {
    this.timeout(120000);
    let master: RunningServer;
    let replica: ChildProcess | undefined;
    let dir = '';

    before(async () => {
      master = await startRealRedis(['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--repl-backlog-size', '16384',
        '--rdbcompression', 'no']);
      dir = mkdtempSync(join(tmpdir(), 'rr-async-loading-'));
    });

    after(async () => {
      if (replica) await stopChild(replica);
      await master.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('restarted from its RDB, the full sync loads asynchronously and a failed one keeps the old data', async () => {
      const m = await FrameClient.open(master.port);
      await m.send('SET', 'old', '1');
      const port = await freePort();
      replica = startReplica(kind, port, dir, master.port);
      await waitForPing(port, 30000);
      let r = await FrameClient.open(port);
      await waitUntil('replica synced', async () => (await r.send('GET', 'old')) === '1', 20000);
      expect(await r.send('SAVE')).to.equal('OK');
      r.close();
      await stopChild(replica);
      // Past the backlog, and slow to send: 10 ms a key.
      await m.send('DEL', 'old');
      for (let i = 0; i < 1000; i++) await m.send('SET', `k${i}`, 'v'.repeat(100));
      await m.send('CONFIG', 'SET', 'rdb-key-save-delay', '10000');
      replica = startReplica(kind, port, dir, master.port);
      await waitForPing(port, 30000);
      r = await FrameClient.open(port);
      await waitUntil('async loading', async () => (await field(r, 'persistence', 'async_loading')) === '1', 20000, 10);
      expect(await field(r, 'persistence', 'loading')).to.equal('0');
      // The transfer is cut, and the next one held back for a minute.
      await m.send('CONFIG', 'SET', 'repl-diskless-sync-delay', '60');
      await m.send('CLIENT', 'KILL', 'TYPE', 'replica');
      await waitUntil('async loading over', async () => (await field(r, 'persistence', 'async_loading')) === '0', 20000, 10);
      expect(await r.send('GET', 'old')).to.equal('1');
      r.close();
      m.close();
    });
  });
}
