/**
 * One cluster node's protocol engine, as Redis 7.0.15's cluster.c runs it: the handshake (MEET/PING/PONG), gossip,
 * slot ownership by configEpoch (UPDATE, collisions), failure detection (PFAIL -> FAIL by master majority), the
 * cluster state, replica elections and manual failover. It reaches the rest of the server only through ClusterHost.
 */
import net from 'node:net';
import { BusListener, ClusterLink, localIp, peerIp, type LinkOwner } from './bus.js';
import {
  MSG_TYPE_COUNT, MsgFlag0, MsgType, PingExtType, decodeMessage, encodeMessage, extensionHostname, hostnameExtension,
  type ClusterMessage, type GossipEntry, type MessageBody, type MessageHeader,
} from './codec.js';
import { ClusterConfigError, loadConfig, readConfigFile, saveConfig } from './config-file.js';
import { CLUSTER_SLOTS } from './keyslot.js';
import { CLUSTER_PORT_INCR, ClusterNode, ClusterState, NodeFlag, isValidNodeName } from './nodes.js';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';

/** What the engine needs from the server around it. */
export interface ClusterHost {
  log(level: LogLevel, msg: string): void;
  configNumber(name: string): number;
  configBool(name: string): boolean;
  configString(name: string): string;
  /** master_repl_offset on a master, the processed offset on a replica. */
  replicationOffset(): bigint;
  /** replicationSetMaster / replicationUnsetMaster. */
  replicateFrom(ip: string, port: number): void;
  stopReplicating(): void;
  /** True when a master host is configured (server.masterhost != NULL). */
  hasMasterHost(): boolean;
  /** Milliseconds since the replication link last saw its master (data_age before the node-timeout correction). */
  masterDataAgeMs(): number;
  countKeysInSlot(slot: number): number;
  delKeysInSlot(slot: number): number;
  /** Delivers a PUBLISH / PUBLISHSHARD that came over the bus to local subscribers. */
  deliverPublish(channel: string, message: string, sharded: boolean): void;
  /** Pause writes until `until` (ms), or lift the pause (0). Used by manual failover. */
  pauseWrites(until: number): void;
}

const TODO_HANDLE_FAILOVER = 1;
const TODO_UPDATE_STATE = 2;
const TODO_SAVE_CONFIG = 4;
const TODO_FSYNC_CONFIG = 8;
const TODO_HANDLE_MANUALFAILOVER = 16;

const FAIL_REPORT_VALIDITY_MULT = 2;
const FAIL_UNDO_TIME_MULT = 2;
const MF_TIMEOUT = 5000;
const MF_PAUSE_MULT = 2;
const WRITABLE_DELAY = 2000;
const MIN_REJOIN_DELAY = 500;
const MAX_REJOIN_DELAY = 5000;
const SLAVE_MIGRATION_DELAY = 5000;
const BLACKLIST_TTL = 60;

export class Cluster implements LinkOwner {
  readonly state = new ClusterState();
  readonly statsSent = new Array<number>(MSG_TYPE_COUNT).fill(0);
  readonly statsReceived = new Array<number>(MSG_TYPE_COUNT).fill(0);
  statsPfailNodes = 0;
  linksBufferLimitExceeded = 0;
  /** DEBUG DROP-CLUSTER-PACKET-FILTER: a message type to ignore, -1 for none. */
  dropPacketFilter = -1;
  // Election state (clusterState's failover_auth_*).
  failoverAuthTime = 0;
  failoverAuthCount = 0;
  failoverAuthSent = false;
  failoverAuthRank = 0;
  failoverAuthEpoch = 0n;
  // Manual failover state.
  mfEnd = 0;
  mfReplica: ClusterNode | null = null;
  mfMasterOffset = -1n;
  mfCanStart = false;

  private todo = 0;
  private todoScheduled = false;
  private iteration = 0;
  private pingsSent = 0;
  private firstStateCall = 0;
  private amongMinorityTime = 0;
  private readonly listener = new BusListener((s) => this.acceptInbound(s));
  private readonly links = new Set<ClusterLink>();
  private closed = false;

  constructor(
    private readonly host: ClusterHost,
    /** Absolute path of nodes.conf. */
    readonly configFile: string,
  ) {}

  get myself(): ClusterNode {
    return this.state.myself;
  }

  get nodeTimeout(): number {
    return this.host.configNumber('cluster-node-timeout');
  }

  private get failReportMaxAge(): number {
    return this.nodeTimeout * FAIL_REPORT_VALIDITY_MULT;
  }

  log(level: LogLevel, msg: string): void {
    this.host.log(level, msg);
  }

  // ---------------------------------------------------------------- startup and persistence

  /** clusterInit's first half: load nodes.conf or create myself, then save. Throws ClusterConfigError. */
  init(): void {
    const text = readConfigFile(this.configFile);
    if (text === null) {
      const me = new ClusterNode(null, NodeFlag.MYSELF | NodeFlag.MASTER);
      this.state.addNode(me);
      this.state.myself = me;
      this.log('notice', `No cluster configuration found, I'm ${me.name}`);
      this.saveOrDie(true);
    } else {
      const r = loadConfig(this.state, text);
      for (const w of r.warnings) this.log('warning', w);
      this.log('notice', `Node configuration loaded, I'm ${this.myself.name}`);
    }
    this.state.onSlotDeleted = null;
    this.updateMyselfAnnouncedPorts();
    this.updateMyselfFlags();
    this.updateMyselfIp();
    this.myself.hostname = this.host.configString('cluster-announce-hostname');
  }

  /** The bus port we listen on (cluster-port, else port + 10000). */
  busPort(): number {
    const cport = this.host.configNumber('cluster-port');
    return cport || this.host.configNumber('port') + CLUSTER_PORT_INCR;
  }

  async listen(addresses: string[]): Promise<void> {
    const cport = this.busPort();
    try {
      await this.listener.listen(cport, addresses);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ClusterConfigError([
        `Could not create server TCP listening socket *:${cport}: bind: ${err.code === 'EADDRINUSE' ? 'Address already in use' : err.message}`,
        `Failed listening on port ${cport} (cluster), aborting.`,
      ], 'exit1');
    }
  }

  close(): void {
    this.closed = true;
    this.listener.close();
    for (const link of [...this.links]) link.close();
  }

  save(doFsync: boolean): boolean {
    try {
      saveConfig(this.configFile, this.state, doFsync);
      return true;
    } catch {
      return false;
    }
  }

  saveOrDie(doFsync: boolean): void {
    if (!this.save(doFsync)) {
      throw new ClusterConfigError(["Fatal: can't update cluster config file."], 'exit1');
    }
  }

