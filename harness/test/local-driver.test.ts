import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTopology, loadTopologyText } from '../src/topology/load.js';
import { shippedTopologiesDir } from '../src/topology/paths.js';
import { pairs, respCall, waitFor } from '../src/drivers/local/probe.js';
import { parseInfo } from '../src/support/info.js';
import type { LocalDeployment } from '../src/drivers/local/index.js';
import { Deployments, isRoot } from './local-driver-helpers.js';

const topo = (f: string, profile?: string) => loadTopology(path.join(shippedTopologiesDir(), f), profile ? { profile } : {});

async function setViaHaproxy(d: LocalDeployment, key: string, value: string): Promise<unknown> {
  const ep = d.endpoint('haproxy');
  return respCall(ep.host, ep.port, ['SET', key, value], 'TestPass', 1000);
}

/** redis-cli PING run inside another host: PONG, or the failure it saw. */
async function pingFromHost(d: LocalDeployment, fromHost: string, target: string): Promise<string> {
  const ep = d.endpoint(target);
  const r = await d.execInHost(fromHost, ['redis-cli', '-h', ep.host, '-p', String(ep.port), '-a', 'TestPass', '--no-auth-warning', 'PING'], 1500);
  // A dropped SYN leaves redis-cli waiting: the probe is killed at its deadline (code null).
  return r.code === 0 ? r.output.trim() : `failed (${r.code})`;
}

