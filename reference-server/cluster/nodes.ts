/**
 * The cluster's node table as one node sees it (Redis 7.0's clusterState / clusterNode): ids, flags, epochs, slot
 * owners, replicas, failure reports, the importing/migrating maps, and the CLUSTER NODES text that is also nodes.conf.
 * It knows nothing of sockets: a node's links are opaque handles the bus attaches.
 */
import { randomBytes } from 'node:crypto';
import { CLUSTER_SLOTS } from './keyslot.js';

export const CLUSTER_NAMELEN = 40;
/** Default distance between the client port and the bus port. */
export const CLUSTER_PORT_INCR = 10000;

/** Node flags, as in cluster.h (the wire carries them too). */
export const NodeFlag = {
  MASTER: 1,
  SLAVE: 2,
  PFAIL: 4,
  FAIL: 8,
  MYSELF: 16,
  HANDSHAKE: 32,
  NOADDR: 64,
  MEET: 128,
  MIGRATE_TO: 256,
  NOFAILOVER: 512,
} as const;

/** Flag names in the order CLUSTER NODES prints them (redisNodeFlagsTable). */
const FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [NodeFlag.MYSELF, 'myself'],
  [NodeFlag.MASTER, 'master'],
  [NodeFlag.SLAVE, 'slave'],
  [NodeFlag.PFAIL, 'fail?'],
  [NodeFlag.FAIL, 'fail'],
  [NodeFlag.HANDSHAKE, 'handshake'],
  [NodeFlag.NOADDR, 'noaddr'],
  [NodeFlag.NOFAILOVER, 'nofailover'],
];

/** What the node table needs from a bus link: a way to drop it. */
export interface LinkHandle {
  close(): void;
}

export interface FailReport {
  node: ClusterNode;
  time: number;
}

/** A random node id: 40 lowercase hex characters (getRandomHexChars). */
export function randomNodeName(): string {
  return randomBytes(CLUSTER_NAMELEN / 2).toString('hex');
}

/** verifyClusterNodeId: exactly 40 characters from [a-z0-9]. */
export function isValidNodeName(name: string): boolean {
  return /^[a-z0-9]{40}$/.test(name);
}

export function formatNodeFlags(flags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name);
  return names.length ? names.join(',') : 'noflags';
}

export class ClusterNode {
  name: string;
  flags: number;
  readonly ctime: number;
  configEpoch = 0n;
  /** One bit per slot, bit s&7 of byte s>>3 (the wire's layout). */
  readonly slots = new Uint8Array(CLUSTER_SLOTS / 8);
  numSlots = 0;
  replicas: ClusterNode[] = [];
  /** May be null even for a replica whose master we do not know. */
  replicaOf: ClusterNode | null = null;
  lastInPingGossip = 0;
  pingSent = 0;
  pongReceived = 0;
  dataReceived = 0;
  failTime = 0;
  votedTime = 0;
  replOffsetTime = 0;
  orphanedTime = 0;
  replOffset = 0n;
  ip = '';
  hostname = '';
  port = 0;
  pport = 0;
  cport = 0;
  /** Outbound link (we connected), and inbound link (it connected to us). */
  link: LinkHandle | null = null;
  inboundLink: LinkHandle | null = null;
  failReports: FailReport[] = [];

  constructor(name: string | null, flags: number, now = Date.now()) {
    this.name = name ?? randomNodeName();
    this.flags = flags;
    this.ctime = now;
  }

  get isMaster(): boolean { return (this.flags & NodeFlag.MASTER) !== 0; }
  get isReplica(): boolean { return (this.flags & NodeFlag.SLAVE) !== 0; }
  get isMyself(): boolean { return (this.flags & NodeFlag.MYSELF) !== 0; }
  get inHandshake(): boolean { return (this.flags & NodeFlag.HANDSHAKE) !== 0; }
  get hasAddress(): boolean { return (this.flags & NodeFlag.NOADDR) === 0; }
  get timedOut(): boolean { return (this.flags & NodeFlag.PFAIL) !== 0; }
  get failed(): boolean { return (this.flags & NodeFlag.FAIL) !== 0; }
  get canFailover(): boolean { return (this.flags & NodeFlag.NOFAILOVER) === 0; }

