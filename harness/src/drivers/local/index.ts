/**
 * The local driver: every instance is a child process of the harness. As root each topology host is a network
 * namespace on a bridge the run creates (so partitions work); otherwise each host is a loopback alias 127.X.Y.Z.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createHash, randomInt } from 'node:crypto';
import type {
  Deployment, Driver, Endpoint, InstanceKind, UpOptions,
} from '../driver.js';
import type { Target, Topology } from '../../topology/model.js';
import { generateConfigs, redisDataDir, type ConfigLayout } from '../../config-gen/index.js';
import { SupervisedProcess } from '../../process/supervisor.js';
import { registerTeardown } from '../../cleanup/registry.js';
import { cleanupRun, removeMarker, stateDir, writeMarker, type RunMarker } from '../../cleanup/state.js';
import { applyDropRules, clearDropRules, createHostNetwork, destroyHostNetwork, isRoot, netnsUnusableReason, type HostNetwork } from '../../netns/index.js';
import { packageRoot } from '../../topology/paths.js';
import { startToxiproxyServer } from '../../toxiproxy/server.js';
import { haproxyNeverRouted, respCall, waitFor } from './probe.js';
import { FatalWaitError } from '../../support/time.js';
import { parseInfo } from '../../support/info.js';
import { REFERENCE_SERVER_NODE_FLAGS, startInOrder, writeGeneratedFiles } from '../shared/bring-up.js';
import { antiAffinity, redisCliClusterCreate, waitClusterStateOk } from '../shared/cluster-create.js';
import { DeploymentBase, type BaseMember } from '../shared/deployment-base.js';
import { haproxyAdmin, haproxyMaster, haproxyServerName, haproxyStat, waitAnswering } from '../shared/readiness.js';

export type HostMode = 'netns' | 'loopback';

export interface LocalDriverOptions {
  /** Default: namespaces as root, loopback aliases otherwise (env REDIS_HA_CHAOS_HOSTS=loopback forces aliases). */
  hostMode?: HostMode;
  /** Path of the reference server's bin (default: dist/reference-server/bin/redis-ref-server.js in this package). */
  referenceServerBin?: string;
}

export interface ClusterAssignment {
  masters: string[];
  /** replica instance -> master instance, as redis-cli --cluster create assigned them. */
  replicaOf: Record<string, string>;
  /** Whether no replica shares a host with its master. */
  antiAffinity: boolean;
}

interface Member extends BaseMember {
  proc: SupervisedProcess;
}

const READY_MS = 15_000;

export class LocalDriver implements Driver {
  readonly name = 'local' as const;
  constructor(private readonly opts: LocalDriverOptions = {}) {}

  async up(topology: Topology, opts: UpOptions): Promise<Deployment> {
    const forced = process.env.REDIS_HA_CHAOS_HOSTS === 'loopback' ? 'loopback' : undefined;
    const unusable = netnsUnusableReason();
    const mode: HostMode = this.opts.hostMode ?? forced ?? (unusable === undefined ? 'netns' : 'loopback');
    const d = new LocalDeployment(topology, opts, mode, this.opts.referenceServerBin, unusable);
    return d.upOrDown();
  }
}

export class LocalDeployment extends DeploymentBase<Member> implements Deployment {
  readonly driverName = 'local';
  readonly partitionUnsupportedReason?: string;
  clusterAssignment?: ClusterAssignment;

  private readonly addresses = new Map<string, string>();
  private network?: HostNetwork;
  private readonly marker: RunMarker;
  private unregister?: () => void;
  private toxiproxyClose?: () => Promise<void>;
  private readonly refBin: string;

  constructor(
    topology: Topology,
    opts: UpOptions,
    readonly hostMode: HostMode,
    referenceServerBin?: string,
    netnsUnusable?: string,
  ) {
    super(topology, opts);
    this.refBin = referenceServerBin ?? path.join(packageRoot(), 'dist', 'reference-server', 'bin', 'redis-ref-server.js');
    if (hostMode === 'loopback') {
      this.partitionUnsupportedReason = !isRoot()
        ? 'not root: hosts are loopback aliases, and partitions need network namespaces (run as root)'
        : netnsUnusable
          ? `network namespaces unavailable (${netnsUnusable}): hosts are loopback aliases`
          : 'hosts are loopback aliases (REDIS_HA_CHAOS_HOSTS=loopback); partitions need network namespaces';
    }
    this.marker = { runId: this.runId, ownerPid: process.pid, runDir: this.runDir, createdAt: new Date().toISOString(), netns: [], iptables: [], pids: [] };
  }