describe('local driver', function () {
  this.timeout(60_000);
  const deployments = new Deployments();
  afterEach(() => deployments.downAll());

  (isRoot ? describe : describe.skip)('with network namespaces (root)', () => {
    it('brings up sentinel-haproxy with real Redis, writes through HAProxy, and the sentinel promotes the replica when the master is killed', async () => {
      const d = await deployments.up(topo('sentinel-haproxy.yml'), { target: 'redis' });
      expect(d.hostMode).to.equal('netns');
      expect(d.partitionUnsupportedReason).to.equal(undefined);
      expect(new Set(d.topology.hosts.map((h) => d.hostAddress(h.name))).size).to.equal(3);
      expect(d.instances().map((i) => `${i.name}:${i.kind}:${i.target ?? '-'}`)).to.deep.equal(['redis1:redis:redis', 'redis2:redis:redis', 'sentinel1:sentinel:redis', 'haproxy:haproxy:-']);
      expect(d.generatedFiles().map((f) => f.kind)).to.deep.equal(['redis.conf', 'redis.conf', 'sentinel.conf', 'haproxy.cfg']);

      expect(await setViaHaproxy(d, 'TestKey', 'Some test string')).to.equal('OK');
      const r2 = d.endpoint('redis2');
      await waitFor('the replica to have the key', async () => (await respCall(r2.host, r2.port, ['GET', 'TestKey'], 'TestPass')) === 'Some test string', 5000);

      await d.kill('redis1');
      expect(d.isRunning('redis1')).to.equal(false);
      const s = d.endpoint('sentinel1');
      await waitFor('the sentinel to switch master01 to redis2', async () => {
        const addr = await respCall(s.host, s.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'master01']);
        return Array.isArray(addr) && addr[0] === r2.host && Number(addr[1]) === r2.port;
      }, 20_000, 100);
      expect(parseInfo(await respCall(r2.host, r2.port, ['INFO', 'replication'], 'TestPass')).role).to.equal('master');
      await waitFor('a write through HAProxy to succeed again', async () => (await setViaHaproxy(d, 'after', '1')) === 'OK', 15_000, 100);
      expect(await respCall(r2.host, r2.port, ['GET', 'TestKey'], 'TestPass')).to.equal('Some test string');

      // The old master comes back with the same config and data dir, and the sentinel turns it into a replica.
      await d.start('redis1');
      const r1 = d.endpoint('redis1');
      await waitFor('redis1 to rejoin as a replica of redis2', async () => {
        const info = parseInfo(await respCall(r1.host, r1.port, ['INFO', 'replication'], 'TestPass'));
        return info.role === 'slave' && info.master_host === r2.host && info.master_link_status === 'up';
      }, 30_000, 100);
    });

    it('isolates a host with nft (other namespaces time out), splits, cuts one way, and heals', async () => {
      const d = await deployments.up(topo('sentinel-haproxy.yml'), { target: 'redis' });
      expect(await pingFromHost(d, 'redis3', 'redis1')).to.equal('PONG');

      await d.partition({ kind: 'isolate', host: 'redis1' });
      // Probes run side by side: each failing one waits out its timeout.
      expect(await Promise.all([pingFromHost(d, 'redis3', 'redis1'), pingFromHost(d, 'redis2', 'redis1'), pingFromHost(d, 'redis3', 'redis2')]))
        .to.deep.equal(['failed (null)', 'failed (null)', 'PONG']);
      expect((await d.execInHost('redis1', ['nft', 'list', 'tables'])).output).to.include('rhc_partition');
      await d.heal();
      expect(await pingFromHost(d, 'redis3', 'redis1')).to.equal('PONG');
      expect((await d.execInHost('redis1', ['nft', 'list', 'tables'])).output).to.not.include('rhc_partition');

      await d.partition({ kind: 'split', sides: [['redis1'], ['redis2', 'redis3']] });
      expect(await Promise.all([pingFromHost(d, 'redis2', 'redis1'), pingFromHost(d, 'redis3', 'redis2')])).to.deep.equal(['failed (null)', 'PONG']);
      await d.heal();

      await d.partition({ kind: 'one-way', from: 'redis3', to: 'redis1' });
      expect(await Promise.all([pingFromHost(d, 'redis3', 'redis1'), pingFromHost(d, 'redis2', 'redis1')])).to.deep.equal(['failed (null)', 'PONG']);
      await d.heal();
      expect(await pingFromHost(d, 'redis3', 'redis1')).to.equal('PONG');
      await expectRejects(d.partition({ kind: 'isolate', host: 'nohost' }), /unknown host "nohost"/);
    });

    it('creates cluster-3x2 with redis-cli in the seed order: cluster_state:ok everywhere and perfect anti-affinity', async () => {
      const d = await deployments.up(topo('cluster-3x2.yml', 'ci'), { target: 'redis' });
      for (const r of d.topology.redis) {
        const ep = d.endpoint(r.name);
        const info = parseInfo(await respCall(ep.host, ep.port, ['CLUSTER', 'INFO']));
        expect(info.cluster_state, r.name).to.equal('ok');
        expect(info.cluster_slots_assigned).to.equal('16384');
      }
      const a = d.clusterAssignment!;
      // Masters come from the first three addresses given to redis-cli, as in the seed.
      expect(a.masters).to.deep.equal(['m1', 'm2', 'm3']);
      expect(Object.keys(a.replicaOf).sort()).to.deep.equal(['s1', 's2', 's3']);
      const hostOf = (n: string) => d.topology.redis.find((r) => r.name === n)!.host;
      for (const [replica, master] of Object.entries(a.replicaOf)) expect(hostOf(replica), `${replica} -> ${master}`).to.not.equal(hostOf(master));
      expect(a.antiAffinity).to.equal(true);
      // The other nodes learn the roles by gossip; their view converges on what each node said of itself.
      await waitFor('every node to agree on the roles', async () => {
        const seen = await d.readClusterAssignment();
        return JSON.stringify(seen.masters) === JSON.stringify(a.masters) && Object.entries(a.replicaOf).every(([r, m]) => seen.replicaOf[r] === m);
      }, 20_000, 100);
    });

    it('stops and starts a whole host, pauses and resumes an instance', async () => {
      const d = await deployments.up(topo('sentinel-haproxy.yml'), { target: 'redis' });
      await d.stopHost('redis3');
      expect(d.isRunning('sentinel1')).to.equal(false);
      expect(d.isRunning('haproxy')).to.equal(false);
      await d.startHost('redis3');
      expect(d.isRunning('sentinel1') && d.isRunning('haproxy')).to.equal(true);
      const s = d.endpoint('sentinel1');
      expect(pairs(await respCall(s.host, s.port, ['SENTINEL', 'MASTER', 'master01'])).name).to.equal('master01');

      const r2 = d.endpoint('redis2');
      await d.pause('redis2');
      await expectRejects(respCall(r2.host, r2.port, ['PING'], 'TestPass', 300), /no reply within 300 ms/);
      await d.resume('redis2');
      expect(await respCall(r2.host, r2.port, ['PING'], 'TestPass')).to.equal('PONG');
      await d.restart('redis2');
      expect(await respCall(r2.host, r2.port, ['PING'], 'TestPass')).to.equal('PONG');
    });
  });

  it('routes the links the topology names through Toxiproxy: the client to HAProxy, HAProxy to a backend', async () => {
    const base = topo('sentinel-haproxy.yml');
    const t = { ...base, toxiproxy: { host: 'redis3', apiPort: 18474, links: [
      { name: 'client-haproxy', from: 'client', to: 'haproxy', listenPort: 16379 },
      { name: 'haproxy-redis1', from: 'haproxy', to: 'redis1', listenPort: 16380 },
    ] } };
    const d = await deployments.up(t, { target: 'redis' });
    expect(d.toxiproxyUrl).to.be.a('string');
    const proxies = (await (await fetch(`${d.toxiproxyUrl}/proxies`)).json()) as Record<string, { upstream: string; listen: string }>;
    const r1 = d.endpoint('redis1');
    expect(proxies['haproxy-redis1'].upstream).to.equal(`${r1.host}:${r1.port}`);
    const link = d.linkEndpoint('client-haproxy');
    expect(await respCall(link.host, link.port, ['SET', 'via', 'toxiproxy'], 'TestPass')).to.equal('OK');
    const cfg = d.generatedFiles().find((f) => f.kind === 'haproxy.cfg')!.content;
    const via = d.linkEndpoint('haproxy-redis1');
    expect(cfg).to.include(`server Redis1 ${via.host}:${via.port} check`);
  });

  it("starts from the user's own redis.conf and haproxy.cfg template", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rhc-user-'));
    try {
      writeFileSync(path.join(dir, 'base.conf'), 'maxmemory 10mb\nhz 20\n');
      writeFileSync(path.join(dir, 'haproxy.tmpl'), [
        'defaults', '  mode tcp', '  timeout connect 1s', '  timeout client 1m', '  timeout server 1m',
        'frontend ft', '  bind {{BIND}}', '  default_backend bk_redis',
        'backend bk_redis', '  option tcp-check', '  tcp-check connect', '  tcp-check send AUTH\\ {{PASSWORD}}\\r\\n', '  tcp-check expect string +OK',
        '  tcp-check send info\\ replication\\r\\n', '  tcp-check expect string role:master', '  tcp-check send QUIT\\r\\n', '  tcp-check expect string +OK',
        '{{BACKEND_SERVERS}}', '',
      ].join('\n'));
      const yml = readFileSync(path.join(shippedTopologiesDir(), 'sentinel-haproxy.yml'), 'utf8')
        .replace('    port: 6379\n  - name: redis2', '    port: 6379\n    configFile: ./base.conf\n  - name: redis2')
        .replace('  backends: [redis1, redis2]', '  backends: [redis1, redis2]\n  template: ./haproxy.tmpl');
      writeFileSync(path.join(dir, 't.yml'), yml);
      const d = await deployments.up(loadTopology(path.join(dir, 't.yml')), { target: 'redis' });
      const r1 = d.endpoint('redis1');
      expect(await respCall(r1.host, r1.port, ['CONFIG', 'GET', 'maxmemory'], 'TestPass')).to.deep.equal(['maxmemory', '10485760']);
      expect(await respCall(r1.host, r1.port, ['CONFIG', 'GET', 'hz'], 'TestPass')).to.deep.equal(['hz', '20']);
      expect(await setViaHaproxy(d, 'templated', 'yes')).to.equal('OK');
      expect(d.generatedFiles().find((f) => f.kind === 'haproxy.cfg')!.content).to.include(`bind ${d.endpoint('haproxy').host}:6379`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on loopback aliases: same ports on several hosts, writes through HAProxy, partitions refused with the reason', async () => {
    const d = await deployments.up(topo('sentinel-haproxy.yml'), { target: 'redis', hostMode: 'loopback' });
    expect(d.hostAddress('redis1')).to.match(/^127\.\d+\.\d+\.1$/);
    expect(d.endpoint('redis1').port).to.equal(d.endpoint('redis2').port);
    expect(await setViaHaproxy(d, 'k', 'v')).to.equal('OK');
    expect(d.partitionUnsupportedReason).to.be.a('string').and.match(/namespaces/);
    await expectRejects(d.partition({ kind: 'isolate', host: 'redis1' }), /partitions unsupported: /);
  });

  it('--target applies to Sentinels as well as servers: the mixed quorum becomes all real or all reference', async () => {
    for (const target of ['redis', 'reference'] as const) {
      const d = await deployments.up(topo('sentinel-mixed.yml'), { target, hostMode: 'loopback' });
      expect(d.instances().filter((i) => i.kind !== 'haproxy').map((i) => `${i.name}:${i.target}`)).to.deep.equal(
        ['redis1', 'redis2', 'redis3', 'sentinel1', 'sentinel2', 'sentinel3'].map((n) => `${n}:${target}`));
      // What runs, not only the label: INFO server's executable is the reference bin or Debian's binary.
      for (const name of ['redis1', 'sentinel1', 'sentinel3']) {
        const ep = d.endpoint(name);
        const exe = parseInfo(String(await respCall(ep.host, ep.port, ['INFO', 'server'], name.startsWith('redis') ? 'TestPass' : undefined))).executable ?? '';
        expect(exe, name).to.match(target === 'reference' ? /redis-ref-server\.js$/ : /\/redis-(server|sentinel)$/);
      }
      await deployments.downAll();
    }
  });

  it('stops what it started when bring-up fails, and says why with the log', async () => {
    const t = loadTopologyText('name: broken\nkind: standalone\nredis:\n  - { name: r1, host: a, port: 6390, config: { no-such-directive: "yes" } }\n', 'broken.yml');
    let err: Error | undefined;
    try {
      await deployments.up(t, { target: 'redis' });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/r1 exited .* while waiting for r1 to answer PING; log .*r1\.log:\n[\s\S]*no-such-directive/);
    await deployments.downAll();
  });
});

async function expectRejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(re);
    return;
  }
  expect.fail(`expected a rejection matching ${re}`);
}