  updateMyselfAnnouncedPorts(): void {
    const port = this.host.configNumber('port');
    this.myself.port = this.host.configNumber('cluster-announce-port') || port;
    this.myself.pport = 0;
    this.myself.cport = this.host.configNumber('cluster-announce-bus-port') || this.busPort();
  }

  updateMyselfFlags(): void {
    const old = this.myself.flags;
    this.myself.flags &= ~NodeFlag.NOFAILOVER;
    if (this.host.configBool('cluster-replica-no-failover')) this.myself.flags |= NodeFlag.NOFAILOVER;
    if (this.myself.flags !== old) this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
  }

  private lastAnnounceIp: string | null = null;
  updateMyselfIp(): void {
    const ip = this.host.configString('cluster-announce-ip');
    const cur = ip === '' ? null : ip;
    if (cur === this.lastAnnounceIp) return;
    this.lastAnnounceIp = cur;
    this.myself.ip = cur ? cur.slice(0, 45) : '';
  }

  /** clusterDoBeforeSleep: the work runs once, after the current event's processing. */
  doBeforeSleep(flags: number): void {
    this.todo |= flags;
    if (this.todoScheduled || this.closed) return;
    this.todoScheduled = true;
    setImmediate(() => this.beforeSleep());
  }

  beforeSleep(): void {
    this.todoScheduled = false;
    const flags = this.todo;
    this.todo = 0;
    if (flags & TODO_HANDLE_MANUALFAILOVER) {
      if (this.myself.isReplica) {
        this.handleManualFailover();
        this.handleReplicaFailover();
      }
    } else if (flags & TODO_HANDLE_FAILOVER) {
      this.handleReplicaFailover();
    }
    if (flags & TODO_UPDATE_STATE) this.updateState();
    if (flags & TODO_SAVE_CONFIG) this.saveOrLog((flags & TODO_FSYNC_CONFIG) !== 0);
  }

  private saveOrLog(fsync: boolean): void {
    if (!this.save(fsync)) this.log('warning', "Fatal: can't update cluster config file.");
  }

  // ---------------------------------------------------------------- links

  private acceptInbound(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const link = new ClusterLink(socket, true, null, this);
    this.links.add(link);
    this.log('verbose', `Accepting cluster node connection from ${peerIp(socket)}:${socket.remotePort}`);
  }

  private connectNode(node: ClusterNode): void {
    const socket = net.connect({ host: node.ip, port: node.cport });
    const link = new ClusterLink(socket, false, node, this);
    this.links.add(link);
    node.link = link;
  }

  onConnected(link: ClusterLink): void {
    const node = link.node!;
    const oldPingSent = node.pingSent;
    this.sendPing(link, node.flags & NodeFlag.MEET ? MsgType.MEET : MsgType.PING);
    if (oldPingSent) node.pingSent = oldPingSent;
    node.flags &= ~NodeFlag.MEET;
  }

  onFreed(link: ClusterLink): void {
    this.links.delete(link);
    const node = link.node;
    if (!node) return;
    // A refused connection counts as a ping without answer (Redis sets ping_sent when connect() fails), so a dead
    // node whose last ping was answered still goes PFAIL after the node timeout.
    if (!link.inbound && !link.connected && node.pingSent === 0 && !node.inHandshake) node.pingSent = link.ctime;
    if (node.link === link) node.link = null;
    if (node.inboundLink === link) node.inboundLink = null;
  }

  /** Every live link, for CLUSTER LINKS. */
  allLinks(): ClusterLink[] {
    return [...this.links].filter((l) => l.node !== null);
  }

  private setInboundLink(node: ClusterNode, link: ClusterLink): void {
    if (node.inboundLink === link) return;
    if (node.inboundLink) {
      this.log('verbose', `Replacing an existing inbound link for node ${node.name}`);
      (node.inboundLink as ClusterLink).close();
    }
    node.inboundLink = link;
    link.node = node;
  }

  // ---------------------------------------------------------------- building and sending

  private masterOfMyself(): ClusterNode {
    return this.myself.isReplica && this.myself.replicaOf ? this.myself.replicaOf : this.myself;
  }

  /** clusterBuildMessageHdr. */
  buildHeader(type: number): MessageHeader {
    const master = this.masterOfMyself();
    const announceIp = this.host.configString('cluster-announce-ip');
    const mflags: [number, number, number] = [0, 0, 0];
    if (this.myself.isMaster && this.mfEnd) mflags[0] |= MsgFlag0.PAUSED;
    return {
      type,
      port: this.myself.port,
      pport: this.myself.pport,
      cport: this.myself.cport,
      currentEpoch: this.state.currentEpoch,
      configEpoch: master.configEpoch,
      offset: this.host.replicationOffset(),
      sender: this.myself.name,
      myslots: master.slots,
      slaveof: this.myself.replicaOf ? this.myself.replicaOf.name : null,
      myip: announceIp,
      flags: this.myself.flags & 0xffff,
      state: this.state.state === 'ok' ? 0 : 1,
      mflags,
    };
  }

  sendMessage(link: ClusterLink | null, msg: ClusterMessage): void {
    if (!link) return;
    this.sendBytes(link, encodeMessage(msg), msg.header.type);
  }

  private sendBytes(link: ClusterLink, bytes: Buffer, type: number): void {
    link.send(bytes);
    if (type < MSG_TYPE_COUNT) this.statsSent[type]!++;
  }

  /** clusterBroadcastMessage: every node with an outbound link, except myself and handshake nodes. */
  broadcast(msg: ClusterMessage): void {
    const bytes = encodeMessage(msg);
    for (const node of this.state.nodes.values()) {
      if (node.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) continue;
      if (node.link) this.sendBytes(node.link as ClusterLink, bytes, msg.header.type);
    }
  }

  private gossipEntry(n: ClusterNode): GossipEntry {
    return {
      nodename: n.name,
      pingSent: Math.floor(n.pingSent / 1000),
      pongReceived: Math.floor(n.pongReceived / 1000),
      ip: n.ip,
      port: n.port,
      cport: n.cport,
      flags: n.flags & 0xffff,
      pport: n.pport,
    };
  }