  // ---- bring-up -------------------------------------------------------------------------------------------

  async bringUp(): Promise<void> {
    const t0 = Date.now();
    const topo = this.topology;
    mkdirSync(this.runDir, { recursive: true });
    writeMarker(this.marker);
    this.unregister = registerTeardown({ name: `local deployment ${this.runId}`, run: () => this.down(), runSync: () => void cleanupRun(this.marker) });

    const hosts = topo.hosts.map((h) => h.name);
    if (this.hostMode === 'netns') {
      this.network = await createHostNetwork(hosts, (n) => {
        if (n.bridge) this.marker.bridge = n.bridge;
        if (n.netns) this.marker.netns = [...n.netns.values()];
        if (n.iptables) this.marker.iptables = n.iptables;
        writeMarker(this.marker);
      });
      for (const [h, a] of this.network.addresses) this.addresses.set(h, a);
    } else {
      // A random 127.X.Y.0/24 per run keeps concurrent runs (and YAML ports like 6379) apart.
      const x = randomInt(100, 250);
      const y = randomInt(0, 256);
      hosts.forEach((h, i) => this.addresses.set(h, `127.${x}.${y}.${i + 1}`));
    }
    this.log(`hosts: ${hosts.map((h) => `${h}=${this.addresses.get(h)}`).join(' ')} (${this.hostMode})`);

    const layout: ConfigLayout = {
      address: (h) => this.address(h),
      instanceDir: (n) => path.join(this.runDir, 'instances', n),
      announce: this.hostMode === 'loopback',
      haproxyStatsSocket: topo.haproxy ? this.haproxySocket() : undefined,
      route: (from, to) => {
        const l = topo.toxiproxy?.links.find((x) => x.from === from && x.to === to);
        return l ? this.linkEndpoint(l.name) : undefined;
      },
    };
    if (topo.haproxy) mkdirSync(path.dirname(this.haproxySocket()), { recursive: true });
    this.files = generateConfigs(topo, layout);
    writeGeneratedFiles(this.files);
    for (const r of topo.redis) {
      mkdirSync(redisDataDir(layout, r.name), { recursive: true });
      this.addMember(r.name, 'redis', r.host, r.port, r.target, this.serverCommand(r.target, this.fileOf(r.name), false));
    }
    for (const s of topo.sentinels) {
      this.addMember(s.name, 'sentinel', s.host, s.port, s.target, this.serverCommand(s.target, this.fileOf(s.name), true));
    }
    if (topo.haproxy) {
      const h = topo.haproxy;
      this.addMember(h.name, 'haproxy', h.host, h.port, undefined, ['haproxy', '-db', '-f', this.fileOf(h.name)]);
    }

    if (topo.toxiproxy) await this.startToxiproxy();

    await startInOrder(this.steps());
    this.readyMs = Date.now() - t0;
    this.log(`deployment ${this.runId} ready in ${this.readyMs} ms`);
  }

  private serverCommand(target: Target, conf: string, sentinel: boolean): string[] {
    if (target === 'reference') {
      if (!existsSync(this.refBin)) throw new Error(`reference server not built: ${this.refBin} is missing (run npm run build)`);
      // The node flags the bin's shebang gives it (a small young generation keeps its RSS near redis-server's).
      return [process.execPath, ...REFERENCE_SERVER_NODE_FLAGS, this.refBin, conf, ...(sentinel ? ['--sentinel'] : [])];
    }
    return sentinel ? ['redis-sentinel', conf] : ['redis-server', conf];
  }

  private addMember(name: string, kind: InstanceKind, host: string, port: number, target: Target | undefined, argv: string[]): void {
    const dir = path.join(this.runDir, 'instances', name);
    mkdirSync(dir, { recursive: true });
    const ns = this.network?.netns.get(host);
    const full = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
    const proc = new SupervisedProcess({ name, command: full[0], args: full.slice(1), logFile: path.join(dir, `${name}.log`), cwd: dir });
    proc.onPid = (pid) => {
      this.marker.pids.push(pid);
      writeMarker(this.marker);
    };
    const m: Member = { name, kind, host, port, proc };
    if (target) m.target = target;
    this.members.set(name, m);
  }

  protected async startMember(name: string): Promise<void> {
    await this.member(name).proc.start();
  }

