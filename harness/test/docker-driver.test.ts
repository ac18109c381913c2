import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Deployment } from '../src/drivers/driver.js';
import { DockerDriver, type DockerDeployment } from '../src/drivers/docker/index.js';
import { dockerClient, dockerDown, dockerUnavailableReason, listProjectObjects, OWNER_LABEL, RUN_LABEL } from '../src/drivers/docker/cleanup.js';
import { buildLocalImages } from '../src/images/build.js';
import { resolveImage } from '../src/images/config.js';
import { respCall, waitFor } from '../src/drivers/local/probe.js';
import { parseInfo } from '../src/support/info.js';
import { loadTopology, loadTopologyText } from '../src/topology/load.js';
import type { Target, Topology } from '../src/topology/model.js';
import { packageRoot, shippedTopologiesDir } from '../src/topology/paths.js';

const topo = (f: string) => loadTopology(path.join(shippedTopologiesDir(), f), { profile: 'ci' });
const PW = 'TestPass';

/** redis-cli PING from inside an instance's container (its host's namespace): PONG or the failure it saw. */
function pingFrom(d: DockerDeployment, from: string, target: string): string {
  const ep = d.endpoint(target);
  // A dropped SYN leaves redis-cli waiting: the probe is killed at its deadline (code null).
  const r = d.execIn(from, ['redis-cli', '-h', ep.host, '-p', String(ep.port), '-a', PW, '--no-auth-warning', 'PING'], 2000);
  return r.code === 0 ? r.output.trim() : `failed (${r.code})`;
}

