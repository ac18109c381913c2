/**
 * A replica restarted from its RDB keeps the keys that expired while it was down (it waits for its master's DELs;
 * only a master drops them at load), as Redis's cluster suite unit 14 checks: on redis-server and on the reference
 * server, as replicas (replicaof in the config) of a redis-server master that does no active expiry meanwhile.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameClient } from '../util/frame-client.js';
import { freePort, startRealRedis, startRefInProcess, stopChild, waitForPing, type RunningServer } from '../util/servers.js';
import { waitUntil } from '../util/wait.js';

for (const kind of ['redis-server', 'reference'] as const) {
  describe(`a replica loading its RDB keeps expired keys (${kind})`, function () {
    this.timeout(60000);
    let master: RunningServer;
    let replica: { port: number; stop(): Promise<void> } | undefined;
    let dir = '';

    before(async () => {
      master = await startRealRedis(['--enable-debug-command', 'yes']);
      dir = mkdtempSync(join(tmpdir(), 'rr-replica-expired-'));
    });

    after(async () => {
      if (replica) await replica.stop();
      await master.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('DBSIZE after the restart still counts the keys whose TTL passed', async () => {
      const base = ['--dir', dir, '--save', '', '--appendonly', 'no'];
      // A process for redis-server; the reference server in this process, started again on the same dir.
      const start = async (args = base): Promise<{ port: number; stop(): Promise<void> }> => {
        if (kind === 'reference') return startRefInProcess(args);
        const port = await freePort();
        const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], { stdio: 'ignore' });
        await waitForPing(port, 30000);
        return { port, stop: () => stopChild(child) };
      };
      const m = await FrameClient.open(master.port);
      await m.send('SET', 'keep', '1');
      for (let i = 0; i < 5; i++) await m.send('SET', `ttl${i}`, 'v', 'PX', '5000');
      replica = await start();
      let r = await FrameClient.open(replica.port);
      await r.send('REPLICAOF', '127.0.0.1', String(master.port));
      await waitUntil('replica has every key', async () => (await r.send('DBSIZE')) === 6, 20000);
      expect(await r.send('SAVE')).to.equal('OK');
      r.close();
      await replica.stop();
      await m.send('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
      await new Promise((res) => setTimeout(res, 5100));
      // A replica from the start: replicaof in its configuration when it loads the RDB.
      replica = await start([...base, '--replicaof', '127.0.0.1', String(master.port)]);
      r = await FrameClient.open(replica.port);
      expect(await r.send('DBSIZE')).to.equal(6);
      await m.send('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
      r.close();
      m.close();
    });
  });
}
