/**
 * A cluster node restarted from its RDB knows which slots its keys are in (COUNTKEYSINSLOT, GETKEYSINSLOT), on
 * redis-server and on the reference server: the keys loaded at start, before cluster mode's keyspace hooks exist,
 * are indexed too (Redis's cluster suite unit 17 reads GETKEYSINSLOT after a restart; resharding needs it).
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { FrameClient } from '../util/frame-client.js';
import { startClusterNode } from '../fixtures/cluster-kit.js';
import { stopChild, waitForPing } from '../util/servers.js';
import { waitUntil } from '../util/wait.js';
import { freeClusterPort } from './bus-peer.js';

for (const kind of ['redis-server', 'reference'] as const) {
  describe(`keys per slot after a restart from the RDB (${kind})`, function () {
    this.timeout(60000);
    let child: ChildProcess | undefined;
    let dir = '';

    after(async () => {
      if (child) await stopChild(child);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('COUNTKEYSINSLOT and GETKEYSINSLOT list the keys the RDB brought back', async () => {
      dir = mkdtempSync(join(tmpdir(), 'rr-restart-keys-'));
      const port = await freeClusterPort();
      child = startClusterNode(kind === 'reference' ? 'ref' : 'real', port, dir);
      await waitForPing(port, 30000);
      let c = await FrameClient.open(port);
      await c.send('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      await waitUntil('cluster_state:ok', async () => String(await c.send('CLUSTER', 'INFO')).includes('cluster_state:ok'), 30000);
      for (const k of ['06S', 'a{x}', 'b{x}']) expect(await c.send('SET', k, '1')).to.equal('OK');
      expect(await c.send('SAVE')).to.equal('OK');
      c.close();
      await stopChild(child);
      child = startClusterNode(kind === 'reference' ? 'ref' : 'real', port, dir);
      await waitForPing(port, 30000);
      c = await FrameClient.open(port);
      expect(await c.send('CLUSTER', 'COUNTKEYSINSLOT', '0')).to.equal(1);
      expect(await c.send('CLUSTER', 'GETKEYSINSLOT', '0', '1')).to.deep.equal(['06S']);
      const slot = String(keyHashSlot('{x}'));
      expect(await c.send('CLUSTER', 'COUNTKEYSINSLOT', slot)).to.equal(2);
      expect(((await c.send('CLUSTER', 'GETKEYSINSLOT', slot, '10')) as string[]).sort()).to.deep.equal(['a{x}', 'b{x}']);
      c.close();
    });
  });
}