  protected address(host: string): string {
    const a = this.addresses.get(host);
    if (!a) throw new Error(`unknown host "${host}"; expected one of ${[...this.addresses.keys()].join(', ')}`);
    return a;
  }

  /** Polls, but gives up at once with the log's tail when the process has exited. */
  protected async awaitMember<T>(name: string, what: string, check: () => Promise<T | false | undefined>, timeoutMs = READY_MS): Promise<T> {
    const m = this.member(name);
    return waitFor(what, async () => {
      if (!m.proc.running) {
        throw new FatalWaitError(`${name} exited (${JSON.stringify(m.proc.lastExit)}) while waiting for ${what}; log ${m.proc.spec.logFile}:\n${m.proc.tailLog()}`);
      }
      return check();
    }, timeoutMs);
  }

  /** Unix socket paths stop at 107 bytes, and run folders nest deep: the socket lives in the short state dir. */
  protected haproxySocket(): string {
    const id = createHash('sha1').update(this.runDir).digest('hex').slice(0, 12);
    return path.join(stateDir(), 'sock', `${id}.sock`);
  }

  private haproxyAdmin(command: string): Promise<string> {
    return haproxyAdmin(this.haproxySocket(), command);
  }

  protected async waitHaproxyRoutesToMasterOnce(): Promise<void> {
    const h = this.topology.haproxy!;
    const master = haproxyMaster(this.topology);
    const ep = this.endpoint(h.name);
    const cfg = this.files.find((f) => f.kind === 'haproxy.cfg')?.content ?? '';
    if (!cfg.includes(this.haproxySocket())) {
      // A user template without {{STATS_SOCKET}}: several fresh connections in a row must all land on a master.
      let streak = 0;
      await this.awaitMember(h.name, `HAProxy to route only to ${master} (5 connections in a row)`, async () => {
        const role = await respCall(ep.host, ep.port, ['ROLE'], h.password, 500);
        streak = Array.isArray(role) && role[0] === 'master' ? streak + 1 : 0;
        return streak >= 5;
      });
      return;
    }
    // HAProxy starts every server UP; the topology says which are replicas, its checks take over from there.
    await this.awaitMember(h.name, 'HAProxy admin socket', async () => (await haproxyStat(this.haproxySocket())) && true);
    for (const b of h.backends.filter((x) => x !== master)) {
      await this.haproxyAdmin(`set server bk_redis/${haproxyServerName(b)} health down`);
    }
    await this.awaitMember(h.name, `HAProxy to route only to ${master}`, async () => {
      const st = await this.haproxyBackendStatus();
      const ok = Object.entries(st).every(([b, s]) => (b === master ? s === 'UP' : s.startsWith('DOWN')));
      if (!ok) throw new Error(`backends ${JSON.stringify(st)}`);
      const role = await respCall(ep.host, ep.port, ['ROLE'], h.password, 500);
      return Array.isArray(role) && role[0] === 'master';
    });
  }

  protected async createCluster(): Promise<void> {
    const c = this.topology.cluster!;
    const t0 = Date.now();
    const phase = (what: string) => this.log(`cluster: ${what} after ${Date.now() - t0} ms`);
    const nodes = await redisCliClusterCreate(this.topology, 'local', this.runDir, (n) => this.describe(n), () => phase('redis-cli --cluster create done'));
    await waitClusterStateOk(this.steps(), nodes);
    phase('cluster_state:ok on every node');
    // Each node's own word on its role; the other nodes learn it by gossip at a pace set by node-timeout.
    const mastersWanted = Math.floor(nodes.length / (c.replicasPerMaster + 1));
    const ids = new Map<string, string>();
    await Promise.all(nodes.map(async (r) => {
      const ep = this.endpoint(r.name);
      ids.set(String(await respCall(ep.host, ep.port, ['CLUSTER', 'MYID'], r.password, 1000)), r.name);
    }));
    this.clusterAssignment = await waitFor(`${nodes.length - mastersWanted} replicas with their link up`, async () => {
      const replicaOf: Record<string, string> = {};
      const masters: string[] = [];
      for (const r of nodes) {
        const ep = this.endpoint(r.name);
        const [info, me] = await Promise.all([
          respCall(ep.host, ep.port, ['INFO', 'replication'], r.password, 1000).then(parseInfo),
          respCall(ep.host, ep.port, ['CLUSTER', 'NODES'], r.password, 1000),
        ]);
        if (info.role === 'master') {
          masters.push(r.name);
          continue;
        }
        const mine = String(me).split('\n').map((l) => l.trim().split(' ')).find((row) => row[2]?.includes('myself'));
        const master = mine ? ids.get(mine[3]) : undefined;
        if (info.master_link_status !== 'up' || !master) return false;
        replicaOf[r.name] = master;
      }
      if (masters.length !== mastersWanted) return false;
      return { masters, replicaOf, antiAffinity: antiAffinity(replicaOf, (n) => this.member(n).host) };
    }, READY_MS);
    phase('replicas linked');
    writeFileSync(path.join(this.runDir, 'cluster-assignment.json'), JSON.stringify(this.clusterAssignment, null, 2));
    const pairsText = Object.entries(this.clusterAssignment.replicaOf).map(([r, m]) => `${r}->${m}`).join(' ');
    this.log(`cluster ok: masters ${this.clusterAssignment.masters.join(', ')}; replicas ${pairsText}; anti-affinity ${this.clusterAssignment.antiAffinity ? 'yes' : 'no'}`);
  }

