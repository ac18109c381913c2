/**
 * key-load-delay keeps a replica loading its master's payload (Redis's cluster suite units 22 and 28 use it to watch a
 * loading replica from the cluster): meanwhile INFO says loading:1 and a plain command gets -LOADING; setting the delay
 * back to 0 lets the load finish with every key. On redis-server and on the reference server, as replicas of a
 * redis-server master.
 */
import { expect } from 'chai';
import { FrameClient } from '../util/frame-client.js';
import { startRealRedis, startRefInProcess, type RunningServer } from '../util/servers.js';
import { waitUntil } from '../util/wait.js';

async function field(c: FrameClient, section: string, name: string): Promise<string> {
  const info = String(await c.send('INFO', section));
  return info.match(new RegExp(`${name}:(\\S+)`))?.[1] ?? 'missing';
}

describe('a replica paced by key-load-delay is seen loading (redis-server and the reference server)', function () {
  this.timeout(60000);
  const started: RunningServer[] = [];

  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  for (const kind of ['redis-server', 'reference'] as const) {
    it(`${kind}: loading:1 and -LOADING while paced, every key once the delay is 0`, async () => {
      const master = await startRealRedis(['--enable-debug-command', 'yes']);
      started.push(master);
      const m = await FrameClient.open(master.port);
      await m.send('DEBUG', 'POPULATE', '1000', 'key', '1000');
      const args = ['--key-load-delay', '4000', '--loading-process-events-interval-bytes', '1024'];
      const replica = kind === 'reference' ? await startRefInProcess(args) : await startRealRedis(args);
      started.push(replica);
      const r = await FrameClient.open(replica.port);
      await r.send('REPLICAOF', '127.0.0.1', String(master.port));
      await waitUntil('replica loading', async () => (await field(r, 'persistence', 'loading')) === '1', 20000, 10);
      expect(await r.send('GET', 'key:1')).to.deep.equal({ error: 'LOADING Redis is loading the dataset in memory' });
      expect(await r.send('CONFIG', 'SET', 'key-load-delay', '0')).to.equal('OK');
      await waitUntil('replica online', async () => (await field(r, 'replication', 'master_link_status')) === 'up', 20000);
      expect(await r.send('DBSIZE')).to.equal(1000);
      expect(await field(r, 'persistence', 'loading')).to.equal('0');
      r.close();
      m.close();
    });
  }
});
