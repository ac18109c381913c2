/**
 * What expired keys put in the replication stream, compared with Redis 7.0.15 itself: a full sync carries expired
 * keys in its RDB without deleting them (no DEL, no expired_keys), and SCAN's lazy expiry sends plain DELs, never
 * wrapped in MULTI/EXEC. The same steps run against Debian's redis-server and the reference server.
 */
import { expect } from 'chai';
import { startRealRedis, startRefInProcess, type RunningServer } from './util/servers.js';
import { waitFor } from './fixtures/repl-kit.js';
import { FrameClient } from './util/frame-client.js';
import { ReplicaTap } from './util/replica-tap.js';
import { splitFrame } from './util/resp-client.js';

/** A streamed command as lower-case words. */
function words(frame: string): string {
  return splitFrame(frame).map((b) => b.slice(b.indexOf('\r\n') + 2, -2).toLowerCase()).join(' ');
}

for (const target of ['redis-server', 'reference'] as const) {
  describe(`expired keys in the replication stream [${target}]`, function () {
    this.timeout(20_000);
    let srv: RunningServer | undefined;
    const readers: ReplicaTap[] = [];
    before(async () => {
      srv = target === 'redis-server' ? await startRealRedis(['--enable-debug-command', 'yes']) : await startRefInProcess(['--enable-debug-command', 'yes']);
    });
    after(async () => {
      for (const r of readers) r.close();
      await srv?.stop();
    });

    it('a full sync carries expired keys without deleting them; SCAN then sends unwrapped DELs', async () => {
      const port = srv!.port;
      const c = await FrameClient.open(port);
      const call = (...argv: string[]) => c.send(...argv);
      await call('CONFIG', 'SET', 'repl-ping-replica-period', '3600');
      await call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
      await call('SET', 'gone1', 'v', 'PX', '1');
      await call('SET', 'gone2', 'v', 'PX', '1');
      const setAt = Date.now();
      await waitFor('the keys to be past their expiry', () => Date.now() > setAt + 5 || undefined);
      const r = await ReplicaTap.open(port);
      readers.push(r);
      const rdb = r.payload;
      expect(rdb, 'the expired keys are in the RDB').to.contain('gone1').and.to.contain('gone2');
      expect(await call('INFO', 'stats')).to.match(/expired_keys:0\r\n/);
      expect(await call('SCAN', '0')).to.deep.equal(['0', []]);
      const commands = (): string[] => r.frames().map(words);
      const stream = await waitFor('the DELs', () => (commands().filter((c) => c.startsWith('del')).length === 2 ? commands() : undefined));
      expect(stream).to.have.members(['select 0', 'del gone1', 'del gone2']);
      expect(stream).to.not.include('multi');
      await call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
      c.close();
    });
  });
}
