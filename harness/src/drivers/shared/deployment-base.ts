/**
 * What both deployments do the same way once they know how to start, stop and reach one instance: the Deployment
 * bookkeeping (instances, endpoints, host stops, partitions in force, teardown once), over members a driver adds.
 */
import path from 'node:path';
import type { Endpoint, GeneratedFile, PartitionSpec, RunningInstance, UpOptions } from '../driver.js';
import { retarget, type Topology } from '../../topology/model.js';
import { configFileOf, type BringUpSteps } from './bring-up.js';
import { HostStops } from './host-stops.js';
import { runningInstance, toxiproxyLinkEndpoint, type MemberInfo } from './instances.js';
import { addDrops, planPartition, type DropSets } from './partition-plan.js';
import { haproxyBackendStatus } from './readiness.js';
import { haproxyNeverRouted } from '../local/probe.js';
import { FatalWaitError } from '../../support/time.js';

export interface BaseMember extends MemberInfo {
  port: number;
}

export abstract class DeploymentBase<M extends BaseMember> {
  readonly runId: string;
  readonly runDir: string;
  toxiproxyUrl?: string;
  /** Milliseconds from the start of up() to every readiness check passing. */
  readyMs?: number;

  protected readonly members = new Map<string, M>();
  protected files: GeneratedFile[] = [];
  protected readonly log: (line: string) => void;
  protected downPromise?: Promise<void>;
  private readonly stopped = new HostStops();
  private readonly drops = new Map<string, DropSets>();

  readonly topology: Topology;

  constructor(topology: Topology, protected readonly opts: UpOptions) {
    // One place applies --target, to Sentinels as well as servers, so both drivers deploy the same thing.
    this.topology = retarget(topology, opts.target);
    this.runId = opts.runId;
    this.runDir = path.resolve(opts.runDir);
    this.log = opts.log ?? (() => undefined);
  }

  /** Address of a topology host; throws a one-line error naming the known hosts. */
  protected abstract address(host: string): string;
  protected abstract logFileOf(m: M): string;
  /** Whether stopHost must take this member down (what counts as running differs per driver). */
  protected abstract upForStopHost(m: M): boolean;
  protected abstract awaitMember<T>(name: string, what: string, check: () => Promise<T | false | undefined>): Promise<T>;
  protected abstract startMember(name: string): Promise<void>;
  protected abstract createCluster(): Promise<void>;
  /** Waits until HAProxy routes to the initial master (one attempt, with the driver's deadline). */
  protected abstract waitHaproxyRoutesToMasterOnce(): Promise<void>;

  /** HAProxy never routing to the master is the configuration failing (its check, its password), not the harness. */
  protected async waitHaproxyRoutesToMaster(): Promise<void> {
    try {
      await this.waitHaproxyRoutesToMasterOnce();
    } catch (e) {
      if (e instanceof FatalWaitError) throw e;
      throw haproxyNeverRouted(this.topology, e);
    }
  }
  abstract readonly partitionUnsupportedReason?: string;
  /** Whether partition rules can be installed now (a reason, or a bring-up that never got that far, says no). */
  protected abstract partitionsWork(): boolean;
  protected abstract applyDrops(host: string, dropFrom: string[], dropTo: string[]): Promise<void>;
  protected abstract clearDrops(host: string): Promise<void>;
  abstract bringUp(): Promise<void>;
  protected abstract teardown(): Promise<void>;
  /** HAProxy's admin socket path (where it lives differs per driver). */
  protected abstract haproxySocket(): string;
  abstract kill(name: string): Promise<void>;
  abstract terminate(name: string): Promise<void>;
  abstract start(name: string): Promise<void>;

  /** Brings the deployment up, or stops whatever a failed bring-up started before passing its error on. */
  async upOrDown(): Promise<this> {
    try {
      await this.bringUp();
    } catch (e) {
      await this.down().catch(() => undefined);
      throw e;
    }
    return this;
  }

