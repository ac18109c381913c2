/**
 * The docker driver: one container per Redis instance, Sentinel, HAProxy and Toxiproxy, on one internal network
 * per run. Each topology host is a "pod": a small holder container owns the host's network namespace (its
 * address, and the host name plus its instance names as network aliases), and every container of that host joins
 * it (NetworkMode container:<holder>). So addresses and ports are exactly the YAML's, the generated config files
 * are the local driver's, a restarted container keeps its address, and host-level faults (stop/start a host,
 * partitions) apply to every container of the host. Partitions are nft rules inside the pod's namespace (nsenter
 * from the host as root), not network disconnects: a disconnect cuts the harness off too and cannot be one-way.
 */
import { createWriteStream, type WriteStream, mkdirSync, openSync, closeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type Docker from 'dockerode';
import type { GenericContainer as GenericContainerType, StartedTestContainer } from 'testcontainers';
import type {
  Deployment, Driver, InstanceKind, UpOptions,
} from '../driver.js';
import type { Target, Topology } from '../../topology/model.js';
import { generateConfigs, redisDataDir, type ConfigLayout } from '../../config-gen/index.js';
import { registerTeardown } from '../../cleanup/registry.js';
import { haproxyNeverRouted, respCall, waitFor } from '../local/probe.js';
import { FatalWaitError } from '../../support/time.js';
import { parseInfo } from '../../support/info.js';
import { REFERENCE_SERVER_NODE_FLAGS, startInOrder, writeGeneratedFiles } from '../shared/bring-up.js';
import { redisCliClusterCreate, waitClusterStateOk } from '../shared/cluster-create.js';
import { DeploymentBase, type BaseMember } from '../shared/deployment-base.js';
import { haproxyMaster, waitAnswering } from '../shared/readiness.js';
import { isGoToxiproxy, resolveImage, type ImageChoice, type ImageRole, type ResolvedImage } from '../../images/config.js';
import { dockerClient, dockerUnavailableReason, OWNER_LABEL, removeProjectObjects, removeRunSync, ROLE_LABEL, RUN_LABEL } from './cleanup.js';
import { nftDropRules, nftHeal } from './partition.js';

export { dockerDown, listProjectObjects, RUN_LABEL } from './cleanup.js';

export interface DockerDriverOptions {
  /** Image per role; wins over the topology's `images`, env REDIS_HA_CHAOS_IMAGE_<ROLE> and the defaults. */
  images?: ImageChoice;
}

interface Pod {
  host: string;
  containerId: string;
  address: string;
  /** pid of the holder's process, whose network namespace the host's containers share. */
  pid: number;
}

interface Member extends BaseMember {
  image: string;
  argv: string[];
  logFile: string;
  containerId?: string;
  running: boolean;
  paused: boolean;
}

const READY_MS = 20_000;
const NODE_DIR = '/app';

// Ryuk (testcontainers' reaper) cannot be pulled here; the harness removes everything itself, by label.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

let containerClass: Promise<typeof GenericContainerType> | undefined;

/** testcontainers' builder, plus the endpoint aliases withNetworkAliases cannot set without the default bridge. */
async function builderClass(): Promise<typeof GenericContainerType> {
  containerClass ??= import('testcontainers').then(({ GenericContainer }) => GenericContainer);
  return containerClass;
}

async function newBuilder(image: string): Promise<GenericContainerType> {
  const Base = await builderClass();
  return new Base(image);
}

function withEndpointAliases(b: GenericContainerType, network: string, aliases: string[]): GenericContainerType {
  b.withNetworkMode(network);
  // createOpts is protected in testcontainers' typings; this is its documented-by-source extension point.
  (b as unknown as { createOpts: Docker.ContainerCreateOptions }).createOpts.NetworkingConfig = { EndpointsConfig: { [network]: { Aliases: aliases } } };
  return b;
}

function safeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export class DockerDriver implements Driver {
  readonly name = 'docker' as const;
  constructor(private readonly opts: DockerDriverOptions = {}) {}

  async up(topology: Topology, opts: UpOptions): Promise<Deployment> {
    const docker = dockerClient();
    const why = await dockerUnavailableReason(docker);
    if (why) throw new Error(`driver docker: ${why}`);
    const d = new DockerDeployment(topology, opts, docker, { ...topology.images, ...this.opts.images });
    return d.upOrDown();
  }
}

export function createDockerDriver(): Driver {
  return new DockerDriver();
}

export class DockerDeployment extends DeploymentBase<Member> implements Deployment {
  readonly driverName = 'docker';
  readonly partitionUnsupportedReason?: string;
  /** Image per role, as resolved for this run. */
  readonly images = new Map<ImageRole, ResolvedImage>();

  private readonly pods = new Map<string, Pod>();
  private networkId?: string;
  private readonly networkName: string;
  private unregister?: () => void;
  private events?: NodeJS.ReadableStream;
  private readonly labels: Record<string, string>;
  private localImages?: Set<string>;
  private readonly logStreams = new Set<{ stream: NodeJS.ReadableStream; file: WriteStream }>();

  constructor(
    topology: Topology,
    opts: UpOptions,
    private readonly docker: Docker,
    private readonly imageChoice: ImageChoice,
  ) {
    super(topology, opts);
    this.networkName = `rhc-${safeName(this.runId)}`;
    this.labels = { [RUN_LABEL]: this.runId, [OWNER_LABEL]: String(process.pid) };
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!root) this.partitionUnsupportedReason = 'not root: partitions are nft rules entered into the containers\' network namespaces with nsenter (run as root)';
    else if (spawnSync('nft', ['--version'], { stdio: 'ignore' }).status !== 0) this.partitionUnsupportedReason = 'nft is not installed on the host (apt-get install nftables)';
  }

  // ---- bring-up -------------------------------------------------------------------------------------------

  private image(role: ImageRole): string {
    let r = this.images.get(role);
    if (!r) {
      r = resolveImage(role, this.imageChoice, this.localImages ? (n) => this.localImages!.has(n) || this.localImages!.has(`${n}:latest`) : undefined);
      this.images.set(role, r);
      this.log(`image for ${role}: ${r.name} (${r.source})`);
    }
    return r.name;
  }

  async bringUp(): Promise<void> {
    const t0 = Date.now();
    const topo = this.topology;
    mkdirSync(this.runDir, { recursive: true });
    this.unregister = registerTeardown({ name: `docker deployment ${this.runId}`, run: () => this.down(), runSync: () => removeRunSync(this.runId) });

    // testcontainers takes a few hundred ms to load: overlap that with the image listing and network creation.
    const loading = builderClass();
    loading.catch(() => undefined); // awaited below; this only keeps an early failure elsewhere from leaving it unhandled
    // One listing instead of an inspect per candidate image.
    this.localImages = new Set((await this.docker.listImages()).flatMap((i) => i.RepoTags ?? []));
    // Every image is resolved before anything starts, so a missing one fails fast with its one-line fix.
    for (const r of topo.redis) this.image(r.target === 'redis' ? 'redis' : 'reference');
    for (const s of topo.sentinels) this.image(s.target === 'redis' ? 'redis' : 'reference');
    if (topo.haproxy) this.image('haproxy');
    if (topo.toxiproxy) this.image('toxiproxy');
    const holderImage = [...this.images.values()].find((i) => !isGoToxiproxy(i.name))?.name ?? this.image('redis');

    const netw = await this.docker.createNetwork({ Name: this.networkName, Internal: true, CheckDuplicate: true, Labels: { ...this.labels, [ROLE_LABEL]: 'network' } });
    this.networkId = netw.id;
    this.startEvents();
    await loading;

    const hosts = topo.hosts.map((h) => h.name);
    await Promise.all(hosts.map((h) => this.startPod(h, holderImage)));
    this.log(`hosts: ${hosts.map((h) => `${h}=${this.address(h)}`).join(' ')} (docker network ${this.networkName}, internal)`);

    const layout: ConfigLayout = {
      address: (h) => this.address(h),
      instanceDir: (n) => path.join(this.runDir, 'instances', n),
      announce: false,
      haproxyStatsSocket: topo.haproxy ? this.haproxySocket() : undefined,
      route: (from, to) => {
        const l = topo.toxiproxy?.links.find((x) => x.from === from && x.to === to);
        return l ? this.linkEndpoint(l.name) : undefined;
      },
    };
    this.files = generateConfigs(topo, layout);
    writeGeneratedFiles(this.files);
    for (const r of topo.redis) {
      mkdirSync(redisDataDir(layout, r.name), { recursive: true });
      this.addMember(r.name, 'redis', r.host, r.port, r.target, this.serverArgv(r.target, this.fileOf(r.name), false));
    }
    for (const s of topo.sentinels) this.addMember(s.name, 'sentinel', s.host, s.port, s.target, this.serverArgv(s.target, this.fileOf(s.name), true));
    if (topo.haproxy) {
      const h = topo.haproxy;
      this.addMember(h.name, 'haproxy', h.host, h.port, undefined, ['haproxy', '-db', '-f', this.fileOf(h.name)]);
    }
    if (topo.toxiproxy) {
      const t = topo.toxiproxy;
      const img = this.image('toxiproxy');
      const argv = isGoToxiproxy(img) ? ['-host', '0.0.0.0', '-port', String(t.apiPort)] : ['node', `${NODE_DIR}/toxiproxy.mjs`, '--host', '0.0.0.0', '--port', String(t.apiPort)];
      this.addMember('toxiproxy', 'toxiproxy', t.host, t.apiPort, undefined, argv);
      await this.startToxiproxy();
    }

    await startInOrder(this.steps());
    this.readyMs = Date.now() - t0;
    this.log(`deployment ${this.runId} ready in ${this.readyMs} ms`);
  }

  protected haproxySocket(): string {
    return path.join(this.runDir, 'instances', this.topology.haproxy!.name, 'admin.sock');
  }

  /** Follows the run's container events, so isRunning() sees a container that died on its own. */
  private startEvents(): void {
    void this.docker.getEvents({ filters: { label: [`${RUN_LABEL}=${this.runId}`], type: ['container'] } }).then((stream) => {
      this.events = stream;
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            const ev = JSON.parse(line) as { status?: string; id?: string };
            const m = [...this.members.values()].find((x) => x.containerId === ev.id);
            if (!m) continue;
            if (ev.status === 'die') m.running = false;
            else if (ev.status === 'start') m.running = true;
          } catch {
            // a partial or foreign line
          }
        }
      });
      stream.on('error', () => undefined);
      if (this.downPromise) (stream as unknown as { destroy(): void }).destroy();
    }, () => undefined);
  }

  private async startPod(host: string, image: string): Promise<void> {
    const aliases = [host, ...this.topology.redis.filter((r) => r.host === host).map((r) => r.name),
      ...this.topology.sentinels.filter((s) => s.host === host).map((s) => s.name),
      ...(this.topology.haproxy?.host === host ? [this.topology.haproxy.name] : [])];
    const b = await newBuilder(image);
    withEndpointAliases(b, this.networkName, [...new Set(aliases)]);
    b.withName(`${this.networkName}-host-${safeName(host)}`)
      .withLabels({ ...this.labels, [ROLE_LABEL]: 'host', 'redis-ha-chaos.host': host })
      .withEntrypoint(['sleep'])
      .withCommand(['infinity'])
      .withHostname(host)
      .withStartupTimeout(READY_MS);
    const started = await b.start();
    const info = await this.docker.getContainer(started.getId()).inspect();
    const address = info.NetworkSettings.Networks[this.networkName]?.IPAddress;
    if (!address) throw new Error(`host container for ${host} has no address on ${this.networkName}`);
    this.pods.set(host, { host, containerId: started.getId(), address, pid: info.State.Pid });
  }

  private serverArgv(target: Target, conf: string, sentinel: boolean): string[] {
    if (target === 'reference') return ['node', ...REFERENCE_SERVER_NODE_FLAGS, `${NODE_DIR}/dist/reference-server/bin/redis-ref-server.js`, conf, ...(sentinel ? ['--sentinel'] : [])];
    return sentinel ? ['redis-sentinel', conf] : ['redis-server', conf];
  }

  private addMember(name: string, kind: InstanceKind, host: string, port: number, target: Target | undefined, argv: string[]): void {
    const dir = path.join(this.runDir, 'instances', name);
    mkdirSync(dir, { recursive: true });
    const role: ImageRole = kind === 'haproxy' ? 'haproxy' : kind === 'toxiproxy' ? 'toxiproxy' : target === 'redis' ? 'redis' : 'reference';
    const m: Member = { name, kind, host, port, image: this.image(role), argv, logFile: path.join(dir, `${name}.log`), running: false, paused: false };
    if (target) m.target = target;
    this.members.set(name, m);
  }

  private pod(host: string): Pod {
    const p = this.pods.get(host);
    if (!p) throw new Error(`unknown host "${host}"; expected one of ${[...this.pods.keys()].join(', ')}`);
    return p;
  }

  protected address(host: string): string {
    return this.pod(host).address;
  }

  /** Creates the container on first start (testcontainers), later starts the same container again (same address). */
  protected async startMember(name: string): Promise<void> {
    const m = this.member(name);
    if (m.containerId) {
      await this.docker.getContainer(m.containerId).start();
      m.running = true;
      await this.followLogs(m);
      return;
    }
    const dir = path.join(this.runDir, 'instances', name);
    const b = await newBuilder(m.image);
    b.withName(`${this.networkName}-${safeName(name)}`)
      .withNetworkMode(`container:${this.pod(m.host).containerId}`)
      .withLabels({ ...this.labels, [ROLE_LABEL]: m.kind, 'redis-ha-chaos.instance': name, 'redis-ha-chaos.host': m.host })
      .withBindMounts([{ source: dir, target: dir, mode: 'rw' }])
      .withWorkingDir(dir)
      // Official images may switch to an unprivileged USER that cannot write the bind-mounted run folder.
      .withUser('0')
      .withCommand(m.argv)
      .withStartupTimeout(READY_MS);
    const started: StartedTestContainer = await b.start();
    m.containerId = started.getId();
    m.running = true;
    await this.followLogs(m);
  }

  /** Appends the container's output to its log file while it runs; each start follows from its own start time. */
  private async followLogs(m: Member): Promise<void> {
    const c = this.docker.getContainer(m.containerId!);
    try {
      const startedAt = (await c.inspect()).State.StartedAt;
      const since = Date.parse(startedAt) / 1000 - 0.001;
      const stream = (await c.logs({ follow: true, stdout: true, stderr: true, timestamps: true, since })) as unknown as NodeJS.ReadableStream;
      const file = createWriteStream(m.logFile, { flags: 'a' });
      // Data can still arrive after teardown ended the file: drop it rather than write after end.
      const sink = { write: (b: Buffer) => (file.writableEnded || file.destroyed ? true : file.write(b)) } as unknown as NodeJS.WritableStream;
      this.docker.modem.demuxStream(stream, sink, sink);
      stream.on('end', () => file.end());
      stream.on('error', () => file.end());
      const entry = { stream, file };
      this.logStreams.add(entry);
      file.on('close', () => this.logStreams.delete(entry));
    } catch {
      // Live logs are a convenience: down() writes the complete log from docker in any case.
    }
  }

  private container(name: string): Docker.Container {
    const m = this.member(name);
    if (!m.containerId) throw new Error(`${name} was never started`);
    return this.docker.getContainer(m.containerId);
  }

  /** The container's output so far (stdout and stderr), as docker logs prints it. */
  logsOf(name: string, tail?: number): string {
    const m = this.member(name);
    if (!m.containerId) return '';
    const r = spawnSync('docker', ['logs', ...(tail ? ['--tail', String(tail)] : []), m.containerId], { encoding: 'utf8', timeout: 10_000 });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`;
  }

  /** Rewrites each container's log file from docker, complete (docker keeps it across restarts of the container). */
  collectLogs(): void {
    for (const m of this.members.values()) {
      if (!m.containerId) continue;
      const fd = openSync(m.logFile, 'w');
      try {
        spawnSync('docker', ['logs', '--timestamps', m.containerId], { stdio: ['ignore', fd, fd], timeout: 20_000 });
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Polls, but gives up at once with the log's tail when the container has exited. */
  protected async awaitMember<T>(name: string, what: string, check: () => Promise<T | false | undefined>, timeoutMs = READY_MS): Promise<T> {
    const m = this.member(name);
    const exited = () => new FatalWaitError(`${name} (container ${m.containerId?.slice(0, 12)}, image ${m.image}) exited while waiting for ${what}; its log:\n${this.logsOf(name, 20)}`);
    return waitFor(what, async () => {
      if (!m.running) throw exited();
      let failure: unknown;
      try {
        const v = await check();
        if (v !== false && v !== undefined) return v;
      } catch (e) {
        failure = e;
      }
      // Events can miss a container that died before its id was known: ask Docker before trying again.
      if (m.containerId && !(await this.docker.getContainer(m.containerId).inspect()).State.Running) {
        m.running = false;
        throw exited();
      }
      if (failure) throw failure;
      return false;
    }, timeoutMs);
  }

  protected async waitHaproxyRoutesToMasterOnce(): Promise<void> {
    const h = this.topology.haproxy!;
    const master = haproxyMaster(this.topology);
    const ep = this.endpoint(h.name);
    const viaSocket = (this.files.find((f) => f.kind === 'haproxy.cfg')?.content ?? '').includes(this.haproxySocket());
    let streak = 0;
    await this.awaitMember(h.name, `HAProxy to route only to ${master}`, async () => {
      if (viaSocket) {
        // HAProxy starts every server UP; its role checks must first mark the replicas DOWN.
        const st = await this.haproxyBackendStatus();
        if (!Object.entries(st).every(([b, s]) => (b === master ? s.startsWith('UP') : s.startsWith('DOWN')))) return false;
      }
      const role = await respCall(ep.host, ep.port, ['ROLE'], h.password, 500);
      streak = Array.isArray(role) && role[0] === 'master' ? streak + 1 : 0;
      return streak >= (viaSocket ? 1 : 5);
    });
  }

  protected async createCluster(): Promise<void> {
    const nodes = await redisCliClusterCreate(this.topology, 'docker', this.runDir, (n) => this.describe(n));
    await waitClusterStateOk(this.steps(), nodes);
    // Replicas must have their link up before a scenario can count on them.
    await Promise.all(nodes.map((r) => {
      const ep = this.endpoint(r.name);
      return this.awaitMember(r.name, `${r.name} to be a master or a replica with its link up`, async () => {
        const info = parseInfo(await respCall(ep.host, ep.port, ['INFO', 'replication'], r.password, 500));
        return info.role === 'master' || info.master_link_status === 'up';
      });
    }));
    this.log(`cluster ok: ${nodes.length} nodes`);
  }

  private async startToxiproxy(): Promise<void> {
    const t = this.topology.toxiproxy!;
    await this.startMember('toxiproxy');
    const url = `http://${this.address(t.host)}:${t.apiPort}`;
    await this.awaitMember('toxiproxy', 'the toxiproxy API to answer', async () => (await fetch(`${url}/version`, { signal: AbortSignal.timeout(500) })).ok);
    this.toxiproxyUrl = url;
    for (const l of t.links) {
      const to = this.member(l.to);
      const res = await fetch(`${url}/proxies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: l.name, listen: `0.0.0.0:${l.listenPort}`, upstream: `${this.address(to.host)}:${to.port}`, enabled: true }),
      });
      if (!res.ok) throw new Error(`toxiproxy: creating proxy ${l.name} failed: ${res.status} ${await res.text()}`);
    }
  }

  // ---- Deployment ---------------------------------------------------------------------------------------

  protected logFileOf(m: Member): string {
    return m.logFile;
  }

  /** Runs a command inside an instance's container (its host's network namespace); resolves with the exit code and output. */
  execIn(name: string, argv: string[], timeoutMs = 5000): { code: number | null; output: string } {
    const m = this.member(name);
    if (!m.containerId) throw new Error(`${name} was never started`);
    const r = spawnSync('docker', ['exec', m.containerId, ...argv], { encoding: 'utf8', timeout: timeoutMs });
    // Killed at its deadline, the docker client may still exit 0: a timeout is no exit code at all.
    return { code: r.error ? null : r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  }

  /** The run's docker network and containers, for leak checks. */
  dockerObjects(): { network: string; containers: string[] } {
    return {
      network: this.networkName,
      containers: [...[...this.pods.values()].map((p) => p.containerId), ...[...this.members.values()].map((m) => m.containerId).filter((x): x is string => !!x)],
    };
  }

  async versions(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const first = (name: string, argv: string[]) => {
      const m = this.members.get(name);
      if (!m?.containerId || !m.running) return '';
      return (spawnSync('docker', ['exec', m.containerId, ...argv], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '').split('\n')[0].trim();
    };
    const redis = [...this.members.values()].find((m) => m.target === 'redis');
    if (redis) out['redis-server'] = first(redis.name, ['redis-server', '--version']).replace(/^Redis server v=(\S+).*/, '$1');
    const ref = [...this.members.values()].find((m) => m.target === 'reference');
    if (ref) out['reference-server'] = `redis-ha-chaos reference server (${first(ref.name, ['node', '--version']) || 'node'})`;
    if (this.topology.haproxy) out.haproxy = first(this.topology.haproxy.name, ['haproxy', '-v']).replace(/^HAProxy version (\S+).*/, '$1');
    for (const [role, img] of this.images) out[`image:${role}`] = img.name;
    return out;
  }

  isRunning(name: string): boolean {
    const m = this.member(name);
    return m.running && !m.paused;
  }

  private async signal(name: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const m = this.member(name);
    if (!m.containerId || !m.running) return;
    const c = this.container(name);
    // A frozen container would only see SIGTERM once thawed; unfreeze it first, as for a paused process.
    if (m.paused) await this.resume(name);
    try {
      await c.kill({ signal });
    } catch (e) {
      if (!/is not running/.test((e as Error).message)) throw e;
    }
    const stopped = c.wait({ condition: 'not-running' });
    if (signal === 'SIGTERM') {
      const timer = setTimeout(() => void c.kill({ signal: 'SIGKILL' }).catch(() => undefined), 10_000);
      await stopped.finally(() => clearTimeout(timer));
    } else await stopped;
    m.running = false;
  }

  async kill(name: string): Promise<void> {
    await this.signal(name, 'SIGKILL');
  }

  async terminate(name: string): Promise<void> {
    await this.signal(name, 'SIGTERM');
  }

  async pause(name: string): Promise<void> {
    const m = this.member(name);
    if (!m.running || m.paused) return;
    await this.container(name).pause();
    m.paused = true;
  }

  async resume(name: string): Promise<void> {
    const m = this.member(name);
    if (!m.paused) return;
    await this.container(name).unpause();
    m.paused = false;
  }

  /** Starts a stopped instance's same container (same address, config and data dir) and waits until it answers. */
  async start(name: string): Promise<void> {
    const m = this.member(name);
    if (m.running) return;
    await this.startMember(name);
    await waitAnswering(this.steps(), name, m.kind, ['haproxy', 'toxiproxy']);
  }

  protected upForStopHost(m: Member): boolean {
    return m.running;
  }

  protected partitionsWork(): boolean {
    return !this.partitionUnsupportedReason;
  }

  protected async applyDrops(host: string, dropFrom: string[], dropTo: string[]): Promise<void> {
    await nftDropRules(this.pod(host).pid, dropFrom, dropTo);
  }

  protected async clearDrops(host: string): Promise<void> {
    await nftHeal(this.pod(host).pid);
  }

  protected async teardown(): Promise<void> {
    const errors: string[] = [];
    (this.events as unknown as { destroy?(): void } | undefined)?.destroy?.();
    // Live appenders must be closed before the complete log replaces their files.
    await Promise.all([...this.logStreams].map(({ stream, file }) => new Promise<void>((resolve) => {
      (stream as unknown as { destroy?(): void }).destroy?.();
      if (file.closed) return resolve();
      const timer = setTimeout(resolve, 2000);
      file.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      file.end();
    })));
    try {
      this.collectLogs();
    } catch (e) {
      errors.push(`logs: ${(e as Error).message}`);
    }
    try {
      await removeProjectObjects(this.docker, { runId: this.runId });
    } catch (e) {
      errors.push((e as Error).message);
      removeRunSync(this.runId);
    }
    this.unregister?.();
    if (errors.length) throw new Error(`teardown of ${this.runId}: ${errors.join('; ')}`);
  }
}