  hasSlot(slot: number): boolean {
    return (this.slots[slot >> 3]! & (1 << (slot & 7))) !== 0;
  }

  /** Sets the bit; returns its old value. */
  setSlotBit(slot: number): boolean {
    const old = this.hasSlot(slot);
    this.slots[slot >> 3]! |= 1 << (slot & 7);
    if (!old) this.numSlots++;
    return old;
  }

  /** Clears the bit; returns its old value. */
  clearSlotBit(slot: number): boolean {
    const old = this.hasSlot(slot);
    this.slots[slot >> 3]! &= ~(1 << (slot & 7));
    if (old) this.numSlots--;
    return old;
  }

  /** Adds a replica unless already listed; a master gaining a replica is a replica-migration target. */
  addReplica(replica: ClusterNode): boolean {
    if (this.replicas.includes(replica)) return false;
    this.replicas.push(replica);
    this.flags |= NodeFlag.MIGRATE_TO;
    return true;
  }

  removeReplica(replica: ClusterNode): boolean {
    const i = this.replicas.indexOf(replica);
    if (i === -1) return false;
    this.replicas.splice(i, 1);
    if (this.replicas.length === 0) this.flags &= ~NodeFlag.MIGRATE_TO;
    return true;
  }

  countNonFailingReplicas(): number {
    return this.replicas.filter((r) => !r.failed).length;
  }

  /** Adds or refreshes sender's report that this node is failing; true if it is a new report. */
  addFailureReport(sender: ClusterNode, now: number): boolean {
    const existing = this.failReports.find((r) => r.node === sender);
    if (existing) {
      existing.time = now;
      return false;
    }
    this.failReports.push({ node: sender, time: now });
    return true;
  }

  /** Drops reports older than maxAge ms (2 × node timeout in Redis). */
  cleanupFailureReports(maxAge: number, now: number): void {
    this.failReports = this.failReports.filter((r) => now - r.time <= maxAge);
  }

  /** Removes sender's report; true if there was one. */
  delFailureReport(sender: ClusterNode, maxAge: number, now: number): boolean {
    const i = this.failReports.findIndex((r) => r.node === sender);
    if (i === -1) return false;
    this.failReports.splice(i, 1);
    this.cleanupFailureReports(maxAge, now);
    return true;
  }

  failureReportCount(maxAge: number, now: number): number {
    this.cleanupFailureReports(maxAge, now);
    return this.failReports.length;
  }
}

/** Cluster state: the whole table plus the per-slot maps and epochs. */
export class ClusterState {
  myself!: ClusterNode;
  currentEpoch = 0n;
  lastVoteEpoch = 0n;
  /** 'ok' or 'fail' (CLUSTER_OK / CLUSTER_FAIL). */
  state: 'ok' | 'fail' = 'fail';
  /** Masters with at least one slot. */
  size = 1;
  /** Insertion order stands in for Redis's dict order (which is arbitrary). */
  readonly nodes = new Map<string, ClusterNode>();
  /** FORGET's blacklist: node id -> expiry time (ms). */
  readonly blacklist = new Map<string, number>();
  readonly slots: Array<ClusterNode | null> = new Array<ClusterNode | null>(CLUSTER_SLOTS).fill(null);
  /** Written through setMigrating / setImporting only, so that openSlots stays complete. */
  readonly migratingTo: ReadonlyArray<ClusterNode | null> = new Array<ClusterNode | null>(CLUSTER_SLOTS).fill(null);
  readonly importingFrom: ReadonlyArray<ClusterNode | null> = new Array<ClusterNode | null>(CLUSTER_SLOTS).fill(null);
  /**
   * Every slot that may be migrating or importing (a superset; stale entries are dropped when read): describing
   * myself on each nodes.conf save then costs the open slots, not a walk of all 16384 (the walk cost ~2 ms a save).
   */
  private readonly openSlots = new Set<number>();
  /** slotRuns() of the slot table as it was at slotsVersion (the table changes only in addSlot / delSlot). */
  private runsCache: Map<ClusterNode, Array<[number, number]>> | null = null;
  private slotsVersion = 0;
  private runsVersion = -1;
  /** Slots whose owner stopped claiming them in its pings (never advertised in UPDATE messages). */
  readonly ownerNotClaimingSlot = new Uint8Array(CLUSTER_SLOTS / 8);
  /** Called when a slot this node or its shard serves is deleted (sharded channels in it are dropped). */
  onSlotDeleted: ((slot: number) => void) | null = null;