  /** clusterSendPing: a PING, PONG or MEET with gossip about random healthy nodes, then every PFAIL node. */
  sendPing(link: ClusterLink, type: number): void {
    this.pingsSent++;
    const nodes = [...this.state.nodes.values()];
    let freshNodes = nodes.length - 2;
    let wanted = Math.floor(nodes.length / 10);
    if (wanted < 3) wanted = 3;
    if (wanted > freshNodes) wanted = freshNodes;
    let pfailWanted = this.statsPfailNodes;
    if (!link.inbound && type === MsgType.PING) link.node!.pingSent = Date.now();
    const header = this.buildHeader(type);
    const gossip: GossipEntry[] = [];
    let maxIterations = wanted * 3;
    while (freshNodes > 0 && gossip.length < wanted && maxIterations-- > 0) {
      const n = nodes[Math.floor(Math.random() * nodes.length)]!;
      if (n === this.myself) continue;
      if (n.flags & NodeFlag.PFAIL) continue;
      if (n.flags & (NodeFlag.HANDSHAKE | NodeFlag.NOADDR) || (n.link === null && n.numSlots === 0)) {
        freshNodes--;
        continue;
      }
      if (n.lastInPingGossip === this.pingsSent) continue;
      gossip.push(this.gossipEntry(n));
      n.lastInPingGossip = this.pingsSent;
      freshNodes--;
    }
    if (pfailWanted) {
      for (const n of nodes) {
        if (pfailWanted <= 0) break;
        if (n.flags & (NodeFlag.HANDSHAKE | NodeFlag.NOADDR)) continue;
        if (!(n.flags & NodeFlag.PFAIL)) continue;
        gossip.push(this.gossipEntry(n));
        pfailWanted--;
      }
    }
    const extensions = this.myself.hostname ? [hostnameExtension(this.myself.hostname)] : [];
    this.sendMessage(link, { header, body: { kind: 'ping', gossip, extensions } });
  }

  /** clusterBroadcastPong: to every linked node, or only to my master's replicas. */
  broadcastPong(localReplicasOnly = false): void {
    for (const node of this.state.nodes.values()) {
      if (!node.link) continue;
      if (node === this.myself || node.inHandshake) continue;
      if (localReplicasOnly) {
        const local = node.isReplica && node.replicaOf && (node.replicaOf === this.myself || node.replicaOf === this.myself.replicaOf);
        if (!local) continue;
      }
      this.sendPing(node.link as ClusterLink, MsgType.PONG);
    }
  }

  /**
   * broadcastPong once this turn's replies are written: Redis queues bus messages and writes them on the next event
   * loop turn, after beforeSleep saved nodes.conf and answered the clients (clusterSendMessage's write handler).
   */
  broadcastPongAfterReplies(): void {
    setImmediate(() => setImmediate(() => {
      if (!this.closed) this.broadcastPong();
    }));
  }

  sendFail(name: string): void {
    this.broadcast({ header: this.buildHeader(MsgType.FAIL), body: { kind: 'fail', nodename: name } });
  }

  sendUpdate(link: ClusterLink | null, node: ClusterNode): void {
    if (!link) return;
    this.sendMessage(link, {
      header: this.buildHeader(MsgType.UPDATE),
      body: { kind: 'update', configEpoch: node.configEpoch, nodename: node.name, slots: node.slots },
    });
  }

  /** PUBLISH goes to every node; SPUBLISH only to my shard (master and its replicas). */
  propagatePublish(channel: string, message: string, sharded: boolean): void {
    const body: MessageBody = { kind: 'publish', channel: Buffer.from(channel, 'latin1'), message: Buffer.from(message, 'latin1') };
    if (!sharded) {
      this.broadcast({ header: this.buildHeader(MsgType.PUBLISH), body });
      return;
    }
    const master = this.myself.isMaster ? this.myself : this.myself.replicaOf;
    if (!master) return;
    const bytes = encodeMessage({ header: this.buildHeader(MsgType.PUBLISHSHARD), body });
    for (const n of [master, ...master.replicas]) {
      if (n === this.myself || !n.link) continue;
      this.sendBytes(n.link as ClusterLink, bytes, MsgType.PUBLISHSHARD);
    }
  }

  // ---------------------------------------------------------------- receiving

  onMessage(link: ClusterLink, raw: Buffer): boolean {
    const type = raw.readUInt16BE(12);
    if (type < MSG_TYPE_COUNT) this.statsReceived[type]!++;
    if (type === this.dropPacketFilter) {
      this.log('warning', 'Dropping packet that matches debug drop filter');
      return true;
    }
    const decoded = decodeMessage(raw);
    if (!decoded.ok) {
      this.log('warning', decoded.reason);
      return true;
    }
    return this.processPacket(link, decoded.message);
  }

  private senderOf(link: ClusterLink, h: MessageHeader): ClusterNode | undefined {
    if (link.node && !link.node.inHandshake) return link.node;
    const sender = this.state.lookup(h.sender);
    if (sender && !link.node) this.setInboundLink(sender, link);
    return sender;
  }

