/** Three real redis-sentinels (quorum 2) fail over a reference master to its reference replica, then reattach the old master. */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import {
  client, info, populate, removeDir, snapshot, startReal, startRef, tempDir, waitFor, waitInSync, type Node, type RefNode,
} from './fixtures/repl-kit.js';
import { freePort } from './util/servers.js';

// Ports picked free at start (fixed ones collided with other runs on the same machine).
let MASTER = 0, REPLICA = 0;
let SENTINELS: number[] = [];

describe('sentinel: real redis-sentinels with reference servers', function () {
  this.timeout(180000);
  const nodes: Node[] = [];
  const clients: Redis[] = [];
  const dirs: string[] = [];
  before(async () => {
    const ports = new Set<number>();
    while (ports.size < 5) ports.add(await freePort());
    [MASTER, REPLICA, ...SENTINELS] = [...ports] as [number, number, ...number[]];
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    for (const n of nodes.reverse()) await n.stop();
    for (const d of dirs) removeDir(d);
  });

  it('kill -9 of the master: the replica is promoted, the address follows, the old master comes back as a replica', async () => {
    const masterDir = tempDir('ref-master');
    dirs.push(masterDir);
    let master: RefNode = await startRef(MASTER, [], masterDir);
    nodes.push(master);
    const replica = await startRef(REPLICA, ['--replicaof', '127.0.0.1', String(MASTER)]);
    nodes.push(replica);
    dirs.push(replica.dir);
    const m = client(MASTER);
    const r = client(REPLICA);
    clients.push(m, r);
    await populate(m, 'before');
    await waitInSync(m, r);

    const sentinelClients: Redis[] = [];
    for (const port of SENTINELS) {
      const dir = tempDir('sentinel');
      dirs.push(dir);
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(conf, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `logfile ${join(dir, 'sentinel.log')}`,
        `sentinel monitor mymaster 127.0.0.1 ${MASTER} 2`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 3000',
        'sentinel parallel-syncs mymaster 1', '',
      ].join('\n'));
      nodes.push(await startReal(port, [conf], dir, 'redis-sentinel'));
      const sc = client(port);
      clients.push(sc);
      sentinelClients.push(sc);
    }
    const s0 = sentinelClients[0]!;
    // Every sentinel must know the replica and the two other sentinels before the master dies.
    await waitFor('sentinels discovered each other and the replica', async () => {
      for (const sc of sentinelClients) {
        const reps = (await sc.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[];
        const sens = (await sc.call('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[];
        if (reps.length !== 1 || sens.length !== 2) return false;
      }
      return true;
    }, 30000, 100);
    expect(await s0.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')).to.deep.equal(['127.0.0.1', String(MASTER)]);

    const killedAt = Date.now();
    await master.stop();
    m.disconnect();
    await waitFor('sentinels promote the replica', async () => {
      for (const sc of sentinelClients) {
        const addr = (await sc.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[];
        if (addr[1] !== String(REPLICA)) return false;
      }
      return (await info(r, 'replication')).get('role') === 'master';
    }, 30000, 100);
    const switchMs = Date.now() - killedAt;
    expect(switchMs).to.be.lessThan(30000);
    // REPLICAOF NO ONE keeps the dataset.
    expect(Object.keys(await snapshot(r)).filter((k) => k.includes('before:')).length).to.be.greaterThan(10);
    await r.set('after-failover', 'yes');

    // The old master restarts empty (no persistence) and must be turned into a replica of the new one.
    master = await startRef(MASTER, [], masterDir);
    nodes.push(master);
    const m2 = client(MASTER);
    clients.push(m2);
    await waitFor('old master converted to a replica of the new master', async () => {
      const i = await info(m2, 'replication');
      return i.get('role') === 'slave' && i.get('master_port') === String(REPLICA) && i.get('master_link_status') === 'up';
      // Sentinel waits a few info periods before converting, and a TILT (timer lag under load) adds 30 s.
    }, 90000, 100);
    await waitInSync(r, m2);
    expect(await snapshot(m2)).to.deep.equal(await snapshot(r));
    expect(await m2.get('after-failover')).to.equal('yes');
    const role = (await m2.call('ROLE')) as unknown[];
    expect(role.slice(0, 4)).to.deep.equal(['slave', '127.0.0.1', REPLICA, 'connected']);
  });
});
