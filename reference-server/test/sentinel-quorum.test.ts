/**
 * Mixed quorums: reference Sentinels (redis-ref-sentinel) and real redis-sentinels monitor one real redis-server
 * master with a replica. They discover each other, a kill -9 of the master gives exactly one failover that every
 * Sentinel follows, and either kind can be the elected leader. ioredis's Sentinel client follows a reference Sentinel.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { client, info, removeDir, startReal, waitFor, type RealNode } from './fixtures/repl-kit.js';
import { eventsOf, fields, runSentinel, startSentinel, waitDiscovered, type SentinelKind, type SentinelNode } from './fixtures/sentinel-kit.js';
import { freePort } from './util/servers.js';

interface Topology {
  master: RealNode;
  replica: RealNode;
  sentinels: SentinelNode[];
}

/**
 * Starts a master, a replica and one Sentinel per kind. The Sentinel at `leader` has quorum 1, down-after 1000 and
 * failover-timeout 3000, the others quorum 2, down-after 10000: it alone sees the master down first and reaches ODOWN
 * by itself, so it asks for votes first and is the one elected (the others vote for the first who asks in an epoch).
 * If its first attempt aborts (a replica INFO older than 5 s), it retries after 2 x 3000 ms, still before the others.
 */
async function startTopology(kinds: SentinelKind[], leader: number, cleanup: (() => Promise<void>)[]): Promise<Topology> {
  const masterPort = await freePort();
  const replicaPort = await freePort();
  const master = await startReal(masterPort);
  cleanup.push(async () => { await master.stop(); removeDir(master.dir); });
  const replica = await startReal(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
  cleanup.push(async () => { await replica.stop(); removeDir(replica.dir); });
  const sentinels: SentinelNode[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const port = await freePort();
    const quorum = i === leader ? 1 : 2;
    const downAfter = i === leader ? 1000 : 10000;
    const failoverTimeout = i === leader ? 3000 : 10000;
    const s = await startSentinel(kinds[i], port, [
      `sentinel monitor mymaster 127.0.0.1 ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds mymaster ${downAfter}`,
      `sentinel failover-timeout mymaster ${failoverTimeout}`,
    ]);
    cleanup.push(async () => { await s.stop(); removeDir(s.dir); });
    sentinels.push(s);
  }
  return { master, replica, sentinels };
}

/** Kills the master and checks the one failover every Sentinel must agree on; returns the leader's index. */
async function killMasterAndCheckFailover(t: Topology): Promise<number> {
  const masterPort = t.master.port;
  const replicaPort = t.replica.port;
  await t.master.kill9();
  await waitFor('+switch-master on every Sentinel', () => t.sentinels.every((s) => eventsOf(s, '+switch-master').length > 0), 60000, 100);
  const expected = `mymaster 127.0.0.1 ${masterPort} 127.0.0.1 ${replicaPort}`;
  for (const s of t.sentinels) {
    expect(eventsOf(s, '+switch-master').map((e) => e.msg), `${s.kind} sentinel on ${s.port}`).to.deep.equal([expected]);
    expect(await s.client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')).to.deep.equal(['127.0.0.1', String(replicaPort)]);
  }
  // Exactly one Sentinel promoted the replica. (An attempt may abort before that, -failover-abort-no-good-slave when
  // the replica's INFO is older than 5 s as the master goes down, and be retried: Redis does the same.)
  const logs = () => t.sentinels.map((s) => `--- ${s.kind} ${s.port}\n${s.log().split('\n').filter((l) => !l.includes('configuration saved')).slice(-40).join('\n')}`).join('\n');
  const promoters = t.sentinels.map((s, i) => [i, eventsOf(s, '+promoted-slave').length] as const).filter(([, n]) => n > 0);
  expect(promoters.map(([, n]) => n), `promotions\n${logs()}`).to.deep.equal([1]);
  const leader = promoters[0]![0];
  expect(eventsOf(t.sentinels[leader]!, '+elected-leader').length).to.be.at.least(1);
  for (const [i, s] of t.sentinels.entries()) if (i !== leader) expect(eventsOf(s, '+failover-end'), `${s.kind} follower`).to.deep.equal([]);
  expect(eventsOf(t.sentinels[leader]!, '+promoted-slave')[0]!.msg).to.equal(`slave 127.0.0.1:${replicaPort} 127.0.0.1 ${replicaPort} @ mymaster 127.0.0.1 ${masterPort}`);
  // The others followed through the leader's hello (its newer config epoch).
  const leaderId = await t.sentinels[leader]!.myid();
  for (const [i, s] of t.sentinels.entries()) {
    if (i === leader) continue;
    expect(eventsOf(s, '+config-update-from').length, `${s.kind} follower`).to.equal(1);
    expect(eventsOf(s, '+config-update-from')[0]!.msg).to.contain(`sentinel ${leaderId} `);
  }
  const r = client(replicaPort);
  try {
    expect((await info(r, 'replication')).get('role')).to.equal('master');
  } finally {
    r.disconnect();
  }
  return leader;
}

describe('sentinel: mixed quorums of reference and real Sentinels', function () {
  this.timeout(240000);
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  it('SIGTERM: both kinds log the same shutdown lines, naming themselves Sentinel, and exit 0', async () => {
    const lines: Record<string, string[]> = {};
    for (const kind of ['real', 'ref'] as const) {
      const s = await startSentinel(kind, await freePort(), []);
      cleanup.push(async () => { await s.stop(); removeDir(s.dir); });
      const code = new Promise<number | null>((resolve) => s.child.once('exit', (c) => resolve(c)));
      await s.stop({ signal: 'SIGTERM' });
      expect(await code, kind).to.equal(0);
      // "pid:X dd Mon yyyy hh:mm:ss.mmm # text", and "pid:signal-handler (unixtime) text" from the signal handler:
      // compare the texts from SIGTERM on.
      const texts = s.log().split('\n').map((l) => l.replace(/^\d+:(\w \d+ \w+ \d+ [\d:.]+ [.\-*#]|signal-handler \(\d+\)) /, ''));
      lines[kind] = texts.slice(texts.indexOf('Received SIGTERM scheduling shutdown...')).filter((l) => l !== '');
    }
    expect(lines.real!.at(-1)).to.equal('Sentinel is now ready to exit, bye bye...');
    expect(lines.ref).to.deep.equal(lines.real);
  });

  it('two reference Sentinels and a real one: they discover each other, the real one leads, all follow; a restarted reference Sentinel resumes', async () => {
    const t = await startTopology(['ref', 'ref', 'real'], 2, cleanup);
    await waitDiscovered(t.sentinels, 'mymaster', 1);
    // Each Sentinel lists the other two by run id, at the address they announce.
    const ids = await Promise.all(t.sentinels.map((s) => s.myid()));
    for (const [i, s] of t.sentinels.entries()) {
      const peers = ((await s.client.call('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[]).map(fields);
      expect(peers.map((p) => p.get('runid')).sort()).to.deep.equal(ids.filter((_, j) => j !== i).sort());
      for (const p of peers) {
        expect(p.get('flags')).to.equal('sentinel');
        expect(p.get('ip')).to.equal('127.0.0.1');
      }
    }
    const refMaster = fields(await t.sentinels[0]!.client.call('SENTINEL', 'MASTER', 'mymaster'));
    expect(refMaster.get('flags')).to.equal('master');
    expect(refMaster.get('num-slaves')).to.equal('1');
    expect(refMaster.get('num-other-sentinels')).to.equal('2');

    expect(await killMasterAndCheckFailover(t)).to.equal(2);

    // The rewritten sentinel.conf carries the state: a restarted reference Sentinel comes back with it.
    const ref = t.sentinels[0]!;
    const conf = readFileSync(ref.conf, 'latin1');
    expect(conf).to.contain(`sentinel myid ${ids[0]}`);
    expect(conf).to.contain(`sentinel monitor mymaster 127.0.0.1 ${t.replica.port} 2`);
    expect(conf).to.contain(`sentinel known-replica mymaster 127.0.0.1 ${t.master.port}`);
    expect(conf).to.contain('sentinel config-epoch mymaster 1');
    await ref.stop();
    const again = await runSentinel('ref', ref.port, ref.dir, ref.conf);
    cleanup.push(async () => { await again.stop(); });
    const c = again.client;
    await waitFor('restarted reference Sentinel answers', async () => (await c.call('SENTINEL', 'MYID')) === ids[0], 15000, 100);
    expect(await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')).to.deep.equal(['127.0.0.1', String(t.replica.port)]);
    const m = fields(await c.call('SENTINEL', 'MASTER', 'mymaster'));
    expect(m.get('config-epoch')).to.equal('1');
    expect(m.get('num-other-sentinels')).to.equal('2');
  });

  it('one reference Sentinel and two real ones: the reference Sentinel is elected and the real ones follow it; ioredis follows through the reference Sentinel', async () => {
    const t = await startTopology(['real', 'ref', 'real'], 1, cleanup);
    await waitDiscovered(t.sentinels, 'mymaster', 1);
    const ref = t.sentinels[1]!;
    const app = new Redis({ sentinels: [{ host: '127.0.0.1', port: ref.port }], name: 'mymaster', maxRetriesPerRequest: 3, enableOfflineQueue: true,
      sentinelRetryStrategy: () => 200, retryStrategy: () => 200 });
    // ioredis reports each refused connection to the dead master while it waits for the switch.
    app.on('error', () => {});
    cleanup.push(async () => { app.disconnect(); });
    await app.set('k', 'before');
    expect((app as unknown as { options: { port: number } }).options.port).to.be.a('number');
    expect(await killMasterAndCheckFailover(t)).to.equal(1);
    // The real followers voted for the reference leader in its epoch.
    const refId = await ref.myid();
    for (const s of [t.sentinels[0]!, t.sentinels[2]!]) {
      expect(s.log()).to.match(new RegExp(`\\+vote-for-leader ${refId} 1`));
    }
    await waitFor('ioredis writes through the new master', async () => (await app.set('k', 'after')) === 'OK', 30000, 200);
    const r = client(t.replica.port);
    cleanup.push(async () => { r.disconnect(); });
    expect(await r.get('k')).to.equal('after');
  });
});