  /** clusterProcessPacket; false when the link was freed. */
  processPacket(link: ClusterLink, msg: ClusterMessage): boolean {
    const h = msg.header;
    const type = h.type;
    const now = Date.now();
    const sender = this.senderOf(link, h);
    if (sender) sender.dataReceived = now;
    if (sender && !sender.inHandshake) {
      if (h.currentEpoch > this.state.currentEpoch) this.state.currentEpoch = h.currentEpoch;
      if (h.configEpoch > sender.configEpoch) {
        sender.configEpoch = h.configEpoch;
        this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
      }
      sender.replOffset = h.offset;
      sender.replOffsetTime = now;
      if (this.mfEnd && this.myself.isReplica && this.myself.replicaOf === sender && h.mflags[0] & MsgFlag0.PAUSED && this.mfMasterOffset === -1n) {
        this.mfMasterOffset = sender.replOffset;
        this.doBeforeSleep(TODO_HANDLE_MANUALFAILOVER);
        this.log('warning', `Received replication offset for paused master manual failover: ${this.mfMasterOffset}`);
      }
    }

    const isPingLike = type === MsgType.PING || type === MsgType.PONG || type === MsgType.MEET;
    if (type === MsgType.PING || type === MsgType.MEET) {
      if ((type === MsgType.MEET || this.myself.ip === '') && this.host.configString('cluster-announce-ip') === '') {
        const ip = localIp(link.socket);
        if (ip !== '' && ip !== this.myself.ip) {
          this.myself.ip = ip;
          this.log('warning', `IP address for this node updated to ${ip}`);
          this.doBeforeSleep(TODO_SAVE_CONFIG);
        }
      }
      if (!sender && type === MsgType.MEET) {
        const node = new ClusterNode(null, NodeFlag.HANDSHAKE);
        node.ip = h.myip !== '' ? h.myip : peerIp(link.socket);
        node.port = h.port;
        node.pport = h.pport;
        node.cport = h.cport;
        this.state.addNode(node);
        this.doBeforeSleep(TODO_SAVE_CONFIG);
        if (msg.body.kind === 'ping') this.processGossip(msg.body.gossip, link, h);
      }
      this.sendPing(link, MsgType.PONG);
    }

    if (isPingLike) {
      if (!link.inbound) {
        const node = link.node!;
        if (node.inHandshake) {
          if (sender) {
            this.log('verbose', `Handshake: we already know node ${sender.name}, updating the address if needed.`);
            if (this.updateAddressIfNeeded(sender, link, h)) this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
            this.state.deleteNode(node, this.failReportMaxAge);
            return false;
          }
          this.state.renameNode(node, h.sender);
          this.log('debug', `Handshake with node ${node.name} completed.`);
          node.flags &= ~NodeFlag.HANDSHAKE;
          node.flags |= h.flags & (NodeFlag.MASTER | NodeFlag.SLAVE);
          this.doBeforeSleep(TODO_SAVE_CONFIG);
        } else if (node.name !== h.sender) {
          this.log('debug', `PONG contains mismatching sender ID. About node ${node.name} added ${now - node.ctime} ms ago, having flags ${node.flags}`);
          node.flags |= NodeFlag.NOADDR;
          node.ip = '';
          node.port = 0;
          node.pport = 0;
          node.cport = 0;
          link.close();
          this.doBeforeSleep(TODO_SAVE_CONFIG);
          return false;
        }
      }

      if (sender) {
        sender.flags = (sender.flags & ~NodeFlag.NOFAILOVER) | (h.flags & NodeFlag.NOFAILOVER);
      }
      if (sender && type === MsgType.PING && !sender.inHandshake && this.updateAddressIfNeeded(sender, link, h)) {
        this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
      }

      if (!link.inbound && type === MsgType.PONG) {
        const node = link.node!;
        node.pongReceived = now;
        node.pingSent = 0;
        if (node.timedOut) {
          node.flags &= ~NodeFlag.PFAIL;
          this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
        } else if (node.failed) {
          this.clearNodeFailureIfNeeded(node);
        }
      }

      if (sender) {
        if (h.slaveof === null) {
          this.setNodeAsMaster(sender);
        } else {
          const master = this.state.lookup(h.slaveof);
          if (sender.isMaster) {
            this.state.delNodeSlots(sender);
            sender.flags &= ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO);
            sender.flags |= NodeFlag.SLAVE;
            this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
          }
          if (master && sender.replicaOf !== master) {
            if (sender.replicaOf) sender.replicaOf.removeReplica(sender);
            master.addReplica(sender);
            sender.replicaOf = master;
            this.doBeforeSleep(TODO_SAVE_CONFIG);
          }
        }
      }

      let dirtySlots = false;
      if (sender) {
        const senderMaster = sender.isMaster ? sender : sender.replicaOf;
        if (senderMaster) dirtySlots = !sameBytes(senderMaster.slots, h.myslots);
      }
      if (sender && sender.isMaster && dirtySlots) this.updateSlotsConfigWith(sender, h.configEpoch, h.myslots);

      if (sender && dirtySlots) {
        for (let j = 0; j < CLUSTER_SLOTS; j++) {
          if (!bitSet(h.myslots, j)) continue;
          const owner = this.state.slots[j];
          if (owner === sender || this.isSlotUnclaimed(j)) continue;
          if (owner!.configEpoch > h.configEpoch) {
            this.log('verbose', `Node ${sender.name} has old slots configuration, sending an UPDATE message about ${owner!.name}`);
            this.sendUpdate(sender.link as ClusterLink | null, owner!);
            break;
          }
        }
      }

      if (sender && this.myself.isMaster && sender.isMaster && h.configEpoch === this.myself.configEpoch) {
        this.handleConfigEpochCollision(sender);
      }

      if (sender && msg.body.kind === 'ping') {
        this.processGossip(msg.body.gossip, link, h);
        let hostname: string | null = null;
        for (const ext of msg.body.extensions) {
          if (ext.type === PingExtType.HOSTNAME) hostname = extensionHostname(ext);
          else this.log('warning', `Received unknown extension type ${ext.type}`);
        }
        sender.hostname = hostname ?? '';
      }
    } else if (type === MsgType.FAIL && msg.body.kind === 'fail') {
      if (sender) {
        const failing = this.state.lookup(msg.body.nodename);
        if (failing && !(failing.flags & (NodeFlag.FAIL | NodeFlag.MYSELF))) {
          this.log('notice', `FAIL message received from ${h.sender} about ${msg.body.nodename}`);
          failing.flags |= NodeFlag.FAIL;
          failing.failTime = now;
          failing.flags &= ~NodeFlag.PFAIL;
          this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
        }
      } else {
        this.log('notice', `Ignoring FAIL message from unknown node ${h.sender} about ${msg.body.nodename}`);
      }
    } else if ((type === MsgType.PUBLISH || type === MsgType.PUBLISHSHARD) && msg.body.kind === 'publish') {
      if (!sender) return true;
      this.host.deliverPublish(msg.body.channel.toString('latin1'), msg.body.message.toString('latin1'), type === MsgType.PUBLISHSHARD);
    } else if (type === MsgType.FAILOVER_AUTH_REQUEST) {
      if (!sender) return true;
      this.sendFailoverAuthIfNeeded(sender, h);
    } else if (type === MsgType.FAILOVER_AUTH_ACK) {
      if (!sender) return true;
      if (sender.isMaster && sender.numSlots > 0 && h.currentEpoch >= this.failoverAuthEpoch) {
        this.failoverAuthCount++;
        this.doBeforeSleep(TODO_HANDLE_FAILOVER);
      }
    } else if (type === MsgType.MFSTART) {
      if (!sender || sender.replicaOf !== this.myself) return true;
      this.resetManualFailover();
      this.mfEnd = now + MF_TIMEOUT;
      this.mfReplica = sender;
      this.host.pauseWrites(now + MF_TIMEOUT * MF_PAUSE_MULT);
      this.log('warning', `Manual failover requested by replica ${sender.name}.`);
      this.sendPing(link, MsgType.PING);
    } else if (type === MsgType.UPDATE && msg.body.kind === 'update') {
      if (!sender) return true;
      const n = this.state.lookup(msg.body.nodename);
      if (!n) return true;
      if (n.configEpoch >= msg.body.configEpoch) return true;
      if (n.isReplica) this.setNodeAsMaster(n);
      n.configEpoch = msg.body.configEpoch;
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
      this.updateSlotsConfigWith(n, msg.body.configEpoch, msg.body.slots);
    } else if (type === MsgType.MODULE) {
      // No modules: nothing subscribes to module messages.
    } else {
      this.log('warning', `Received unknown packet type: ${type}`);
    }
    return true;
  }

  private processGossip(entries: GossipEntry[], link: ClusterLink, h: MessageHeader): void {
    const sender = link.node ?? this.state.lookup(h.sender);
    const now = Date.now();
    for (const g of entries) {
      const node = this.state.lookup(g.nodename);
      if (node) {
        if (sender && sender.isMaster && node !== this.myself) {
          if (g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) {
            if (node.addFailureReport(sender, now)) this.log('verbose', `Node ${sender.name} reported node ${node.name} as not reachable.`);
            this.markNodeAsFailingIfNeeded(node);
          } else if (node.delFailureReport(sender, this.failReportMaxAge, now)) {
            this.log('verbose', `Node ${sender.name} reported node ${node.name} is back online.`);
          }
        }
        if (!(g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) && node.pingSent === 0 && node.failureReportCount(this.failReportMaxAge, now) === 0) {
          const pongTime = g.pongReceived * 1000;
          if (pongTime <= now + 500 && pongTime > node.pongReceived) node.pongReceived = pongTime;
        }
        if (node.flags & (NodeFlag.FAIL | NodeFlag.PFAIL) && !(g.flags & NodeFlag.NOADDR) && !(g.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) &&
          (node.ip.toLowerCase() !== g.ip.toLowerCase() || node.port !== g.port || node.cport !== g.cport)) {
          if (node.link) node.link.close();
          node.ip = g.ip;
          node.port = g.port;
          node.pport = g.pport;
          node.cport = g.cport;
          node.flags &= ~NodeFlag.NOADDR;
        }
      } else if (sender && !(g.flags & NodeFlag.NOADDR) && !this.blacklistExists(g.nodename) && isValidNodeName(g.nodename)) {
        const n = new ClusterNode(g.nodename, g.flags);
        n.ip = g.ip;
        n.port = g.port;
        n.pport = g.pport;
        n.cport = g.cport;
        this.state.addNode(n);
      }
    }
  }

  /** nodeUpdateAddressIfNeeded: a PING on another link with a new address moves the node there. */
  private updateAddressIfNeeded(node: ClusterNode, link: ClusterLink, h: MessageHeader): boolean {
    if (link === node.link) return false;
    const ip = h.myip !== '' ? h.myip : peerIp(link.socket);
    if (ip === '') return false;
    if (node.port === h.port && node.cport === h.cport && node.pport === h.pport && node.ip === ip) return false;
    node.ip = ip;
    node.port = h.port;
    node.pport = h.pport;
    node.cport = h.cport;
    if (node.link) node.link.close();
    node.flags &= ~NodeFlag.NOADDR;
    this.log('warning', `Address updated for node ${node.name}, now ${node.ip}:${node.port}`);
    if (this.myself.isReplica && this.myself.replicaOf === node) this.host.replicateFrom(node.ip, node.port);
    return true;
  }

  setNodeAsMaster(n: ClusterNode): void {
    if (n.isMaster) return;
    if (n.replicaOf) {
      n.replicaOf.removeReplica(n);
      if (n !== this.myself) n.flags |= NodeFlag.MIGRATE_TO;
    }
    n.flags &= ~NodeFlag.SLAVE;
    n.flags |= NodeFlag.MASTER;
    n.replicaOf = null;
    this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
  }

  isSlotUnclaimed(slot: number): boolean {
    return this.state.slots[slot] === null || bitSet(this.state.ownerNotClaimingSlot, slot);
  }

  /** clusterUpdateSlotsConfigWith. */
  updateSlotsConfigWith(sender: ClusterNode, senderConfigEpoch: bigint, slots: Uint8Array): void {
    const curMaster = this.myself.isMaster ? this.myself : this.myself.replicaOf;
    if (sender === this.myself) {
      this.log('warning', 'Discarding UPDATE message about myself.');
      return;
    }
    let newMaster: ClusterNode | null = null;
    const dirty: number[] = [];
    let senderSlots = 0;
    let migratedOurSlots = 0;
    const st = this.state;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (bitSet(slots, j)) {
        senderSlots++;
        if (st.slots[j] === sender) {
          clearBit(st.ownerNotClaimingSlot, j);
          continue;
        }
        if (st.importingFrom[j]) continue;
        if (this.isSlotUnclaimed(j) || st.slots[j]!.configEpoch < senderConfigEpoch) {
          if (st.slots[j] === this.myself && this.host.countKeysInSlot(j)) dirty.push(j);
          if (st.slots[j] !== null && st.slots[j] === curMaster) {
            newMaster = sender;
            migratedOurSlots++;
          }
          st.delSlot(j);
          st.addSlot(sender, j);
          clearBit(st.ownerNotClaimingSlot, j);
          this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
        }
      } else if (st.slots[j] === sender) {
        setBit(st.ownerNotClaimingSlot, j);
      }
    }
    if (newMaster && curMaster && curMaster.numSlots === 0 && (this.host.configBool('cluster-allow-replica-migration') || senderSlots === migratedOurSlots)) {
      this.log('warning', `Configuration change detected. Reconfiguring myself as a replica of ${sender.name}`);
      this.setMaster(sender);
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
    } else if (this.myself.replicaOf && this.myself.replicaOf.replicaOf && this.myself.replicaOf.replicaOf !== this.myself) {
      this.log('warning', `I'm a sub-replica! Reconfiguring myself as a replica of grandmaster ${this.myself.replicaOf.replicaOf.name}`);
      this.setMaster(this.myself.replicaOf.replicaOf);
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
    } else if (dirty.length) {
      for (const s of dirty) this.host.delKeysInSlot(s);
    }
  }

  /** clusterSetMaster: become a replica of n. */
  setMaster(n: ClusterNode): void {
    const me = this.myself;
    if (me.isMaster) {
      me.flags &= ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO);
      me.flags |= NodeFlag.SLAVE;
      this.state.closeAllSlots();
    } else if (me.replicaOf) {
      me.replicaOf.removeReplica(me);
    }
    me.replicaOf = n;
    n.addReplica(me);
    this.host.replicateFrom(n.ip, n.port);
    this.resetManualFailover();
  }

  handleConfigEpochCollision(sender: ClusterNode): void {
    const me = this.myself;
    if (sender.configEpoch !== me.configEpoch || !sender.isMaster || !me.isMaster) return;
    if (sender.name <= me.name) return;
    this.state.currentEpoch++;
    me.configEpoch = this.state.currentEpoch;
    this.saveOrDie(true);
    this.log('verbose', `WARNING: configEpoch collision with node ${sender.name}. configEpoch set to ${me.configEpoch}`);
  }

  /** clusterBumpConfigEpochWithoutConsensus; true if a new epoch was taken. */
  bumpConfigEpochWithoutConsensus(): boolean {
    const max = this.state.maxEpoch();
    if (this.myself.configEpoch === 0n || this.myself.configEpoch !== max) {
      this.state.currentEpoch++;
      this.myself.configEpoch = this.state.currentEpoch;
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
      this.log('warning', `New configEpoch set to ${this.myself.configEpoch}`);
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- failure detection

  markNodeAsFailingIfNeeded(node: ClusterNode): void {
    const neededQuorum = Math.floor(this.state.size / 2) + 1;
    if (!node.timedOut || node.failed) return;
    let failures = node.failureReportCount(this.failReportMaxAge, Date.now());
    if (this.myself.isMaster) failures++;
    if (failures < neededQuorum) return;
    this.log('notice', `Marking node ${node.name} as failing (quorum reached).`);
    node.flags &= ~NodeFlag.PFAIL;
    node.flags |= NodeFlag.FAIL;
    node.failTime = Date.now();
    this.sendFail(node.name);
    this.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
  }

  clearNodeFailureIfNeeded(node: ClusterNode): void {
    const now = Date.now();
    if (node.isReplica || node.numSlots === 0) {
      this.log('notice', `Clear FAIL state for node ${node.name}: ${node.isReplica ? 'replica' : 'master without slots'} is reachable again.`);
      node.flags &= ~NodeFlag.FAIL;
      this.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    }
    if (node.isMaster && node.numSlots > 0 && now - node.failTime > this.nodeTimeout * FAIL_UNDO_TIME_MULT) {
      this.log('notice', `Clear FAIL state for node ${node.name}: is reachable again and nobody is serving its slots after some time.`);
      node.flags &= ~NodeFlag.FAIL;
      this.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    }
  }

  // ---------------------------------------------------------------- handshake and blacklist

  /** clusterStartHandshake: 'ok', or why not ('invalid' address/port, 'inprogress'). */
  startHandshake(ip: string, port: number, cport: number): 'ok' | 'invalid' | 'inprogress' {
    const family = net.isIP(ip);
    if (family === 0) return 'invalid';
    if (port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return 'invalid';
    const norm = normalizeIp(ip, family);
    for (const n of this.state.nodes.values()) {
      if (n.inHandshake && n.ip.toLowerCase() === norm.toLowerCase() && n.port === port && n.cport === cport) return 'inprogress';
    }
    const n = new ClusterNode(null, NodeFlag.HANDSHAKE | NodeFlag.MEET);
    n.ip = norm;
    n.port = port;
    n.cport = cport;
    this.state.addNode(n);
    return 'ok';
  }

  private blacklistCleanup(): void {
    const nowSec = Math.floor(Date.now() / 1000);
    for (const [id, expire] of this.state.blacklist) if (expire < nowSec) this.state.blacklist.delete(id);
  }

  blacklistAdd(node: ClusterNode): void {
    this.blacklistCleanup();
    this.state.blacklist.set(node.name, Math.floor(Date.now() / 1000) + BLACKLIST_TTL);
  }

  blacklistExists(name: string): boolean {
    this.blacklistCleanup();
    return this.state.blacklist.has(name);
  }

  /** Deletes a node (CLUSTER FORGET, RESET, expired handshakes). */
  deleteNode(node: ClusterNode): void {
    this.state.deleteNode(node, this.failReportMaxAge);
  }

  // ---------------------------------------------------------------- cron and state

  /** clusterCron, every 100 ms. */
  cron(): void {
    if (this.closed) return;
    this.iteration++;
    const hostname = this.host.configString('cluster-announce-hostname');
    if (hostname !== this.myself.hostname) this.myself.hostname = hostname;
    const timeout = this.nodeTimeout;
    const handshakeTimeout = Math.max(timeout, 1000);
    let updateState = false;
    let now = Date.now();
    this.statsPfailNodes = 0;
    const sendbufLimit = this.host.configNumber('cluster-link-sendbuf-limit');
    for (const node of [...this.state.nodes.values()]) {
      if (sendbufLimit > 0) {
        this.freeLinkOnBufferLimitReached(node.link as ClusterLink | null, sendbufLimit);
        this.freeLinkOnBufferLimitReached(node.inboundLink as ClusterLink | null, sendbufLimit);
      }
      if (node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR)) continue;
      if (node.flags & NodeFlag.PFAIL) this.statsPfailNodes++;
      if (node.inHandshake && now - node.ctime > handshakeTimeout) {
        this.deleteNode(node);
        continue;
      }
      if (node.link === null) this.connectNode(node);
    }

    if (this.iteration % 10 === 0) {
      const nodes = [...this.state.nodes.values()];
      let minPongNode: ClusterNode | null = null;
      for (let j = 0; j < 5 && nodes.length; j++) {
        const n = nodes[Math.floor(Math.random() * nodes.length)]!;
        if (n.link === null || n.pingSent !== 0) continue;
        if (n.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) continue;
        if (minPongNode === null || minPongNode.pongReceived > n.pongReceived) minPongNode = n;
      }
      if (minPongNode) this.sendPing(minPongNode.link as ClusterLink, MsgType.PING);
    }

    let orphanedMasters = 0;
    let maxReplicas = 0;
    let thisReplicas = 0;
    for (const node of [...this.state.nodes.values()]) {
      now = Date.now();
      if (node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR | NodeFlag.HANDSHAKE)) continue;
      if (this.myself.isReplica && node.isMaster && !node.failed) {
        const ok = node.countNonFailingReplicas();
        if (ok === 0 && node.numSlots > 0 && node.flags & NodeFlag.MIGRATE_TO) orphanedMasters++;
        if (ok > maxReplicas) maxReplicas = ok;
        if (this.myself.replicaOf === node) thisReplicas = ok;
      }
      const pingDelay = now - node.pingSent;
      const dataDelay = now - node.dataReceived;
      const link = node.link as ClusterLink | null;
      if (link && now - link.ctime > timeout && node.pingSent && pingDelay > timeout / 2 && dataDelay > timeout / 2) {
        link.close();
      }
      if (node.link && node.pingSent === 0 && now - node.pongReceived > timeout / 2) {
        this.sendPing(node.link as ClusterLink, MsgType.PING);
        continue;
      }
      if (this.mfEnd && this.myself.isMaster && this.mfReplica === node && node.link) {
        this.sendPing(node.link as ClusterLink, MsgType.PING);
        continue;
      }
      if (node.pingSent === 0) continue;
      const nodeDelay = Math.min(pingDelay, dataDelay);
      if (nodeDelay > timeout && !(node.flags & (NodeFlag.PFAIL | NodeFlag.FAIL))) {
        this.log('debug', `*** NODE ${node.name} possibly failing`);
        node.flags |= NodeFlag.PFAIL;
        updateState = true;
      }
    }

    const myMaster = this.myself.replicaOf;
    if (this.myself.isReplica && !this.host.hasMasterHost() && myMaster && myMaster.hasAddress) {
      this.host.replicateFrom(myMaster.ip, myMaster.port);
    }
    this.manualFailoverCheckTimeout();
    if (this.myself.isReplica) {
      this.handleManualFailover();
      this.handleReplicaFailover();
      if (orphanedMasters && maxReplicas >= 2 && thisReplicas === maxReplicas && this.host.configBool('cluster-allow-replica-migration')) {
        this.handleReplicaMigration(maxReplicas);
      }
    }
    if (updateState || this.state.state === 'fail') this.updateState();
  }

  /** cluster-link-sendbuf-limit: a link whose unsent bytes exceed it is freed (the cron reconnects an outbound one). */
  private freeLinkOnBufferLimitReached(link: ClusterLink | null, limit: number): void {
    if (!link || link.sendBufferUsed <= limit) return;
    this.log('warning', `Freeing cluster link(${link.inbound ? 'from' : 'to'} node ${link.node?.name ?? ''}, used memory: ${link.sendBufferUsed}) due to exceeding send buffer memory limit.`);
    link.close();
    this.linksBufferLimitExceeded++;
  }

  /** clusterUpdateState. */
  updateState(): void {
    const now = Date.now();
    if (this.firstStateCall === 0) this.firstStateCall = now;
    if (this.myself.isMaster && this.state.state === 'fail' && now - this.firstStateCall < WRITABLE_DELAY) return;
    let newState: 'ok' | 'fail' = 'ok';
    if (this.host.configBool('cluster-require-full-coverage')) {
      for (let j = 0; j < CLUSTER_SLOTS; j++) {
        const owner = this.state.slots[j];
        if (owner === null || owner.flags & NodeFlag.FAIL) {
          newState = 'fail';
          break;
        }
      }
    }
    let reachable = 0;
    this.state.size = 0;
    for (const n of this.state.nodes.values()) {
      if (n.isMaster && n.numSlots) {
        this.state.size++;
        if ((n.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) === 0) reachable++;
      }
    }
    if (reachable < Math.floor(this.state.size / 2) + 1) {
      newState = 'fail';
      this.amongMinorityTime = now;
    }
    if (newState !== this.state.state) {
      const rejoinDelay = Math.min(MAX_REJOIN_DELAY, Math.max(MIN_REJOIN_DELAY, this.nodeTimeout));
      if (newState === 'ok' && this.myself.isMaster && now - this.amongMinorityTime < rejoinDelay) return;
      this.log('warning', `Cluster state changed: ${newState}`);
      this.state.state = newState;
    }
  }

  // ---------------------------------------------------------------- failover

  private sendFailoverAuthIfNeeded(node: ClusterNode, request: MessageHeader): void {
    const master = node.replicaOf;
    const forceAck = (request.mflags[0] & MsgFlag0.FORCEACK) !== 0;
    const me = this.myself;
    const st = this.state;
    if (me.isReplica || me.numSlots === 0) return;
    if (request.currentEpoch < st.currentEpoch) {
      this.log('warning', `Failover auth denied to ${node.name}: reqEpoch (${request.currentEpoch}) < curEpoch(${st.currentEpoch})`);
      return;
    }
    if (st.lastVoteEpoch === st.currentEpoch) {
      this.log('warning', `Failover auth denied to ${node.name}: already voted for epoch ${st.currentEpoch}`);
      return;
    }
    if (node.isMaster || master === null || (!master.failed && !forceAck)) {
      if (node.isMaster) this.log('warning', `Failover auth denied to ${node.name}: it is a master node`);
      else if (master === null) this.log('warning', `Failover auth denied to ${node.name}: I don't know its master`);
      else this.log('warning', `Failover auth denied to ${node.name}: its master is up`);
      return;
    }
    const now = Date.now();
    if (now - master.votedTime < this.nodeTimeout * 2) {
      this.log('warning', `Failover auth denied to ${node.name}: can't vote about this master before ${this.nodeTimeout * 2 - (now - master.votedTime)} milliseconds`);
      return;
    }
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (!bitSet(request.myslots, j)) continue;
      if (this.isSlotUnclaimed(j) || st.slots[j]!.configEpoch <= request.configEpoch) continue;
      this.log('warning', `Failover auth denied to ${node.name}: slot ${j} epoch (${st.slots[j]!.configEpoch}) > reqEpoch (${request.configEpoch})`);
      return;
    }
    st.lastVoteEpoch = st.currentEpoch;
    master.votedTime = now;
    this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
    if (node.link) this.sendMessage(node.link as ClusterLink, { header: this.buildHeader(MsgType.FAILOVER_AUTH_ACK), body: { kind: 'empty' } });
    this.log('warning', `Failover auth granted to ${node.name} for epoch ${st.currentEpoch}`);
  }

  private replicaRank(): number {
    const master = this.myself.replicaOf;
    if (!master) return 0;
    const myOffset = this.host.replicationOffset();
    let rank = 0;
    for (const r of master.replicas) if (r !== this.myself && r.canFailover && r.replOffset > myOffset) rank++;
    return rank;
  }

  private cantFailoverReason = 0;
  private lastCantFailoverLog = 0;
  private logCantFailover(reason: number, text: string): void {
    const now = Date.now();
    if (reason === this.cantFailoverReason && now - this.lastCantFailoverLog < 10000) return;
    this.cantFailoverReason = reason;
    const master = this.myself.replicaOf;
    if (master && master.failed && now - master.failTime < this.nodeTimeout * 2) return;
    this.lastCantFailoverLog = now;
    this.log('warning', `Currently unable to failover: ${text}`);
  }

  /** clusterFailoverReplaceYourMaster. */
  failoverReplaceMaster(): void {
    const old = this.myself.replicaOf;
    if (this.myself.isMaster || old === null) return;
    this.setNodeAsMaster(this.myself);
    this.host.stopReplicating();
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (old.hasSlot(j)) {
        this.state.delSlot(j);
        this.state.addSlot(this.myself, j);
      }
    }
    this.updateState();
    this.saveOrDie(true);
    this.broadcastPong();
    this.resetManualFailover();
  }

  /** clusterHandleSlaveFailover. */
  handleReplicaFailover(): void {
    const now = Date.now();
    const authAge = now - this.failoverAuthTime;
    const neededQuorum = Math.floor(this.state.size / 2) + 1;
    const manual = this.mfEnd !== 0 && this.mfCanStart;
    const timeout = this.nodeTimeout;
    const authTimeout = Math.max(timeout * 2, 2000);
    const authRetryTime = authTimeout * 2;
    this.todo &= ~TODO_HANDLE_FAILOVER;
    const me = this.myself;
    const master = me.replicaOf;
    if (me.isMaster || master === null || (!master.failed && !manual) || (this.host.configBool('cluster-replica-no-failover') && !manual) || master.numSlots === 0) {
      this.cantFailoverReason = 0;
      return;
    }
    let dataAge = this.host.masterDataAgeMs();
    if (dataAge > timeout) dataAge -= timeout;
    const factor = this.host.configNumber('cluster-replica-validity-factor');
    if (factor && dataAge > this.host.configNumber('repl-ping-replica-period') * 1000 + timeout * factor) {
      if (!manual) {
        this.logCantFailover(1, "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.");
        return;
      }
    }
    if (authAge > authRetryTime) {
      this.failoverAuthTime = now + 500 + Math.floor(Math.random() * 500);
      this.failoverAuthCount = 0;
      this.failoverAuthSent = false;
      this.failoverAuthRank = this.replicaRank();
      this.failoverAuthTime += this.failoverAuthRank * 1000;
      if (this.mfEnd) {
        this.failoverAuthTime = now;
        this.failoverAuthRank = 0;
        this.doBeforeSleep(TODO_HANDLE_FAILOVER);
      }
      this.log('warning', `Start of election delayed for ${this.failoverAuthTime - now} milliseconds (rank #${this.failoverAuthRank}, offset ${this.host.replicationOffset()}).`);
      this.broadcastPong(true);
      return;
    }
    if (!this.failoverAuthSent && this.mfEnd === 0) {
      const newRank = this.replicaRank();
      if (newRank > this.failoverAuthRank) {
        const added = (newRank - this.failoverAuthRank) * 1000;
        this.failoverAuthTime += added;
        this.failoverAuthRank = newRank;
        this.log('warning', `Replica rank updated to #${newRank}, added ${added} milliseconds of delay.`);
      }
    }
    if (now < this.failoverAuthTime) {
      this.logCantFailover(2, 'Waiting the delay before I can start a new failover.');
      return;
    }
    if (authAge > authTimeout) {
      this.logCantFailover(3, 'Failover attempt expired.');
      return;
    }
    if (!this.failoverAuthSent) {
      this.state.currentEpoch++;
      this.failoverAuthEpoch = this.state.currentEpoch;
      this.log('warning', `Starting a failover election for epoch ${this.state.currentEpoch}.`);
      const header = this.buildHeader(MsgType.FAILOVER_AUTH_REQUEST);
      if (this.mfEnd) header.mflags[0] |= MsgFlag0.FORCEACK;
      this.broadcast({ header, body: { kind: 'empty' } });
      this.failoverAuthSent = true;
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
      return;
    }
    if (this.failoverAuthCount >= neededQuorum) {
      this.log('warning', 'Failover election won: I\'m the new master.');
      if (me.configEpoch < this.failoverAuthEpoch) {
        me.configEpoch = this.failoverAuthEpoch;
        this.log('warning', `configEpoch set to ${me.configEpoch} after successful failover`);
      }
      this.failoverReplaceMaster();
    } else {
      this.logCantFailover(4, 'Waiting for votes, but majority still not reached.');
    }
  }

  /** clusterHandleSlaveMigration. */
  private handleReplicaMigration(maxReplicas: number): void {
    const me = this.myself;
    const myMaster = me.replicaOf;
    if (this.state.state !== 'ok' || myMaster === null) return;
    const okReplicas = myMaster.countNonFailingReplicas();
    if (okReplicas <= this.host.configNumber('cluster-migration-barrier')) return;
    let candidate: ClusterNode = me;
    let target: ClusterNode | null = null;
    const now = Date.now();
    for (const node of this.state.nodes.values()) {
      let ok = 0;
      let isOrphaned = true;
      if (node.isReplica || node.failed) isOrphaned = false;
      if (!(node.flags & NodeFlag.MIGRATE_TO)) isOrphaned = false;
      if (node.isMaster) ok = node.countNonFailingReplicas();
      if (ok > 0) isOrphaned = false;
      if (isOrphaned) {
        if (!target && node.numSlots > 0) target = node;
        if (!node.orphanedTime) node.orphanedTime = now;
      } else {
        node.orphanedTime = 0;
      }
      if (ok === maxReplicas) {
        for (const r of node.replicas) if (r.name < candidate.name) candidate = r;
      }
    }
    if (target && candidate === me && now - target.orphanedTime > SLAVE_MIGRATION_DELAY && !this.mfEnd) {
      this.log('warning', `Migrating to orphaned master ${target.name}`);
      this.setMaster(target);
    }
  }

  resetManualFailover(): void {
    if (this.mfReplica) this.host.pauseWrites(0);
    this.mfEnd = 0;
    this.mfCanStart = false;
    this.mfReplica = null;
    this.mfMasterOffset = -1n;
  }

  private manualFailoverCheckTimeout(): void {
    if (this.mfEnd && this.mfEnd < Date.now()) {
      this.log('warning', 'Manual failover timed out.');
      this.resetManualFailover();
    }
  }

  private handleManualFailover(): void {
    if (this.mfEnd === 0 || this.mfCanStart || this.mfMasterOffset === -1n) return;
    if (this.mfMasterOffset === this.host.replicationOffset()) {
      this.mfCanStart = true;
      this.log('warning', 'All master replication stream processed, manual failover can start.');
      this.doBeforeSleep(TODO_HANDLE_FAILOVER);
      return;
    }
    this.doBeforeSleep(TODO_HANDLE_MANUALFAILOVER);
  }

  /** CLUSTER FAILOVER's start for the default mode: ask the master to pause (MFSTART). */
  sendMfStart(node: ClusterNode): void {
    if (!node.link) return;
    this.sendMessage(node.link as ClusterLink, { header: this.buildHeader(MsgType.MFSTART), body: { kind: 'empty' } });
  }

  /** replicationUnsetMaster (CLUSTER RESET of a replica). */
  stopReplicating(): void {
    this.host.stopReplicating();
  }

  /** Queues work for the next beforeSleep (for commands). */
  todoSaveAndUpdate(fsync = false): void {
    this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | (fsync ? TODO_FSYNC_CONFIG : 0));
  }

  todoHandleFailover(): void {
    this.doBeforeSleep(TODO_HANDLE_FAILOVER);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function bitSet(bitmap: Uint8Array, pos: number): boolean {
  return (bitmap[pos >> 3]! & (1 << (pos & 7))) !== 0;
}

function setBit(bitmap: Uint8Array, pos: number): void {
  bitmap[pos >> 3]! |= 1 << (pos & 7);
}

function clearBit(bitmap: Uint8Array, pos: number): void {
  bitmap[pos >> 3]! &= ~(1 << (pos & 7));
}

/** inet_ntop of inet_pton: the canonical text of an address. */
function normalizeIp(ip: string, family: number): string {
  if (family === 4) return ip.split('.').map((p) => String(Number(p))).join('.');
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}
