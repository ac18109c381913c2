/**
 * Cluster directives that CONFIG SET applies at once, as config.c's apply functions do (cluster suite units 13 and
 * 27): cluster-replica-no-failover (by its old name too) shows as myself's nofailover flag in CLUSTER NODES, and
 * cluster-announce-hostname in CLUSTER SHARDS, right after the reply; on redis-server and the reference server.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameClient } from '../util/frame-client.js';
import { startClusterNode } from '../fixtures/cluster-kit.js';
import { stopChild, waitForPing } from '../util/servers.js';
import { freeClusterPort } from './bus-peer.js';

for (const kind of ['redis-server', 'reference'] as const) {
  describe(`CONFIG SET of cluster directives applies at once (${kind})`, function () {
    this.timeout(60000);
    let child: ChildProcess | undefined;
    let dir = '';

    after(async () => {
      if (child) await stopChild(child);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('nofailover and the announced hostname show in the very next CLUSTER NODES / SHARDS', async () => {
      dir = mkdtempSync(join(tmpdir(), 'rr-config-apply-'));
      const port = await freeClusterPort();
      child = startClusterNode(kind === 'reference' ? 'ref' : 'real', port, dir);
      await waitForPing(port, 30000);
      const c = await FrameClient.open(port);
      await c.send('CLUSTER', 'ADDSLOTS', '1');
      expect(await c.send('CONFIG', 'SET', 'cluster-slave-no-failover', 'yes')).to.equal('OK');
      expect(String(await c.send('CLUSTER', 'NODES'))).to.match(/ myself,master,nofailover /);
      expect(await c.send('CONFIG', 'SET', 'cluster-announce-hostname', 'me.example')).to.equal('OK');
      expect(JSON.stringify(await c.send('CLUSTER', 'SHARDS'))).to.include('"hostname","me.example"');
      c.close();
    });
  });
}
