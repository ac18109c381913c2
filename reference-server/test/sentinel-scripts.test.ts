/**
 * notification-script and client-reconfig-script: the same arguments from a reference Sentinel as from redis-sentinel
 * through a forced failover, retries of a script that exits 1 up to -script-error, and -script-timeout.
 */
import { expect } from 'chai';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, startReal, tempDir, waitFor } from './fixtures/repl-kit.js';
import { eventsOf, fields, startSentinel, type SentinelKind } from './fixtures/sentinel-kit.js';
import { freePort } from './util/servers.js';

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('sentinel: notification and client reconfiguration scripts', function () {
  this.timeout(180000);
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A forced failover with both scripts set; returns what each script was called with, ports replaced by names. */
  async function failoverWithScripts(kind: SentinelKind): Promise<{ notified: string[]; reconfig: string[] }> {
    const dir = tempDir(`scripts-${kind}`);
    cleanup.push(async () => removeDir(dir));
    const notifyLog = join(dir, 'notify.log');
    const reconfLog = join(dir, 'reconf.log');
    const notify = script(dir, 'notify.sh', `echo "$@" >> ${notifyLog}`);
    const reconf = script(dir, 'reconf.sh', `echo "$@" >> ${reconfLog}`);
    const master = await startReal(await freePort());
    cleanup.push(async () => { await master.stop(); removeDir(master.dir); });
    const replica = await startReal(await freePort(), ['--replicaof', '127.0.0.1', String(master.port)]);
    cleanup.push(async () => { await replica.stop(); removeDir(replica.dir); });
    const s = await startSentinel(kind, await freePort(), [
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds mymaster 2000',
      'sentinel failover-timeout mymaster 10000',
      `sentinel notification-script mymaster ${notify}`,
      `sentinel client-reconfig-script mymaster ${reconf}`,
    ]);
    cleanup.push(async () => { await s.stop(); removeDir(s.dir); });
    await waitFor('the replica is known', async () => ((await s.client.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).length === 1 &&
      fields(((await s.client.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[])[0]).get('master-link-status') === 'ok', 30000, 100);
    expect(await s.client.call('SENTINEL', 'FAILOVER', 'mymaster')).to.equal('OK');
    await waitFor('+switch-master', () => eventsOf(s, '+switch-master').length === 1, 60000, 100);
    await waitFor('every scheduled script ran', async () => existsSync(reconfLog) && existsSync(notifyLog) &&
      readFileSync(notifyLog, 'latin1').includes('+switch-master') && ((await s.client.call('SENTINEL', 'PENDING-SCRIPTS')) as unknown[]).length === 0, 30000, 100);
    const norm = (t: string) => t.split(`${master.port}`).join('<master>').split(`${replica.port}`).join('<replica>').trim().split('\n');
    return { notified: norm(readFileSync(notifyLog, 'latin1')), reconfig: norm(readFileSync(reconfLog, 'latin1')) };
  }

  it('are called with the same arguments as redis-sentinel calls them through a failover', async () => {
    const real = await failoverWithScripts('real');
    const ref = await failoverWithScripts('ref');
    expect(ref.reconfig).to.deep.equal(['mymaster leader start 127.0.0.1 <master> 127.0.0.1 <replica>']);
    expect(ref.reconfig).to.deep.equal(real.reconfig);
    // Warning-level events of the master and its instances (scripts run in parallel, so their order in the file varies).
    const types = (lines: string[]) => lines.map((l) => l.split(' ')[0]).sort();
    expect(types(ref.notified)).to.deep.equal(types(real.notified));
    expect(ref.notified).to.include('+switch-master mymaster 127.0.0.1 <master> 127.0.0.1 <replica>');
  });

  it('retries a script that exits 1 with a doubling delay, then reports -script-error; kills one that runs too long', async () => {
    const dir = tempDir('scripts-retry');
    cleanup.push(async () => removeDir(dir));
    const failing = script(dir, 'fail.sh', `echo "$1" >> ${join(dir, 'runs.log')}; exit 1`);
    const master = await startReal(await freePort());
    cleanup.push(async () => { await master.stop(); removeDir(master.dir); });
    const s = await startSentinel('ref', await freePort(), [
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      `sentinel notification-script mymaster ${failing}`,
    ]);
    cleanup.push(async () => { await s.stop(); removeDir(s.dir); });
    expect(await s.client.call('SENTINEL', 'DEBUG', 'script-retry-delay', '20')).to.equal('OK');
    // +monitor at startup already ran it once; +set, a warning event about the master, schedules it again, now with
    // 20 ms between retries. The +monitor job also retries every 20 ms when its first run ends after the DEBUG, so
    // either job may report -script-error first: the wait is for the +set job to leave the queue.
    expect(await s.client.call('SENTINEL', 'SET', 'mymaster', 'quorum', '1')).to.equal('OK');
    await waitFor('a retry of the +set job is scheduled', async () => {
      const jobs = (await s.client.call('SENTINEL', 'PENDING-SCRIPTS')) as unknown[][];
      return jobs.some((j) => {
        const f = new Map<string, unknown>();
        for (let i = 0; i + 1 < j.length; i += 2) f.set(j[i] as string, j[i + 1]);
        return (f.get('argv') as string[])[1] === '+set' && Number(f.get('retry-num')) >= 2 && f.get('flags') === 'scheduled';
      });
    }, 15000, 5);
    await waitFor('the +set job given up with -script-error after 10 runs', async () => {
      const jobs = (await s.client.call('SENTINEL', 'PENDING-SCRIPTS')) as unknown[][];
      const setPending = jobs.some((j) => (j[j.indexOf('argv') + 1] as string[])[1] === '+set');
      return !setPending && eventsOf(s, '-script-error').length >= 1;
    }, 60000, 100);
    for (const e of eventsOf(s, '-script-error')) expect(e.msg).to.equal(`${failing} 0 1`);
    const runs = readFileSync(join(dir, 'runs.log'), 'latin1').trim().split('\n');
    expect(runs.filter((l) => l === '+set'), runs.join(',')).to.have.length(10);

    // deny-scripts-reconfig is on by default: SENTINEL SET refuses script paths.
    const slow = script(dir, 'slow.sh', 'exec sleep 30');
    await s.client.call('SENTINEL', 'SET', 'mymaster', 'notification-script', slow).then(() => expect.fail('script path change accepted'),
      (e: Error) => expect(e.message).to.match(/^ERR Reconfiguration of scripts path is denied/));
    // With it off, the path changes; a script running past script-max-runtime is killed with -script-timeout.
    const s2 = await startSentinel('ref', await freePort(), [`sentinel monitor mymaster 127.0.0.1 ${master.port} 1`, 'sentinel deny-scripts-reconfig no']);
    cleanup.push(async () => { await s2.stop(); removeDir(s2.dir); });
    await s2.client.call('SENTINEL', 'DEBUG', 'script-max-runtime', '300');
    expect(await s2.client.call('SENTINEL', 'SET', 'mymaster', 'notification-script', slow)).to.equal('OK');
    expect(fields(await s2.client.call('SENTINEL', 'MASTER', 'mymaster')).get('notification-script')).to.equal(slow);
    await s2.client.call('SENTINEL', 'SET', 'mymaster', 'quorum', '1');
    await waitFor('-script-timeout', () => eventsOf(s2, '-script-timeout').length >= 1, 30000, 50);
    expect(eventsOf(s2, '-script-timeout')[0]!.msg).to.match(new RegExp(`^${slow.replace(/[.]/g, '\\.')} \\d+$`));
  });
});
