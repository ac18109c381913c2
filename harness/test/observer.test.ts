import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { MiniDeployment } from './fixtures/mini-deployment.js';
import { waitFor } from '../src/support/time.js';
import { HistoryWriter } from '../src/history/writer.js';
import type { RoleObservation } from '../src/history/events.js';
import { Observer, parseInfo, stateFromReplicationInfo } from '../src/observer/observer.js';
import { checkSingleMaster } from '../src/checkers/index.js';

describe('observer against real redis-server', function () {
  this.timeout(60_000);
  let dep: MiniDeployment;
  let obs: Observer | undefined;
  const admins: Redis[] = [];
  beforeEach(async () => {
    dep = await MiniDeployment.start(1);
  });
  afterEach(async () => {
    await obs?.stop();
    obs = undefined;
    for (const a of admins.splice(0)) a.disconnect();
    await dep?.down();
  });

  it('records roles, then a replica promoted with REPLICAOF NO ONE, and the split brain it makes', async () => {
    const h = new HistoryWriter();
    obs = new Observer(dep, h, { intervalMs: 50 });
    await obs.start();
    const first = h.events().filter((e): e is RoleObservation => e.type === 'observation');
    const m = first.find((o) => o.instance === 'm')!;
    const r = first.find((o) => o.instance === 'r1')!;
    expect(m.role).to.equal('master');
    expect(m.writable).to.equal(true);
    expect(r.role).to.equal('replica');
    expect(r.master).to.equal(`127.0.0.1:${dep.endpoint('m').port}`);
    expect(r.linkUp).to.equal(true);
    const admin = dep.client('r1');
    admins.push(admin);
    const before = h.now();
    await admin.replicaof('NO', 'ONE');
    await waitFor('r1 observed as master', () => obs!.current.get('r1')?.role === 'master', 5000);
    const promoted = h.events().find((e): e is RoleObservation => e.type === 'observation' && e.instance === 'r1' && e.role === 'master');
    expect(promoted!.time).to.be.greaterThan(before);
    expect(promoted!.writable).to.equal(true);
    // Both are writable masters now: the single-master checker must say so.
    await waitFor('a split-brain window to be recorded', () => checkSingleMaster(h.events()).intervals.length > 0 || obs!.roles()['m'] === 'master', 5000);
    const masterAdmin = dep.client('m');
    admins.push(masterAdmin);
    await masterAdmin.config('SET', 'min-replicas-to-write', '1');
    // With no replica left, min-replicas blocks writes and the observer must notice the master is not writable.
    await waitFor('m observed as min-replicas-blocked', () => obs!.current.get('m')?.writable === false, 5000);
    await obs.stop();
    const sm = checkSingleMaster(h.events());
    expect(sm.verdict).to.equal('fail');
    expect(sm.intervals.length).to.equal(1);
    expect(sm.detail).to.contain('m+r1');
  });

  it('reports a paused instance as down and sees it come back', async () => {
    const h = new HistoryWriter();
    obs = new Observer(dep, h, { intervalMs: 50, timeoutMs: 200 });
    await obs.start();
    await dep.pause('r1');
    await waitFor('r1 observed down', () => obs!.current.get('r1')?.role === 'down', 5000);
    await dep.resume('r1');
    await waitFor('r1 observed as replica again', () => obs!.current.get('r1')?.role === 'replica', 5000);
  });

  it('derives writability from INFO replication', () => {
    const info = parseInfo('# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmin_slaves_good_slaves:0\r\n');
    expect(stateFromReplicationInfo(info, 0).writable).to.equal(true);
    expect(stateFromReplicationInfo(info, 1).writable).to.equal(false);
    const rep = stateFromReplicationInfo(parseInfo('role:slave\nmaster_host:10.0.0.1\nmaster_port:6379\nmaster_link_status:down\n'), 0);
    expect(rep).to.include({ role: 'replica', master: '10.0.0.1:6379', linkUp: false, writable: false });
  });
});