  lookup(name: string): ClusterNode | undefined {
    if (!isValidNodeName(name)) return undefined;
    return this.nodes.get(name);
  }

  addNode(node: ClusterNode): void {
    if (this.nodes.has(node.name)) throw new Error(`node ${node.name} is already in the table`);
    this.nodes.set(node.name, node);
  }

  /** clusterDelNode: unassign its slots, drop the reports it made, unlink it from masters and replicas. */
  deleteNode(node: ClusterNode, failReportMaxAge: number, now = Date.now()): void {
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (this.importingFrom[j] === node) this.setImporting(j, null);
      if (this.migratingTo[j] === node) this.setMigrating(j, null);
      if (this.slots[j] === node) this.delSlot(j);
    }
    for (const other of this.nodes.values()) if (other !== node) other.delFailureReport(node, failReportMaxAge, now);
    for (const replica of node.replicas) replica.replicaOf = null;
    if (node.isReplica && node.replicaOf) node.replicaOf.removeReplica(node);
    this.nodes.delete(node.name);
    node.link?.close();
    node.inboundLink?.close();
    node.link = null;
    node.inboundLink = null;
  }

  /** After a handshake we learn the real id of a node added under a random one. */
  renameNode(node: ClusterNode, newName: string): void {
    this.nodes.delete(node.name);
    node.name = newName;
    this.nodes.set(newName, node);
  }

  /** True if any master has a replica (a master's first slot then makes it a migration target). */
  mastersHaveReplicas(): boolean {
    for (const n of this.nodes.values()) if (!n.isReplica && n.replicas.length) return true;
    return false;
  }

  /** clusterAddSlot: fails (false) if the slot already has an owner. */
  addSlot(node: ClusterNode, slot: number): boolean {
    if (this.slots[slot]) return false;
    this.setSlotBit(node, slot);
    this.slots[slot] = node;
    this.slotsVersion++;
    return true;
  }

  /** clusterNodeSetSlotBit with its MIGRATE_TO side effect. */
  setSlotBit(node: ClusterNode, slot: number): boolean {
    const old = node.setSlotBit(slot);
    if (!old && node.numSlots === 1 && this.mastersHaveReplicas()) node.flags |= NodeFlag.MIGRATE_TO;
    return old;
  }

  /** clusterDelSlot: false if the slot was unassigned. */
  delSlot(slot: number): boolean {
    const owner = this.slots[slot];
    if (!owner) return false;
    const shardMaster = owner.isMaster ? owner : owner.replicaOf;
    if (shardMaster && (shardMaster === this.myself || shardMaster.replicas.includes(this.myself))) this.onSlotDeleted?.(slot);
    owner.clearSlotBit(slot);
    this.slots[slot] = null;
    this.slotsVersion++;
    return true;
  }

  delNodeSlots(node: ClusterNode): number {
    let deleted = 0;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (node.hasSlot(j)) {
        this.delSlot(j);
        deleted++;
      }
    }
    return deleted;
  }

  closeAllSlots(): void {
    (this.migratingTo as Array<ClusterNode | null>).fill(null);
    (this.importingFrom as Array<ClusterNode | null>).fill(null);
    this.openSlots.clear();
  }

  /** SETSLOT MIGRATING / its end: the node the slot's keys go to, or null. */
  setMigrating(slot: number, node: ClusterNode | null): void {
    (this.migratingTo as Array<ClusterNode | null>)[slot] = node;
    if (node) this.openSlots.add(slot);
  }

  /** SETSLOT IMPORTING / its end: the node the slot's keys come from, or null. */
  setImporting(slot: number, node: ClusterNode | null): void {
    (this.importingFrom as Array<ClusterNode | null>)[slot] = node;
    if (node) this.openSlots.add(slot);
  }

  /** Slots migrating or importing here, ascending (as Redis's walk of the slot table lists them). */
  private openSlotList(): number[] {
    for (const j of this.openSlots) if (!this.migratingTo[j] && !this.importingFrom[j]) this.openSlots.delete(j);
    return [...this.openSlots].sort((a, b) => a - b);
  }

  /** The greatest configEpoch in the table, or currentEpoch if greater. */
  maxEpoch(): bigint {
    let max = 0n;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return max < this.currentEpoch ? this.currentEpoch : max;
  }

  /**
   * Slot runs per node from the slot table (clusterGenNodesSlotsInfo), so that describing every node walks the
   * 16384 slots once.
   */
  private slotRuns(): Map<ClusterNode, Array<[number, number]>> {
    if (this.runsCache && this.runsVersion === this.slotsVersion) return this.runsCache;
    const runs = new Map<ClusterNode, Array<[number, number]>>();
    let start = 0;
    for (let i = 1; i <= CLUSTER_SLOTS; i++) {
      const owner = this.slots[start];
      if (i === CLUSTER_SLOTS || this.slots[i] !== owner) {
        if (owner) {
          let list = runs.get(owner);
          if (!list) runs.set(owner, (list = []));
          list.push([start, i - 1]);
        }
        start = i;
      }
    }
    this.runsCache = runs;
    this.runsVersion = this.slotsVersion;
    return runs;
  }

  /** One CLUSTER NODES line, without its newline (clusterGenNodeDescription). */
  describeNode(node: ClusterNode, usePport = false, runs?: Array<[number, number]>): string {
    const port = usePport && node.pport ? node.pport : node.port;
    let line = `${node.name} ${node.ip}:${port}@${node.cport}${node.hostname ? ',' + node.hostname : ''} `;
    line += formatNodeFlags(node.flags);
    line += ' ' + (node.replicaOf ? node.replicaOf.name : '-');
    const epoch = node.isReplica && node.replicaOf ? node.replicaOf.configEpoch : node.configEpoch;
    line += ` ${node.pingSent} ${node.pongReceived} ${epoch} ${node.link || node.isMyself ? 'connected' : 'disconnected'}`;
    const ranges = runs ?? this.slotRuns().get(node) ?? (node.numSlots ? bitmapRuns(node) : []);
    for (const [a, b] of ranges) line += a === b ? ` ${a}` : ` ${a}-${b}`;
    if (node.isMyself) {
      for (const j of this.openSlotList()) {
        const to = this.migratingTo[j];
        const from = this.importingFrom[j];
        if (to) line += ` [${j}->-${to.name}]`;
        else if (from) line += ` [${j}-<-${from.name}]`;
      }
    }
    return line;
  }

  /** CLUSTER NODES: every node not matching any flag in `filter`, one line each (clusterGenNodesDescription). */
  describeNodes(filter = 0, usePport = false): string {
    const runs = this.slotRuns();
    let out = '';
    for (const node of this.nodes.values()) {
      if (node.flags & filter) continue;
      const ranges = runs.get(node) ?? (node.numSlots ? bitmapRuns(node) : []);
      out += this.describeNode(node, usePport, ranges) + '\n';
    }
    return out;
  }
}

/** Slot runs from a node's own bitmap (used when the slot table does not point at it). */
function bitmapRuns(node: ClusterNode): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = -1;
  for (let j = 0; j <= CLUSTER_SLOTS; j++) {
    const bit = j < CLUSTER_SLOTS && node.hasSlot(j);
    if (bit && start === -1) start = j;
    else if (!bit && start !== -1) {
      runs.push([start, j - 1]);
      start = -1;
    }
  }
  return runs;
}