describe('docker driver', function () {
  this.timeout(90_000);
  let skipReason: string | undefined;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rhc-docker-test-'));
  const up: Deployment[] = [];

  before(async function () {
    this.timeout(120_000);
    skipReason = await dockerUnavailableReason();
    if (skipReason) {
      this.skip();
      return;
    }
    // Cached: only images whose inputs changed are rebuilt (seconds).
    await buildLocalImages();
  });

  beforeEach(function () {
    if (skipReason) this.skip();
  });

  afterEach(async () => {
    await Promise.all(up.splice(0).map((d) => d.down().catch(() => undefined)));
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  async function bringUp(file: string | Topology, runId: string, target: Target | 'per-topology' = 'redis'): Promise<DockerDeployment> {
    const t = typeof file === 'string' ? topo(file) : file;
    const d = (await new DockerDriver().up(t, { runId, runDir: path.join(tmp, runId), ...(target !== 'per-topology' ? { target } : {}) })) as DockerDeployment;
    up.push(d);
    return d;
  }

  it('says which image is missing and how to get it, in one line', () => {
    expect(() => resolveImage('redis', { redis: 'redis-ha-chaos/nope:0' })).to.throw(/^image redis-ha-chaos\/nope:0 \(images.redis\) not found: .*nothing is pulled$/);
    expect(() => resolveImage('haproxy', {}, () => false)).to.throw('image redis-ha-chaos/haproxy:2.6-local not found: run `npx redis-ha-chaos images build` or set images.haproxy in the topology');
    expect(resolveImage('redis').name).to.equal('redis-ha-chaos/redis:7.0-local');
    // Order: the topology's choice, then the env, then the official image when present, then the stand-in.
    const present = (names: string[]) => (n: string) => names.includes(n);
    expect(resolveImage('redis', {}, present(['redis:7.0', 'redis-ha-chaos/redis:7.0-local']))).to.deep.equal({ name: 'redis:7.0', source: 'official' });
    process.env.REDIS_HA_CHAOS_IMAGE_REDIS = 'mine:1';
    try {
      expect(resolveImage('redis', {}, present(['mine:1', 'redis:7.0']))).to.deep.equal({ name: 'mine:1', source: 'env' });
      expect(resolveImage('redis', { redis: 'topo:1' }, present(['mine:1', 'topo:1']))).to.deep.equal({ name: 'topo:1', source: 'configured' });
      expect(() => resolveImage('redis', {}, present([]))).to.throw('image mine:1 (REDIS_HA_CHAOS_IMAGE_REDIS) not found');
    } finally {
      delete process.env.REDIS_HA_CHAOS_IMAGE_REDIS;
    }
  });

  it('brings up sentinel-haproxy on an internal network and fails over when the master is killed; restart keeps the address; partitions cut hosts', async () => {
    const runId = `dt-sh-${process.pid}`;
    const d = await bringUp('sentinel-haproxy.yml', runId);
    const docker = dockerClient();

    // One container per instance plus one holder per host, all labelled; the network is internal.
    const objs = await listProjectObjects(docker, runId);
    expect(objs.containers).to.have.length(4 + 3);
    expect(objs.networks).to.have.length(1);
    const netInfo = await docker.getNetwork(objs.networks[0].id).inspect() as { Internal: boolean };
    expect(netInfo.Internal).to.equal(true);
    const ids = d.dockerObjects().containers;
    for (const id of ids) {
      const nets = Object.keys((await docker.getContainer(id).inspect()).NetworkSettings.Networks);
      expect(nets.every((n) => n === d.dockerObjects().network), `container ${id} networks ${nets}`).to.equal(true);
    }
    // The generated configs name the containers' own addresses, as a real deployment would.
    const r1 = d.endpoint('redis1');
    expect(d.generatedFiles().find((f) => f.instance === 'redis2')!.content).to.contain(`replicaof ${r1.host} ${r1.port}`);

    const hp = d.endpoint('haproxy');
    expect(await respCall(hp.host, hp.port, ['SET', 'k', 'v1'], PW, 1000)).to.equal('OK');

    // Partition first, while the topology is whole: nft rules in redis2's namespace cut it from redis1 only.
    await d.partition({ kind: 'isolate', host: 'redis2' });
    expect(pingFrom(d, 'redis2', 'redis1')).to.match(/^failed/);
    expect(await respCall(d.endpoint('redis2').host, 6379, ['PING'], PW, 1000)).to.equal('PONG');
    await d.heal();
    expect(pingFrom(d, 'redis2', 'redis1')).to.equal('PONG');

    await d.kill('redis1');
    expect(d.isRunning('redis1')).to.equal(false);
    const r2 = d.endpoint('redis2');
    const s = d.endpoint('sentinel1');
    await waitFor('sentinel to promote redis2', async () => {
      const addr = await respCall(s.host, s.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'master01'], undefined, 500);
      return Array.isArray(addr) && addr[0] === r2.host;
    }, 30_000, 100);
    const sentinelLog = d.instances().find((i) => i.name === 'sentinel1')!.logFile;
    await waitFor('the sentinel\'s live log to show the switch', async () => readFileSync(sentinelLog, 'utf8').includes('+switch-master master01'), 5000, 50);
    await waitFor('a write through HAProxy to land on redis2', async () => (await respCall(hp.host, hp.port, ['SET', 'k', 'v2'], PW, 500)) === 'OK', 15_000, 100);
    expect(await respCall(r2.host, r2.port, ['GET', 'k'], PW, 500)).to.equal('v2');

    // The same container comes back at the same address and the sentinel turns it into a replica.
    await d.start('redis1');
    expect(d.endpoint('redis1')).to.deep.equal(r1);
    await waitFor('redis1 to rejoin as a replica of redis2', async () => {
      const info = parseInfo(await respCall(r1.host, r1.port, ['INFO', 'replication'], PW, 500));
      return info.role === 'slave' && info.master_host === r2.host && info.master_link_status === 'up';
    }, 30_000, 100);

    await d.pause('redis2');
    expect(d.isRunning('redis2')).to.equal(false);
    await d.resume('redis2');
    expect(await respCall(r2.host, r2.port, ['PING'], PW, 1000)).to.equal('PONG');

    const r1Log = d.instances().find((i) => i.name === 'redis1')!.logFile;
    const readyLines = () => readFileSync(r1Log, 'utf8').split('\n').filter((l) => l.includes('Ready to accept connections')).length;
    await waitFor('redis1\'s live log to hold both of its starts', async () => readyLines() === 2, 5000, 50);
    await d.down();
    expect(readFileSync(sentinelLog, 'utf8')).to.contain('+switch-master master01');
    expect(readyLines(), 'the complete log after down: one line per start').to.equal(2);
    const left = await listProjectObjects(docker, runId);
    expect(left.containers.length + left.networks.length).to.equal(0);
  });

  it('brings up cluster-3x2 to cluster_state:ok with the containers\' own addresses announced', async () => {
    const d = await bringUp('cluster-3x2.yml', `dt-cl-${process.pid}`);
    const addrs = new Set(d.topology.hosts.map((h) => d.hostAddress(h.name)));
    expect(addrs.size).to.equal(3);
    for (const r of d.topology.redis) {
      const ep = d.endpoint(r.name);
      const info = parseInfo(await respCall(ep.host, ep.port, ['CLUSTER', 'INFO'], undefined, 1000));
      expect(info.cluster_state, r.name).to.equal('ok');
      expect(info.cluster_known_nodes).to.equal('6');
    }
    const m1 = d.endpoint('m1');
    const nodes = String(await respCall(m1.host, m1.port, ['CLUSTER', 'NODES'], undefined, 1000)).trim().split('\n');
    const announced = nodes.map((l) => l.split(' ')[1].split(':')[0]);
    expect(announced.every((a) => addrs.has(a)), announced.join(' ')).to.equal(true);
    // No HAProxy in this topology: no backends to report, rather than a socket path built from a missing name.
    expect(await d.haproxyBackendStatus()).to.deep.equal({});
    // Two instances share each host's namespace: same address, different ports.
    expect(d.endpoint('s2').host).to.equal(m1.host);

    // A stopped host stops all of its containers; started again, they answer at the same address.
    await d.stopHost('redis1');
    expect(['m1', 's2'].map((n) => d.isRunning(n))).to.deep.equal([false, false]);
    expect(d.isRunning('m2')).to.equal(true);
    await d.startHost('redis1');
    for (const n of ['m1', 's2']) expect(await respCall(d.endpoint(n).host, d.endpoint(n).port, ['PING'], undefined, 1000)).to.equal('PONG');
  });

  it('routes links through the Toxiproxy container, with the reference server on the node image', async () => {
    const d = await bringUp('sentinel-haproxy-toxiproxy.yml', `dt-tx-${process.pid}`, 'per-topology');
    expect(d.instances().find((i) => i.name === 'redis1')!.target).to.equal('reference');
    expect(d.generatedFiles().find((f) => f.kind === 'haproxy.cfg')!.content).to.contain(`${d.hostAddress('redis3')}:16380`);
    const ep = d.linkEndpoint!('client-haproxy');
    expect(await respCall(ep.host, ep.port, ['SET', 'k', 'v'], PW, 2000)).to.equal('OK');
    const res = await fetch(`${d.toxiproxyUrl}/proxies/client-haproxy/toxics`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'latency', stream: 'downstream', attributes: { latency: 300 } }),
    });
    expect(res.status).to.equal(200);
    const t0 = performance.now();
    expect(await respCall(ep.host, ep.port, ['GET', 'k'], PW, 3000)).to.equal('v');
    expect(performance.now() - t0).to.be.greaterThan(290);
  });

  it('a failed bring-up says which container exited, with its log, and removes everything it created', async () => {
    const runId = `dt-bad-${process.pid}`;
    const bad = loadTopologyText('name: bad\nkind: standalone\nhosts: [h1]\nredis:\n  - { name: r1, host: h1, port: 6379, config: { no-such-directive: "1" } }\n', '<test>');
    let err: Error | undefined;
    try {
      await bringUp(bad, runId);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/^r1 \(container \w+, image redis-ha-chaos\/redis:7.0-local\) exited while waiting for r1 to answer PING; its log:/);
    expect(err?.message).to.contain('no-such-directive');
    const left = await listProjectObjects(dockerClient(), runId);
    expect(left.containers.length + left.networks.length).to.equal(0);
  });

  it('Ctrl-C on `up` removes the run\'s containers and network', async () => {
    const cli = path.join(packageRoot(), 'dist', 'harness', 'src', 'cli', 'main.js');
    const env = { ...process.env, REDIS_HA_CHAOS_STATE_DIR: mkdtempSync(path.join(tmp, 'state-')) };
    const child = spawn(process.execPath, [cli, 'up', path.join(shippedTopologiesDir(), 'sentinel-haproxy.yml'), '--driver', 'docker', '--target', 'redis', '--profile', 'ci', '--out', path.join(tmp, 'ctrlc')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await waitFor('`up` to report the deployment running', async () => out.includes('running; press Ctrl-C'), 60_000, 50);
      const runId = /run (\S+) in /.exec(out)![1];
      expect((await listProjectObjects(dockerClient(), runId)).containers).to.have.length(7);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      expect(await exited, out).to.equal(0);
      const left = await listProjectObjects(dockerClient(), runId);
      expect(left.containers.length + left.networks.length, out).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('leaves nothing behind when the harness is killed with SIGKILL in the middle of a run, once down --all has run', async () => {
    const stateDir = mkdtempSync(path.join(tmp, 'state-'));
    // A private state dir: `down` must not touch the local runs other tests on this machine have in flight.
    const env = { ...process.env, REDIS_HA_CHAOS_STATE_DIR: stateDir };
    const cli = path.join(packageRoot(), 'dist', 'harness', 'src', 'cli', 'main.js');
    const topoFile = path.join(shippedTopologiesDir(), 'cluster-3x2.yml');
    const child: ChildProcess = spawn(process.execPath, [cli, 'up', topoFile, '--driver', 'docker', '--target', 'redis', '--profile', 'ci', '--out', path.join(tmp, 'killed')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const docker = dockerClient();
    try {
      const runId = await waitFor('the harness to start its containers', async () => {
        const mine = (await listProjectObjects(docker)).containers.filter((c) => c.ownerPid === child.pid);
        return mine.length >= 3 ? mine[0].runId : false;
      }, 30_000, 50);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const leftover = await listProjectObjects(docker, runId);
      expect(leftover.containers.length, `a SIGKILLed harness cannot clean up; output:\n${out}`).to.be.greaterThan(0);
      expect(leftover.networks).to.have.length(1);

      // `down --all` also sweeps every rhc* namespace and bridge; other tests on this machine have theirs in flight,
      // so it runs in private mount and network namespaces where only Docker (a unix socket) is shared.
      const isolated = ['unshare', '-m', '-n', 'sh', '-c', '[ ! -d /run/netns ] || mount -t tmpfs tmpfs /run/netns; exec "$@"', 'sh'];
      const canIsolate = spawnSync('unshare', ['-m', '-n', 'true']).status === 0;
      const argv = canIsolate ? [...isolated, process.execPath, cli, 'down', '--all'] : [process.execPath, cli, 'down'];
      const down = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', timeout: 60_000 });
      expect(down.status, down.stdout + down.stderr).to.equal(0);
      expect(down.stdout).to.contain(`removed network rhc-${runId}`);
      const after = await listProjectObjects(docker);
      expect(after.containers.filter((c) => c.runId === runId)).to.deep.equal([]);
      expect(after.networks.filter((n) => n.runId === runId)).to.deep.equal([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('down keeps a live harness\'s objects; --all removes everything the project labelled', async () => {
    const docker = dockerClient();
    const runId = `dt-live-${process.pid}`;
    // pid 1 stands for another harness that is still alive.
    await docker.createNetwork({ Name: `rhc-${runId}`, Internal: true, Labels: { [RUN_LABEL]: runId, [OWNER_LABEL]: '1' } });
    try {
      const lines: string[] = [];
      await dockerDown({ all: false, out: (l) => lines.push(l) });
      expect((await listProjectObjects(docker, runId)).networks).to.have.length(1);
      expect(lines.join('\n')).to.contain(`docker run ${runId} is still running (pid 1)`);
      await dockerDown({ all: true, out: (l) => lines.push(l) });
      expect((await listProjectObjects(docker)).networks.length + (await listProjectObjects(docker)).containers.length).to.equal(0);
      expect(lines).to.include(`docker: removed network rhc-${runId}`);
    } finally {
      await docker.getNetwork(`rhc-${runId}`).remove().catch(() => undefined);
    }
  });
});