  protected member(name: string): M {
    const m = this.members.get(name);
    if (!m) throw new Error(`unknown instance "${name}"; expected one of ${[...this.members.keys()].join(', ')}`);
    return m;
  }

  protected describe(name: string): string {
    const m = this.member(name);
    return `${this.address(m.host)}:${m.port}`;
  }

  protected fileOf(instance: string): string {
    return configFileOf(this.files, instance);
  }

  /** What the shared bring-up and readiness code needs from a driver. */
  protected steps(): BringUpSteps {
    return {
      topology: this.topology,
      endpoint: (n) => this.endpoint(n),
      awaitMember: (n, what, check) => this.awaitMember(n, what, check),
      startMember: (n) => this.startMember(n),
      createCluster: () => this.createCluster(),
      waitHaproxyRoutesToMaster: () => this.waitHaproxyRoutesToMaster(),
      describe: (n) => this.describe(n),
      log: (l) => this.log(l),
    };
  }

  instances(): RunningInstance[] {
    return [...this.members.values()].map((m) => runningInstance(m, this.endpoint(m.name), this.logFileOf(m)));
  }

  endpoint(name: string): Endpoint {
    const m = this.member(name);
    return { host: this.address(m.host), port: m.port };
  }

  internalAddress(name: string): Endpoint {
    return this.endpoint(name);
  }

  linkEndpoint(linkName: string): Endpoint {
    return toxiproxyLinkEndpoint(this.topology, linkName, (h) => this.address(h));
  }

  /** Address of a topology host. */
  hostAddress(host: string): string {
    return this.address(host);
  }

  generatedFiles(): GeneratedFile[] {
    return this.files.map((f) => ({ ...f }));
  }

  /** Backend status per instance name, as HAProxy's admin socket reports it ("UP", "DOWN", "UP 1/2", ...). */
  async haproxyBackendStatus(): Promise<Record<string, string>> {
    // Without an HAProxy there is no socket path to ask (the docker driver derives it from the HAProxy's name).
    if (!this.topology.haproxy) return {};
    return haproxyBackendStatus(this.topology, this.haproxySocket());
  }

  async restart(name: string): Promise<void> {
    await this.terminate(name);
    await this.start(name);
  }

  /** Kills every instance of the host; the host keeps its address, like a machine whose services died. */
  async stopHost(host: string): Promise<void> {
    this.address(host);
    const on = [...this.members.values()].filter((m) => m.host === host && this.upForStopHost(m));
    this.stopped.stopping(host, on.map((m) => m.name));
    await Promise.all(on.map((m) => this.kill(m.name)));
  }

  async startHost(host: string): Promise<void> {
    this.address(host);
    const names = this.stopped.take(host, () => [...this.members.values()].filter((m) => m.host === host).map((m) => m.name));
    await Promise.all(names.map((n) => this.start(n)));
  }

  /** The address the harness and client adapters reach hosts from, when the driver can cut it (undefined: it cannot). */
  protected clientSideAddress(): string | undefined {
    return undefined;
  }

  async partition(spec: PartitionSpec): Promise<void> {
    if (!this.partitionsWork()) throw new Error(`partitions unsupported: ${this.partitionUnsupportedReason}`);
    const plan = planPartition(spec, this.topology.hosts.map((h) => h.name), (h) => this.address(h));
    if (spec.kind === 'isolate' && spec.clients) {
      const outside = this.clientSideAddress();
      if (outside === undefined) throw new Error(`isolating ${spec.host} from clients too is not supported by this driver`);
      const r = plan.get(spec.host)!;
      r.from.add(outside);
      r.to.add(outside);
    }
    const touched = addDrops(this.drops, plan);
    await Promise.all(touched.map((h) => this.applyDrops(h, [...this.drops.get(h)!.from], [...this.drops.get(h)!.to])));
  }

  async heal(): Promise<void> {
    const hosts = [...this.drops.keys()];
    this.drops.clear();
    await Promise.all(hosts.map((h) => this.clearDrops(h)));
  }

  down(): Promise<void> {
    this.downPromise ??= this.teardown();
    return this.downPromise;
  }
}
