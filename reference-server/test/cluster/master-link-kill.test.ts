/**
 * A replica whose master client is killed (CLIENT KILL inside MULTI, then DEBUG SLEEP in the same EXEC) counts its
 * link as down from the kill, not from when the server woke up: Redis's cluster suite unit 06 relies on it, as a
 * cluster replica refuses to fail over once its data is older than node-timeout * validity factor. Checked on
 * redis-server and on the reference server as replicas of a redis-server master.
 */
import { expect } from 'chai';
import { FrameClient } from '../util/frame-client.js';
import { startRealRedis, startRefInProcess, type RunningServer } from '../util/servers.js';
import { waitUntil } from '../util/wait.js';

async function replicationField(c: FrameClient, field: string): Promise<string> {
  const info = String(await c.send('INFO', 'replication'));
  return info.match(new RegExp(`${field}:(\\S+)`))?.[1] ?? 'missing';
}

describe('a killed master client counts as down from the kill (replica data age)', function () {
  this.timeout(60000);
  let master: RunningServer;
  const started: RunningServer[] = [];

  before(async () => {
    master = await startRealRedis(['--enable-debug-command', 'yes']);
    started.push(master);
  });

  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  for (const kind of ['redis-server', 'reference'] as const) {
    it(`${kind}: after MULTI, CLIENT KILL master, DEBUG SLEEP 2, EXEC the link has been down for 2 s`, async () => {
      const replica = kind === 'reference'
        ? await startRefInProcess(['--enable-debug-command', 'yes'])
        : await startRealRedis(['--enable-debug-command', 'yes']);
      started.push(replica);
      const c = await FrameClient.open(replica.port);
      await c.send('REPLICAOF', '127.0.0.1', String(master.port));
      await waitUntil('replica linked', async () => (await replicationField(c, 'master_link_status')) === 'up', 20000);
      // The master must not take the replica back while it sleeps.
      const m = await FrameClient.open(master.port);
      await m.send('CLIENT', 'PAUSE', '5000');
      await c.send('MULTI');
      await c.send('CLIENT', 'KILL', `127.0.0.1:${master.port}`);
      await c.send('DEBUG', 'SLEEP', '2');
      expect(await c.send('EXEC')).to.deep.equal(['OK', 'OK']);
      // Right after the EXEC (the paused master holds back the reconnection's handshake).
      expect(await replicationField(c, 'master_link_status')).to.equal('down');
      expect(Number(await replicationField(c, 'master_link_down_since_seconds'))).to.be.at.least(2);
      await m.send('CLIENT', 'UNPAUSE');
      m.close();
      c.close();
    });
  }
});