  /** Roles as the cluster sees them now (CLUSTER NODES of the first reachable node). */
  async readClusterAssignment(nodes = this.topology.redis.filter((r) => this.topology.cluster?.nodes.includes(r.name)), from?: string): Promise<ClusterAssignment> {
    const byAddr = new Map(nodes.map((r) => [this.describe(r.name), r]));
    let text: string | undefined;
    for (const r of nodes) {
      if (!this.isRunning(r.name) || (from !== undefined && r.name !== from)) continue;
      const ep = this.endpoint(r.name);
      try {
        const v = await respCall(ep.host, ep.port, ['CLUSTER', 'NODES'], r.password, 1000);
        if (typeof v === 'string') {
          text = v;
          break;
        }
      } catch {
        // try the next node
      }
    }
    if (text === undefined) throw new Error('no cluster node answered CLUSTER NODES');
    const idToName = new Map<string, string>();
    const rows = text.trim().split('\n').map((l) => l.trim().split(' '));
    for (const row of rows) {
      const inst = byAddr.get(row[1].split('@')[0]);
      if (inst) idToName.set(row[0], inst.name);
    }
    const masters: string[] = [];
    const replicaOf: Record<string, string> = {};
    for (const row of rows) {
      const name = idToName.get(row[0]);
      if (!name || row[2].includes('fail')) continue;
      if (row[2].includes('master')) masters.push(name);
      else if (row[2].includes('slave') && idToName.has(row[3])) replicaOf[name] = idToName.get(row[3])!;
    }
    const byOrder = (a: string, b: string) => nodes.findIndex((x) => x.name === a) - nodes.findIndex((x) => x.name === b);
    return { masters: masters.sort(byOrder), replicaOf, antiAffinity: antiAffinity(replicaOf, (n) => this.member(n).host) };
  }

  private async startToxiproxy(): Promise<void> {
    const t = this.topology.toxiproxy!;
    const host = this.toxiproxyAddress();
    const proxies = t.links.map((l) => {
      const to = this.member(l.to);
      return { name: l.name, listen: `${host}:${l.listenPort}`, upstream: `${this.address(to.host)}:${to.port}`, enabled: true };
    });
    if (this.network) {
      // In its host's namespace, so partitions cut proxied links exactly as they cut direct ones; the proxies file survives a host restart.
      const file = path.join(this.runDir, 'instances', 'toxiproxy', 'proxies.json');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(proxies, null, 2));
      const cli = path.join(packageRoot(), 'dist', 'harness', 'src', 'cli', 'main.js');
      this.addMember('toxiproxy', 'toxiproxy', t.host, t.apiPort, undefined, [process.execPath, cli, 'toxiproxy', '--host', host, '--port', String(t.apiPort), '--config', file]);
      await this.startMember('toxiproxy');
      this.toxiproxyUrl = `http://${host}:${t.apiPort}`;
      await this.awaitMember('toxiproxy', `toxiproxy to answer on ${this.toxiproxyUrl}`, async () => {
        const res = await fetch(`${this.toxiproxyUrl}/proxies`).catch(() => undefined);
        return res?.ok && Object.keys((await res.json()) as object).length === proxies.length;
      });
      return;
    }
    // Without namespaces partitions are unsupported anyway, so the proxy can live in the harness process.
    const srv = await startToxiproxyServer({ host, port: t.apiPort, log: (l) => this.log(`toxiproxy: ${l}`) });
    this.toxiproxyUrl = srv.url;
    this.toxiproxyClose = () => srv.close();
    for (const body of proxies) {
      const res = await fetch(`${srv.url}/proxies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`toxiproxy: creating proxy ${body.name} failed: ${res.status} ${await res.text()}`);
    }
  }

  private toxiproxyAddress(): string {
    return this.address(this.topology.toxiproxy!.host);
  }

  // ---- Deployment ---------------------------------------------------------------------------------------

  override endpoint(name: string): Endpoint {
    if (name === 'toxiproxy' && this.topology.toxiproxy) return { host: this.toxiproxyAddress(), port: this.topology.toxiproxy.apiPort };
    return super.endpoint(name);
  }

  protected logFileOf(m: Member): string {
    return m.proc.spec.logFile;
  }

  /** Runs a command inside a host (its namespace as root; plainly otherwise); resolves with the exit code and output. */
  async execInHost(host: string, argv: string[], timeoutMs = 5000): Promise<{ code: number | null; output: string }> {
    const ns = this.network?.netns.get(host);
    const full = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
    this.address(host);
    return new Promise((resolve) => {
      const child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d.toString()));
      child.stderr.on('data', (d) => (output += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ code: null, output: e.message });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  /** Namespace names (empty without namespaces), for leak checks. */
  namespaces(): string[] {
    return this.network ? [...this.network.netns.values()] : [];
  }

  /** Every pid this deployment ever started, for leak checks. */
  processIds(): number[] {
    return [...this.marker.pids];
  }

  bridgeName(): string | undefined {
    return this.network?.bridge;
  }

  async versions(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const first = (cmd: string, args: string[]) => (spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '').split('\n')[0].trim();
    const targets = new Set([...this.members.values()].map((m) => m.target).filter(Boolean));
    if (targets.has('redis')) out['redis-server'] = first('redis-server', ['--version']).replace(/^Redis server v=(\S+).*/, '$1');
    if (targets.has('reference')) out['reference-server'] = `redis-ha-chaos reference server (node ${process.version})`;
    if (this.topology.haproxy) out.haproxy = first('haproxy', ['-v']).replace(/^HAProxy version (\S+).*/, '$1');
    return out;
  }

  isRunning(name: string): boolean {
    return this.member(name).proc.running;
  }

  async kill(name: string): Promise<void> {
    await this.member(name).proc.kill();
  }

  async terminate(name: string): Promise<void> {
    await this.member(name).proc.terminate();
  }

  async pause(name: string): Promise<void> {
    this.member(name).proc.pause();
  }

  async resume(name: string): Promise<void> {
    this.member(name).proc.resume();
  }

  /** Starts a stopped instance with its config and data dir, and waits until it answers. */
  async start(name: string): Promise<void> {
    const m = this.member(name);
    if (m.proc.running) return;
    await m.proc.start();
    await waitAnswering(this.steps(), name, m.kind, ['haproxy']);
  }

  protected upForStopHost(m: Member): boolean {
    return m.proc.running;
  }

  /** The harness and the adapters run in the root namespace and reach every host through the run's bridge. */
  protected override clientSideAddress(): string | undefined {
    return this.network?.bridgeAddress;
  }

  protected partitionsWork(): boolean {
    return !this.partitionUnsupportedReason && !!this.network;
  }

  protected async applyDrops(host: string, dropFrom: string[], dropTo: string[]): Promise<void> {
    await applyDropRules(this.network!.netns.get(host)!, dropFrom, dropTo);
  }

  protected async clearDrops(host: string): Promise<void> {
    await clearDropRules(this.network!.netns.get(host)!);
  }

  protected async teardown(): Promise<void> {
    const errors: string[] = [];
    // SIGTERM first so servers and HAProxy shut down cleanly; whatever hangs is killed after the grace period.
    await Promise.all([...this.members.values()].map((m) => m.proc.terminate(2000).catch((e: Error) => void errors.push(e.message))));
    if (this.toxiproxyClose) await this.toxiproxyClose().catch((e: Error) => void errors.push(`toxiproxy: ${e.message}`));
    if (this.network) await destroyHostNetwork(this.network).catch((e: Error) => void errors.push(e.message));
    else cleanupRun(this.marker); // a bring-up that failed half-way: the marker lists what exists
    if (this.topology.haproxy) rmSync(this.haproxySocket(), { force: true });
    removeMarker(this.runId);
    this.unregister?.();
    if (errors.length) throw new Error(`teardown of ${this.runId}: ${errors.join('; ')}`);
  }
}
