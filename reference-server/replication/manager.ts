/**
 * Replication as Redis 7.0 does it: the master side (backlog, PSYNC/SYNC, replica table, WAIT) and the
 * replica side (handshake, full and partial resync, applying and proxying the master's stream), with PSYNC2 ids.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { ClientState, CommandSpec, ReplicationHooks } from '../commands/command.js';
import type { Client } from '../server/connection.js';
import type { RedisServer } from '../server/server.js';
import { encodeCommand } from '../resp/writer.js';
import { Backlog } from './backlog.js';
import { PendingBytes, StreamOut } from './stream.js';
import { loadRdb, type LoadedKey } from '../persistence/codec.js';
import { captureSnapshot, insertPaced } from '../persistence/snapshot.js';
import type { Persistence } from './persistence.js';

const ZERO_ID = '0000000000000000000000000000000000000000';

export function newReplId(): string {
  return randomBytes(20).toString('hex');
}

export interface ReplicaRecord {
  client: Client;
  ip: string;
  port: number;
  /** INFO shows both waits as wait_bgsave: for a BGSAVE to start, and for the one it takes part in to end. */
  state: 'wait_bgsave_start' | 'wait_bgsave_end' | 'send_bulk' | 'online';
  ackOffset: number;
  ackTime: number;
  /** Stream bytes produced while the RDB payload is still to be written (full sync in progress). */
  held?: Buffer[];
  /** The streamed payload was sent; the replica's first ACK starts its stream. */
  waitAck?: boolean;
  /** Full sync: the replica can read an EOF-marked payload; it asked with PSYNC (not SYNC); since when it waits. */
  capaEof?: boolean;
  psync?: boolean;
  since?: number;
  /** The offset its snapshot corresponds to (+FULLRESYNC's). */
  initialOffset?: number;
  /** Since when a write of the streamed payload waits for the socket to drain (0: none waits). */
  partialSince?: number;
}

interface PendingReplconf { port: number; ip: string; capaEof: boolean; capaPsync2: boolean }

type LinkState = 'none' | 'connect' | 'connecting' | 'handshake' | 'transfer' | 'connected';

/** A WAIT in progress: resolved when enough replicas acked the offset, or on timeout by the server cron. */
interface Waiter { client: Client; offset: number; needed: number; deadline: number; active: () => boolean; done: (n: number) => void }

export type FailoverState = 'no-failover' | 'waiting-for-sync' | 'failover-in-progress';

export class Replication implements ReplicationHooks {
  replid = newReplId();
  replid2 = ZERO_ID;
  offset = 0;
  secondOffset = -1;
  backlog: Backlog | null = null;
  /** Db of the last SELECT in the stream we generate (-1: next write emits one). */
  private seldb = -1;
  readonly replicas = new Map<number, ReplicaRecord>();
  private pending = new Map<number, PendingReplconf>();
  private noReplicasSince = Date.now();
  /** When the once-a-second part of the cron last ran, and how many times (Redis's replication_cron_loops). */
  private lastCronSecond = 0;
  private cronLoops = 0;
  private flushScheduled = false;
  readonly waiters: Waiter[] = [];

  // replica side
  masterHost: string | null = null;
  masterPort = 0;
  linkState: LinkState = 'none';
  private link: MasterLink | null = null;
  masterClient: Client | null = null;
  /** Offset processed from the master (slave_repl_offset) and offset read (slave_read_repl_offset). */
  readOffset = 0;
  lastIo = 0;
  downSince = 0;
  private lastAck = 0;
  private lastConnectAttempt = 0;
  /** PSYNC basis when (re)connecting: the replid/offset our data corresponds to, or undefined for a full sync. */
  private cached: { replid: string; offset: number; dbIndex: number } | undefined;
  /** Sync progress for INFO while transferring. */
  syncTotal = -1;
  syncRead = 0;

  failoverState: FailoverState = 'no-failover';
  failover: { host: string; port: number; force: boolean; deadline: number; pausedTarget?: number } | null = null;

  constructor(readonly server: RedisServer) {}

  role(): 'master' | 'replica' {
    return this.masterHost === null ? 'master' : 'replica';
  }

  private cfg(name: string): number {
    return this.server.config.getNumber(name);
  }

  // ---- master side: the stream we generate ----

  propagate(dbIndex: number, argv: string[]): void {
    if (this.masterHost !== null) return;
    if (this.backlog === null && this.replicas.size === 0) return;
    if (this.seldb !== dbIndex) {
      this.offset += this.out.command(['SELECT', String(dbIndex)]);
      this.seldb = dbIndex;
    }
    this.offset += this.out.command(argv);
    this.written();
  }

  /** Appends stream bytes (a latin1 string) to the backlog and every online replica; batched until the next tick. */
  feed(s: string): void {
    this.offset += s.length;
    this.out.raw(s);
    this.written();
  }

  private written(): void {
    if (this.out.length > 1 << 20) this.flushStream();
    else this.scheduleFlush();
  }

  /** The stream generated since the last flush. */
  private readonly out = new StreamOut();

  /** Moves batched stream bytes into the backlog and the replicas' output (before anyone reads the backlog). */
  flushStream(): void {
    if (this.out.length === 0) return;
    const buf = this.out.take();
    this.backlog?.append(buf);
    for (const r of this.replicas.values()) {
      const c = r.client;
      if (c.closed || r.state === 'wait_bgsave_start') continue;
      if (r.held) { r.held.push(buf); continue; }
      // Replies still queued (a corked client) keep their place in front of the stream bytes.
      if (c.reply.len > 0) { c.reply.raw(buf.toString('latin1')); c.flush(); } else if (c.socket && !c.detached) c.socket.write(buf);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushStream();
      for (const r of this.replicas.values()) if (!r.client.closed) r.client.flush();
    });
  }

  /** What an RDB saved now records about replication (aux repl-id, repl-offset, repl-stream-db). */
  saveInfo(): { replid: string; offset: number; streamDb: number } {
    this.flushStream();
    const streamDb = this.masterHost !== null ? (this.masterClient?.dbIndex ?? 0) : Math.max(this.seldb, 0);
    return { replid: this.replid, offset: this.offset, streamDb };
  }

  /** Db the stream was in when a restored RDB was saved (for the first PSYNC after a restart). */
  restoredStreamDb = 0;

  restoreAsMaster(replid: string, offset: number, streamDb = 0): void {
    this.restoredHistory = { replid, offset, streamDb };
    this.replid2 = replid;
    this.secondOffset = offset + 1;
    this.offset = offset;
    this.backlog = new Backlog(this.cfg('repl-backlog-size'), offset);
    this.noReplicasSince = Date.now();
  }

  /** The history an RDB loaded at start recorded, kept until the server knows it is a replica after all. */
  private restoredHistory: { replid: string; offset: number; streamDb: number } | null = null;

  /**
   * A cluster node that nodes.conf says is a replica restarts as one: the RDB's history becomes its own (Redis loads
   * the data after clusterInit and caches itself as the master), so its first PSYNC asks to continue that history.
   */
  adoptRestoredHistoryAsReplica(): void {
    const h = this.restoredHistory;
    if (!h || this.masterHost !== null) return;
    this.replid = h.replid;
    this.replid2 = ZERO_ID;
    this.secondOffset = -1;
    this.offset = h.offset;
    this.restoredStreamDb = h.streamDb;
  }

  private ensureBacklog(): void {
    if (this.backlog) return;
    this.backlog = new Backlog(this.cfg('repl-backlog-size'), this.offset);
  }

  /** REPLCONF options before PSYNC: remembered per client until it becomes a replica. */
  replconfPending(c: Client): PendingReplconf {
    let p = this.pending.get(c.id);
    if (!p) {
      p = { port: 0, ip: '', capaEof: false, capaPsync2: false };
      this.pending.set(c.id, p);
    }
    return p;
  }

  /** PSYNC / SYNC from a would-be replica: +CONTINUE from the backlog when possible, else a full resync. */
  sync(c: Client, argv: string[], psync: boolean): void {
    if (c.kind === 'replica') return;
    const stats = this.server.stats;
    if (psync && argv.length > 3 && argv[3]!.toLowerCase() === 'failover') {
      if (argv[1] !== this.replid) {
        c.reply.error('ERR PSYNC FAILOVER replid must match my replid.');
        return;
      }
      this.server.log('notice', 'Failover request received for replid ' + argv[1] + '.');
      this.unsetMaster('failover');
    }
    if (this.failoverState !== 'no-failover') {
      c.reply.error("NOMASTERLINK Can't SYNC while failing over");
      return;
    }
    if (this.masterHost !== null && this.linkState !== 'connected') {
      c.reply.error("NOMASTERLINK Can't SYNC while not connected with my master");
      return;
    }
    const info = this.pending.get(c.id) ?? { port: 0, ip: '', capaEof: false, capaPsync2: false };
    const ip = info.ip || c.addr.slice(0, c.addr.lastIndexOf(':'));
    if (psync && !/^-?(0|[1-9][0-9]{0,18})$/.test(argv[2]!)) {
      c.reply.error('ERR value is not an integer or out of range');
      this.server.log('warning', `Replica ${ip}:${info.port || '<unknown-replica-port>'} asks for synchronization but with a wrong offset`);
      return;
    }
    this.flushStream();
    this.pending.delete(c.id);
    if (psync) {
      const wantId = argv[1]!;
      const wantOff = Number(argv[2]);
      const idOk = wantId === this.replid || (wantId === this.replid2 && wantOff <= this.secondOffset);
      if (idOk && this.backlog && Number.isInteger(wantOff) && this.backlog.covers(wantOff)) {
        const rec = this.addReplica(c, ip, info.port, 'online');
        c.reply.raw(info.capaPsync2 ? `+CONTINUE ${this.replid}\r\n` : '+CONTINUE\r\n');
        const missing = this.backlog.from(wantOff);
        if (missing.length > 0) c.reply.raw(missing.toString('latin1'));
        stats.sync_partial_ok = (stats.sync_partial_ok ?? 0) + 1;
        this.server.log('notice', `Partial resynchronization request from ${rec.ip}:${rec.port} accepted. Sending ${missing.length} bytes of backlog starting from offset ${wantOff}.`);
        return;
      }
      if (wantId !== '?') stats.sync_partial_err = (stats.sync_partial_err ?? 0) + 1;
    }
    stats.sync_full = (stats.sync_full ?? 0) + 1;
    if (this.backlog === null && this.masterHost === null && this.replicas.size === 0) {
      // A backlog created from scratch has no valid past history: new id, no id2.
      this.replid = newReplId();
      this.replid2 = ZERO_ID;
      this.secondOffset = -1;
    }
    this.ensureBacklog();
    const rec = this.addReplica(c, ip, info.port, 'wait_bgsave_start');
    rec.capaEof = info.capaEof;
    rec.psync = psync;
    rec.since = Date.now();
    // As syncCommand: attach to a disk BGSAVE another replica waits for, else wait for (or start) the next one.
    const pers = this.persistence;
    const child = pers?.child ?? null;
    if (child !== null && child.target === 'disk') {
      const other = pers!.childForReplication
        ? [...this.replicas.values()].find((r) => r !== rec && r.state === 'wait_bgsave_end' && !r.client.closed)
        : undefined;
      if (other !== undefined && (!other.capaEof || rec.capaEof)) {
        this.flushStream();
        rec.held = [...(other.held ?? [])];
        this.setupFullResync(rec, other.initialOffset ?? this.offset);
        this.server.log('notice', 'Waiting for end of BGSAVE for SYNC');
      } else {
        this.server.log('notice', "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
      }
    } else if (child !== null) {
      this.server.log('notice', 'Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC');
    } else if (this.server.config.getBool('repl-diskless-sync') && info.capaEof && this.cfg('repl-diskless-sync-delay') > 0) {
      // The cron starts the transfer once the delay passed, so more replicas can share it.
      this.server.log('notice', 'Delay next BGSAVE for diskless SYNC');
    } else {
      this.startBgsaveForReplication();
    }
  }

  /** The persistence half (the BGSAVE child replicas share); install() sets it. */
  private pers: Persistence | null = null;
  get persistence(): Persistence | null {
    return this.pers;
  }
  set persistence(p: Persistence | null) {
    this.pers = p;
    if (p) p.childKilled = () => this.failWaitingReplicas();
  }

  /** The save replicas waited for is gone: they are dropped and come back for the next one (updateSlavesWaitingBgsave). */
  private failWaitingReplicas(): void {
    for (const [id, r] of [...this.replicas]) {
      if (r.state !== 'wait_bgsave_end' || r.client.closed) continue;
      this.server.log('warning', 'SYNC failed. BGSAVE child returned an error');
      this.replicas.delete(id);
      r.client.destroy();
    }
  }

  /** A replica waiting for the next BGSAVE now gets +FULLRESYNC and the stream from `offset` on is kept for it. */
  private setupFullResync(rec: ReplicaRecord, offset: number): void {
    rec.state = 'wait_bgsave_end';
    rec.initialOffset = offset;
    rec.held ??= [];
    // The stream after the snapshot must say its db again.
    this.seldb = -1;
    const c = rec.client;
    if (rec.psync) c.reply.raw(`+FULLRESYNC ${this.replid} ${offset}\r\n`);
    c.flush();
  }

  /** replicationStartPendingFork: replicas waiting for a BGSAVE get one when the diskless delay or count allows. */
  private startPendingFork(now: number): void {
    const pers = this.persistence;
    if (!pers || pers.child !== null) return;
    let waiting = 0, maxIdle = 0;
    for (const r of this.replicas.values()) {
      if (r.state !== 'wait_bgsave_start' || r.client.closed) continue;
      waiting++;
      maxIdle = Math.max(maxIdle, now - (r.since ?? now));
    }
    if (waiting === 0) return;
    const maxReplicas = this.cfg('repl-diskless-sync-max-replicas');
    if (!this.server.config.getBool('repl-diskless-sync') || (maxReplicas > 0 && waiting >= maxReplicas) ||
      maxIdle >= this.cfg('repl-diskless-sync-delay') * 1000) this.startBgsaveForReplication();
  }

  /** startBgsaveForReplication: one snapshot for every replica waiting, to their sockets or through the RDB file. */
  private startBgsaveForReplication(): void {
    const pers = this.persistence;
    if (!pers || pers.child !== null) return;
    const targets = [...this.replicas.values()].filter((r) => r.state === 'wait_bgsave_start' && !r.client.closed);
    if (targets.length === 0) return;
    const socket = this.server.config.getBool('repl-diskless-sync') && targets.every((r) => r.capaEof);
    this.server.log('notice', `Starting BGSAVE for SYNC with target: ${socket ? 'replicas sockets' : 'disk'}`);
    this.flushStream();
    // A chained replica's stream continues in its master's current db; the RDB tells the sub-replica which one.
    const streamDb = this.masterHost !== null ? (this.masterClient?.dbIndex ?? 0) : 0;
    const snapshotInfo = { replid: this.replid, offset: this.offset, streamDb };
    for (const r of targets) this.setupFullResync(r, this.offset);
    if (!socket) {
      pers.diskChild(true, (rdb) => this.diskSaveDone(rdb), snapshotInfo);
      return;
    }
    // Diskless, as Redis 7.0 by default: the payload is encoded while it is sent, ended by a random 40-byte mark.
    const mark = randomBytes(20).toString('hex');
    for (const r of targets) {
      r.client.reply.raw(`$EOF:${mark}\r\n`);
      r.client.flush();
    }
    const alive = (): ReplicaRecord[] => targets.filter((r) => !r.client.closed && r.client.socket && !r.client.detached && this.replicas.get(r.client.id) === r);
    // The child waits while any replica's socket is full (the slowest replica paces the transfer, as Redis's pipe).
    const tryResume = (): void => {
      if (alive().every((r) => !r.client.socket!.writableNeedDrain)) child.resume();
    };
    this.socketChildResume = tryResume;
    const child = pers.socketChild(captureSnapshot(this.server, snapshotInfo), (piece) => {
      const live = alive();
      if (live.length === 0) {
        this.server.log('warning', 'Diskless rdb transfer, last replica dropped, killing fork child.');
        pers.killChild();
        return false;
      }
      // The mark is part of what the child writes, as the EOF of Redis's pipe.
      const last = piece.length > 0 && child.finishing;
      let full = false;
      for (const r of live) {
        // +FULLRESYNC and $EOF were queued while the client was corked (the PSYNC being served): they go first.
        r.client.flush();
        const sock = r.client.socket!;
        let ok = sock.write(piece);
        if (last) ok = sock.write(mark, 'latin1') && ok;
        if (ok) { r.partialSince = 0; continue; }
        full = true;
        r.partialSince ||= Date.now();
        sock.once('drain', () => { r.partialSince = 0; tryResume(); });
      }
      if (last) this.server.log('warning', `Diskless rdb transfer, done reading from pipe, ${live.length} replicas still up.`);
      return !full;
    }, (ok) => {
      this.socketChildResume = null;
      if (ok) this.server.log('notice', 'Background RDB transfer terminated with success');
      for (const r of alive()) {
        if (!ok) { r.client.destroy(); continue; }
        this.server.log('notice', `Streamed RDB transfer with replica ${r.ip}:${r.port} succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming`);
        // As Redis: online now, but the stream starts once the replica ACKs, or it could read stream bytes with the mark.
        this.putOnline(r);
        r.waitAck = true;
      }
    });
    this.socketTargets = targets;
  }

  /** The replicas the running socket child feeds (a replica leaving may make it useless). */
  private socketTargets: ReplicaRecord[] = [];
  /** Lets the socket child go on when the replicas that filled their sockets drained or left. */
  private socketChildResume: (() => void) | null = null;

  /** A disk BGSAVE ended: replicas waiting for it get the file (updateSlavesWaitingBgsave). */
  private diskSaveDone(rdb: Buffer | null): void {
    for (const r of [...this.replicas.values()]) {
      if (r.state !== 'wait_bgsave_end' || r.client.closed) continue;
      const c = r.client;
      if (rdb === null) {
        this.server.log('warning', 'SYNC failed. BGSAVE child returned an error');
        c.destroy();
        continue;
      }
      r.state = 'send_bulk';
      c.reply.raw(`$${rdb.length}\r\n`);
      c.flush();
      if (!c.socket || c.detached) continue;
      c.socket.write(rdb, () => {
        if (c.closed || this.replicas.get(c.id) !== r) return;
        this.putOnline(r);
        this.startStream(r);
      });
    }
  }

  /** The replica has the whole payload (replicaPutOnline). */
  private putOnline(rec: ReplicaRecord): void {
    rec.state = 'online';
    rec.ackTime = Date.now();
    this.server.log('notice', `Synchronization with replica ${rec.ip}:${rec.port} succeeded`);
  }

  /** Stream bytes held during the full sync go out, then the replica gets the stream directly. */
  private startStream(rec: ReplicaRecord): void {
    this.flushStream();
    const c = rec.client;
    const held = rec.held ?? [];
    rec.held = undefined;
    rec.waitAck = false;
    if (c.closed) return;
    c.flush();
    if (c.socket && !c.detached) for (const b of held) c.socket.write(b);
  }

  private addReplica(c: Client, ip: string, port: number, state: ReplicaRecord['state']): ReplicaRecord {
    c.kind = 'replica';
    const rec: ReplicaRecord = { client: c, ip, port, state, ackOffset: 0, ackTime: Date.now() };
    this.replicas.set(c.id, rec);
    return rec;
  }

  ack(c: Client, offset: number): void {
    const r = this.replicas.get(c.id);
    if (!r) return;
    if (offset > r.ackOffset) r.ackOffset = offset;
    r.ackTime = Date.now();
    if (r.waitAck) this.startStream(r);
    if (this.waiters.length > 0) this.checkWaiters();
  }

  /** Replicas whose acked offset reached `offset`. */
  ackedCount(offset: number): number {
    let n = 0;
    for (const r of this.replicas.values()) if (r.state === 'online' && !r.client.closed && r.ackOffset >= offset) n++;
    return n;
  }

  /** Asks replicas for an ACK (WAIT, FAILOVER): REPLCONF GETACK * goes through the stream. */
  requestAcks(): void {
    if (this.masterHost !== null || this.replicas.size === 0) return;
    this.feed(encodeCommand(['REPLCONF', 'GETACK', '*']));
  }

  addWaiter(w: Waiter): void {
    this.waiters.push(w);
  }

  checkWaiters(now = Date.now()): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      const n = this.ackedCount(w.offset);
      if (!w.active() || w.client.closed) { this.waiters.splice(i--, 1); continue; }
      if (n >= w.needed || (w.deadline > 0 && now >= w.deadline)) {
        this.waiters.splice(i--, 1);
        if (!w.client.closed) w.done(n);
      }
    }
  }

  goodReplicas(): number {
    const maxLag = this.cfg('min-replicas-max-lag') * 1000;
    const now = Date.now();
    let n = 0;
    for (const r of this.replicas.values()) if (r.state === 'online' && !r.client.closed && now - r.ackTime <= maxLag) n++;
    return n;
  }

  writeRefusal(client: ClientState): string | undefined {
    if (this.masterHost !== null) {
      if (this.server.config.getBool('replica-read-only') && client.kind !== 'master') return "READONLY You can't write against a read only replica.";
      return undefined;
    }
    const need = this.cfg('min-replicas-to-write');
    if (need > 0 && this.cfg('min-replicas-max-lag') > 0 && this.goodReplicas() < need) return 'NOREPLICAS Not enough good replicas to write.';
    return undefined;
  }

  staleRefusal(client: ClientState, spec: CommandSpec): string | undefined {
    if (this.masterHost === null || this.linkState === 'connected' || client.kind === 'master') return undefined;
    if (this.server.config.getBool('replica-serve-stale-data') || spec.flags.includes('stale')) return undefined;
    return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
  }

  private dropReplica(id: number): void {
    const r = this.replicas.get(id);
    if (!r) return;
    this.replicas.delete(id);
    if (this.socketChildResume) setImmediate(() => this.socketChildResume?.());
    const pers = this.persistence;
    const child = pers?.child;
    if (pers && child && pers.childForReplication && r.state === 'wait_bgsave_end') {
      const others = [...this.replicas.values()].some((o) => o.state === 'wait_bgsave_end' && !o.client.closed);
      if (child.target === 'disk' && !others && (this.server.config.get('save') ?? '').trim() === '') {
        // As freeClient: nobody needs this RDB any more and no save point wants it either.
        pers.killChild();
      } else if (child.target === 'socket' && !this.socketTargets.some((o) => o !== r && this.replicas.get(o.client.id) === o && !o.client.closed)) {
        this.server.log('warning', 'Diskless rdb transfer, last replica dropped, killing fork child.');
        pers.killChild();
      }
    }
    this.server.log('notice', `Connection with replica ${r.ip}:${r.port} lost.`);
    if (this.replicas.size === 0) this.noReplicasSince = Date.now();
  }

  disconnectReplicas(): void {
    this.flushStream();
    for (const [id, r] of [...this.replicas]) {
      this.dropReplica(id);
      r.client.destroy();
    }
    this.noReplicasSince = Date.now();
  }

  /** A connection closed: a replica among them leaves at once (it may make the running BGSAVE useless). */
  clientClosed(c: Client): void {
    if (this.replicas.has(c.id)) this.dropReplica(c.id);
    // CLIENT KILL of the master client drops the link at once, so the link counts as down from now (freeClient's
    // replicationHandleMasterDisconnection), even when the server is then blocked (DEBUG SLEEP in the same EXEC).
    if (c === this.masterClient && this.linkState === 'connected') {
      this.server.log('notice', 'Connection with master lost.');
      this.dropLink();
    }
  }

  // ---- replica side ----

  /** REPLICAOF host port: our data becomes the PSYNC basis (so the new master may answer +CONTINUE). */
  setMaster(host: string, port: number): void {
    const wasMaster = this.masterHost === null;
    if (wasMaster) {
      this.cached = { replid: this.replid, offset: this.offset, dbIndex: this.restoredStreamDb };
      this.restoredStreamDb = 0;
    } else if (this.linkState === 'connected') {
      this.cached = { replid: this.replid, offset: this.offset, dbIndex: this.masterClient?.dbIndex ?? 0 };
    }
    this.dropLink();
    // As Redis 7.0: our replicas stay; they are dropped when the new master gives us a new history.
    this.disconnectBlocked();
    this.masterHost = host;
    this.masterPort = port;
    this.linkState = 'connect';
    this.lastConnectAttempt = 0;
    this.setConfigReplicaof(`${host} ${port}`);
    this.server.log('notice', `Connecting to MASTER ${host}:${port}`);
    setImmediate(() => this.connectIfNeeded(Date.now()));
  }

  /** REPLICAOF NO ONE: keeps the dataset, shifts the replication id so replicas can continue partially. */
  unsetMaster(reason: string): void {
    if (this.masterHost === null) return;
    this.dropLink();
    this.masterHost = null;
    this.masterPort = 0;
    this.linkState = 'none';
    this.cached = undefined;
    this.replid2 = this.replid;
    this.secondOffset = this.offset + 1;
    this.replid = newReplId();
    this.server.log('notice', `Setting secondary replication ID to ${this.replid2}, valid up to offset: ${this.secondOffset}. New replication ID is ${this.replid}`);
    this.disconnectReplicas();
    this.seldb = -1;
    this.downSince = 0;
    this.ensureBacklog();
    this.setConfigReplicaof('');
    this.server.log('notice', `MASTER MODE enabled (${reason})`);
  }

  private setConfigReplicaof(v: string): void {
    try {
      this.applyingConfig = true;
      this.server.config.set('replicaof', v);
    } catch {
      // The directive is informational here (CONFIG REWRITE); a refusal must not break the role change.
    } finally {
      this.applyingConfig = false;
    }
  }
  applyingConfig = false;

  /** Clients blocked on the master that now becomes a replica get an error and are closed (disconnectAllBlockedClients). */
  private disconnectBlocked(): void {
    const err = 'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)';
    for (const w of this.waiters.splice(0)) {
      if (w.client.closed) continue;
      w.client.reply.error(err);
      w.client.close();
    }
    for (const c of [...this.server.clients.values()]) {
      if (c.blocked === null || c.closed) continue;
      this.server.unblock(c);
      c.reply.error(err);
      c.close();
    }
  }

  /** Tears the master link down (socket and master client), remembering where we were for a PSYNC. */
  dropLink(): void {
    this.abortLoading();
    const wasConnected = this.linkState === 'connected';
    if (wasConnected) this.cached = { replid: this.replid, offset: this.offset, dbIndex: this.masterClient?.dbIndex ?? 0 };
    const link = this.link;
    this.link = null;
    link?.close();
    const mc = this.masterClient;
    this.masterClient = null;
    if (mc && !mc.closed) mc.destroy();
    if (this.masterHost !== null) {
      this.linkState = 'connect';
      // As Redis: -1 until a link that was up goes down.
      if (wasConnected) this.downSince = Date.now();
    }
    this.syncTotal = -1;
  }

  connectIfNeeded(now: number): void {
    if (this.masterHost === null || this.linkState !== 'connect') return;
    if (now - this.lastConnectAttempt < 1000) return;
    this.lastConnectAttempt = now;
    this.linkState = 'connecting';
    this.link = new MasterLink(this, this.masterHost, this.masterPort);
  }

  /** The payload being read goes straight to memory (repl-diskless-load), so the replica is loading meanwhile. */
  private loadingDiskless = false;
  private loadingAsync = false;

  /** useDisklessLoad: swapdb always, on-empty-db when we hold no key. */
  private useDisklessLoad(): boolean {
    const mode = (this.server.config.get('repl-diskless-load') ?? 'disabled').toLowerCase();
    return mode === 'swapdb' || (mode === 'on-empty-db' && this.server.dbs.every((db) => db.size() === 0));
  }

  private swapdb(): boolean {
    return (this.server.config.get('repl-diskless-load') ?? '').toLowerCase() === 'swapdb';
  }

  /** replicationAttachToNewMaster: the old history is gone, so our replicas must resync and the cache goes. */
  private attachToNewMaster(): void {
    this.cached = undefined;
    this.disconnectReplicas();
  }

  /** Whether a payload arriving now would be loaded while read. */
  useDisklessLoadNow(): boolean {
    return this.useDisklessLoad();
  }

  /** The payload's header arrived: true when it is loaded while read (diskless load), which starts loading now. */
  payloadStarting(total: number, masterReplid: string): boolean {
    const diskless = this.useDisklessLoad();
    this.loadingDiskless = diskless;
    // Async loading (old data served meanwhile) only when the payload continues our own history, as Redis 7.0 does.
    this.loadingAsync = diskless && this.swapdb() && masterReplid === this.replid;
    if (diskless) this.startLoading(total);
    return diskless;
  }

  private startLoading(total: number): void {
    const s = this.server;
    if (!(this.loadingDiskless && this.swapdb())) {
      this.attachToNewMaster();
      s.log('notice', 'MASTER <-> REPLICA sync: Flushing old data');
      for (const db of s.dbs) db.flush();
    }
    s.log('notice', 'MASTER <-> REPLICA sync: Loading DB in memory');
    if (this.persistence) this.persistence.loading = { start: Date.now(), total, loaded: () => this.syncRead, async: this.loadingAsync };
  }

  /** A diskless load ended without a whole payload: swapdb keeps the old data, otherwise the replica stays empty. */
  private abortLoading(): void {
    if (!this.persistence?.loading) return;
    this.persistence.loading = null;
    if (this.loadingDiskless && this.swapdb()) this.server.log('notice', 'MASTER <-> REPLICA sync: Discarding temporary DB in background');
    else for (const db of this.server.dbs) db.flush();
    this.loadingDiskless = false;
  }

  /** -LOADING for commands without the loading flag while a payload loads. */
  loadingRefusal(spec: CommandSpec): string | undefined {
    const ld = this.persistence?.loading;
    if (!ld) return undefined;
    if (ld.async ? spec.flags.includes('no_async_loading') : !spec.flags.includes('loading')) return 'LOADING Redis is loading the dataset in memory';
    return undefined;
  }

  /** Called by the link once PSYNC was answered with +FULLRESYNC and the payload arrived. */
  fullSyncLoaded(link: MasterLink, replid: string, offset: number, rdb: Buffer, rest: Buffer): void {
    if (link !== this.link) return;
    const s = this.server;
    const swapped = this.loadingDiskless && this.swapdb();
    if (!this.loadingDiskless) this.startLoading(rdb.length);
    else if (swapped) {
      this.attachToNewMaster();
      s.log('notice', 'MASTER <-> REPLICA sync: Swapping active DB with loaded DB');
      for (const db of s.dbs) db.flush();
    }
    this.loadingDiskless = false;
    const store = (k: LoadedKey): void => {
      const db = s.dbs[k.db];
      if (!db) return;
      db.set(k.key, k.value);
      if (k.expireMs !== undefined) db.setExpire(k.key, k.expireMs);
    };
    if (this.cfg('key-load-delay') > 0) {
      this.loadPaced(link, replid, offset, rdb, rest, swapped, store);
      return;
    }
    try {
      const res = loadRdb(rdb, store);
      this.finishFullSync(link, replid, offset, res, rest, swapped);
    } finally {
      if (this.persistence) this.persistence.loading = null;
    }
  }

  /**
   * key-load-delay (microseconds a key, a debugging knob Redis's tests use to keep a replica loading): the keys go in
   * a few at a time between event-loop turns, so clients get -LOADING and the cluster bus goes on meanwhile (Redis
   * processes events every loading-process-events-interval-bytes); the master link reads nothing until the end.
   */
  private loadPaced(link: MasterLink, replid: string, offset: number, rdb: Buffer, rest: Buffer, swapped: boolean,
    store: (k: LoadedKey) => void): void {
    const keys: LoadedKey[] = [];
    let res: ReturnType<typeof loadRdb>;
    try {
      res = loadRdb(rdb, (k) => keys.push(k));
    } catch (e) {
      if (this.persistence) this.persistence.loading = null;
      throw e;
    }
    link.pauseReading();
    void insertPaced(keys, store, { delayUs: () => this.cfg('key-load-delay'), stop: () => link !== this.link }).then((finished) => {
      if (!finished) {
        // The link was dropped meanwhile (REPLICAOF, failover): the partial data goes, as a failed load's does.
        if (this.persistence) this.persistence.loading = null;
        if (!swapped) for (const db of this.server.dbs) db.flush();
        return;
      }
      try {
        this.finishFullSync(link, replid, offset, res, rest, swapped);
      } finally {
        if (this.persistence) this.persistence.loading = null;
        link.resumeReading();
      }
    });
  }

  /** The payload is in: our history becomes the master's and the stream starts after the payload's bytes. */
  private finishFullSync(link: MasterLink, replid: string, offset: number, res: ReturnType<typeof loadRdb>, rest: Buffer, swapped: boolean): void {
    const s = this.server;
    if (this.persistence) this.persistence.loading = null;
    if (swapped) s.log('notice', 'MASTER <-> REPLICA sync: Discarding old DB in background');
    s.log('notice', `MASTER <-> REPLICA sync: Finished with success (${res.keys} keys)`);
    this.replid = replid;
    this.replid2 = ZERO_ID;
    this.secondOffset = -1;
    this.offset = offset;
    this.backlog = new Backlog(this.cfg('repl-backlog-size'), offset);
    const streamDb = Number(res.aux.get('repl-stream-db') ?? '0');
    this.linkUp(link, Number.isInteger(streamDb) && streamDb >= 0 && streamDb < s.dbs.length ? streamDb : 0, rest);
  }

  /** Called by the link on +CONTINUE [replid]. */
  partialSyncAccepted(link: MasterLink, newId: string | undefined, dbIndex: number, rest: Buffer): void {
    if (link !== this.link) return;
    if (newId && newId !== this.replid) {
      this.replid2 = this.replid;
      this.secondOffset = this.offset + 1;
      this.replid = newId;
      // Our own replicas must learn the new id: they reconnect and continue partially.
      this.disconnectReplicas();
    }
    this.ensureBacklog();
    this.server.log('notice', 'MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
    this.linkUp(link, dbIndex, rest);
  }

  psyncBasis(): { replid: string; offset: number; dbIndex: number } | undefined {
    return this.cached;
  }

  private linkUp(link: MasterLink, dbIndex: number, rest: Buffer): void {
    const s = this.server;
    const mc = s.addClient(null, `${link.host}:${link.port}`, link.localAddr);
    mc.kind = 'master';
    mc.authenticated = true;
    mc.dbIndex = dbIndex;
    // The master's stream is trusted: no bulk size limit, no AUTH state.
    mc.parser.limits.maxBulkLen = Number.MAX_SAFE_INTEGER;
    mc.parser.limits.authRequired = false;
    this.masterClient = mc;
    this.linkState = 'connected';
    this.downSince = 0;
    this.lastIo = Date.now();
    this.cached = undefined;
    this.syncTotal = -1;
    link.streaming = true;
    this.sendAck();
    if (rest.length > 0) this.onStream(link, rest);
  }

  /** Applies stream bytes from the master and proxies them verbatim to our backlog and replicas. */
  onStream(link: MasterLink, chunk: Buffer): void {
    if (link !== this.link) return;
    const mc = this.masterClient;
    if (!mc) return;
    const pending = link.pending;
    pending.push(chunk);
    this.readOffset = this.offset + pending.length;
    this.lastIo = Date.now();
    const parser = mc.parser;
    parser.feed(chunk);
    // What the parser holds once a command completed is exactly what follows that command's last byte.
    const fed = pending.length;
    let done = 0, broken = false;
    const s = this.server;
    for (;;) {
      let argv: string[] | null;
      try {
        argv = parser.next();
      } catch (e) {
        s.log('warning', `Protocol error from MASTER: ${(e as Error).message}`);
        broken = true;
        break;
      }
      if (argv === null) break;
      const end = fed - parser.buffered;
      if (argv.length > 0) {
        const name = argv[0]!;
        if (isWord(name, 'replconf') && argv.length > 1 && isWord(argv[1]!, 'getack')) {
          // Like Redis, the ACK counts the bytes before GETACK, not GETACK itself.
          this.sendAck();
        } else if (!isWord(name, 'ping')) {
          const errors = s.stats.total_error_replies;
          // An unknown command leaves no name behind (Redis's lastcmd is NULL then).
          mc.lastCommand = '';
          s.dispatch(mc, argv);
          if (s.stats.total_error_replies !== errors) {
            // Redis logs this every time: the replica now differs from its master.
            const out = mc.reply.out;
            const at = out.startsWith('-') ? 0 : out.indexOf('\r\n-') + 2;
            s.log('warning', `== CRITICAL == This replica is sending an error to its master: '${out.slice(at + 1, at + 4097).split('\r\n')[0]}' after processing the command '${mc.lastCommand || '<unknown>'}'`);
            s.stats.unexpected_error_replies++;
          }
          // Replies to the master are never sent.
          mc.reply.len = 0;
        }
      }
      this.offset += end - done;
      done = end;
      if (mc.closed) break;
    }
    if (done > 0) {
      const parts = pending.take(done);
      const backlog = this.backlog;
      if (backlog) for (const b of parts) backlog.append(b);
      if (this.replicas.size > 0) this.forward(parts);
    }
    if (broken) this.dropLink();
    else if (mc.closed && this.masterClient === mc) {
      s.log('notice', 'Connection with master lost.');
      this.dropLink();
    }
  }

  /** Proxied stream bytes to every sub-replica, behind any reply still queued for it. */
  private forward(parts: Buffer[]): void {
    for (const r of this.replicas.values()) {
      const c = r.client;
      // One waiting for its BGSAVE to start gets the stream from the snapshot's offset on, not before.
      if (c.closed || r.state === 'wait_bgsave_start') continue;
      if (r.held) { for (const b of parts) r.held.push(b); continue; }
      if (c.reply.len > 0) { for (const b of parts) c.reply.raw(b.toString('latin1')); c.flush(); } else if (c.socket && !c.detached) for (const b of parts) c.socket.write(b);
    }
  }

  sendAck(): void {
    if (this.link && this.linkState === 'connected') {
      this.link.send(encodeCommand(['REPLCONF', 'ACK', String(this.offset)]));
      this.lastAck = Date.now();
    }
  }

  linkFailed(link: MasterLink, why: string): void {
    if (link !== this.link) return;
    this.server.log('warning', why);
    this.dropLink();
  }

  // ---- cron, shutdown ----

  cron(now: number): void {
    // Replica side: reconnects, ACK every second, master timeout.
    if (this.masterHost !== null) {
      this.connectIfNeeded(now);
      const timeout = this.cfg('repl-timeout') * 1000;
      if (this.linkState === 'connected') {
        if (this.masterClient?.closed) {
          this.server.log('notice', 'Connection with master lost.');
          this.dropLink();
        } else if (now - this.lastIo > timeout) {
          this.server.log('warning', 'MASTER timeout: no data nor PING received...');
          this.dropLink();
        } else if (now - this.lastAck >= 1000) this.sendAck();
      } else if (this.link && now - this.link.lastActivity > timeout) {
        this.server.log('warning', this.linkState === 'transfer'
          ? "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
          : 'Timeout connecting to the MASTER...');
        this.dropLink();
      }
    }
    // Master side: forget closed replicas, ping them, drop silent ones.
    for (const [id, r] of this.replicas) {
      if (r.client.closed) this.dropReplica(id);
      else if (r.state === 'wait_bgsave_end' && r.partialSince && now - r.partialSince > this.cfg('repl-timeout') * 1000) {
        this.server.log('warning', `Disconnecting timedout replica (full sync): ${r.ip}:${r.port}`);
        r.client.destroy();
        this.dropReplica(id);
      } else if (r.state === 'online' && now - r.ackTime > this.cfg('repl-timeout') * 1000 && this.masterHost === null) {
        this.server.log('warning', `Disconnecting timedout replica (streaming sync): ${r.ip}:${r.port}`);
        r.client.destroy();
        this.dropReplica(id);
      }
    }
    for (const id of this.pending.keys()) {
      const c = this.server.clients.get(id);
      if (!c) this.pending.delete(id);
    }
    // Redis pings on the once-a-second cron when its loop count is a multiple of the period, so raising the period
    // (its test suite sets 3600 before reading the stream) stops pings at once; none while writes are paused (FAILOVER).
    this.startPendingFork(now);
    if (now - this.lastCronSecond >= 1000) {
      this.lastCronSecond = now;
      // Replicas waiting for their payload get a newline a second, so they do not time out (pre-sync keepalive).
      const socketChild = this.persistence?.child?.target === 'socket';
      for (const r of this.replicas.values()) {
        const c = r.client;
        if (c.closed || !c.socket || c.detached) continue;
        if (r.state === 'wait_bgsave_start' || (r.state === 'wait_bgsave_end' && !socketChild)) {
          c.flush();
          c.socket.write('\n');
        }
      }
      const loop = this.cronLoops++;
      if (this.masterHost === null && this.replicas.size > 0 && this.server.pauseUntil === 0 && loop % Math.max(1, this.cfg('repl-ping-replica-period')) === 0) {
        this.feed(encodeCommand(['PING']));
      }
    }
    const ttl = this.cfg('repl-backlog-ttl') * 1000;
    if (this.masterHost === null && this.backlog && this.replicas.size === 0 && ttl > 0 && now - this.noReplicasSince > ttl) {
      // Like Redis: a master alone for repl-backlog-ttl frees the backlog, and its history with it.
      this.backlog = null;
      this.replid2 = ZERO_ID;
      this.secondOffset = -1;
      this.replid = newReplId();
    }
    if (this.waiters.length > 0) this.checkWaiters(now);
    this.failoverCron(now);
  }

  /** FAILOVER's state machine: pause writes, wait for the target to catch up, then hand over with PSYNC FAILOVER. */
  failoverCron(now: number): void {
    const f = this.failover;
    if (!f || this.failoverState !== 'waiting-for-sync') return;
    const target = [...this.replicas.values()].find((r) => r.ip === f.host && r.port === f.port && !r.client.closed);
    const caughtUp = target !== undefined && target.ackOffset >= this.offset;
    if (caughtUp || (f.deadline > 0 && now >= f.deadline && f.force)) {
      this.failoverState = 'failover-in-progress';
      this.server.log('notice', `Failover target ${f.host}:${f.port} is synced, failing over.`);
      this.setMasterForFailover(f.host, f.port);
    } else if (f.deadline > 0 && now >= f.deadline) {
      this.abortFailover('Replica never caught up before timeout');
    }
  }

  private setMasterForFailover(host: string, port: number): void {
    this.cached = { replid: this.replid, offset: this.offset, dbIndex: 0 };
    this.dropLink();
    this.disconnectReplicas();
    this.masterHost = host;
    this.masterPort = port;
    this.linkState = 'connect';
    this.downSince = Date.now();
    this.lastConnectAttempt = 0;
    setImmediate(() => this.connectIfNeeded(Date.now()));
  }

  /** The link reached a state where the failover is over (connected to the target, or failed). */
  failoverLinkResult(ok: boolean): void {
    if (this.failoverState !== 'failover-in-progress') return;
    if (ok) this.finishFailover();
    else {
      this.server.log('warning', 'FAILOVER handshake with target failed, reverting to master.');
      this.dropLink();
      this.masterHost = null;
      this.masterPort = 0;
      this.linkState = 'none';
      this.finishFailover();
    }
  }

  finishFailover(): void {
    this.failover = null;
    this.failoverState = 'no-failover';
    this.server.pauseUntil = 0;
    this.server.unpause();
  }

  abortFailover(why: string): void {
    if (this.failoverState === 'no-failover') return;
    this.server.log('notice', `FAILOVER aborted: ${why}`);
    if (this.failoverState === 'failover-in-progress' && this.masterHost !== null) {
      this.dropLink();
      this.masterHost = null;
      this.masterPort = 0;
      this.linkState = 'none';
    }
    this.finishFailover();
  }

  isFailoverTarget(host: string, port: number): boolean {
    return this.failover !== null && this.failover.host === host && this.failover.port === port;
  }

  shutdown(): void {
    this.persistence?.killChild();
    // The last writes' stream goes to the replicas before their sockets close: acknowledged writes must reach them.
    this.flushStream();
    this.dropLink();
    this.masterHost = null;
    this.linkState = 'none';
  }

  // ---- INFO / ROLE ----

  infoLines(): string[] {
    this.flushStream();
    const now = Date.now();
    const lines = [`role:${this.masterHost === null ? 'master' : 'slave'}`];
    const cfg = this.server.config;
    if (this.masterHost !== null) {
      const connected = this.linkState === 'connected';
      lines.push(
        `master_host:${this.masterHost}`,
        `master_port:${this.masterPort}`,
        `master_link_status:${connected ? 'up' : 'down'}`,
        `master_last_io_seconds_ago:${connected ? Math.floor((now - this.lastIo) / 1000) : -1}`,
        `master_sync_in_progress:${this.linkState === 'transfer' ? 1 : 0}`,
        `slave_read_repl_offset:${connected ? this.readOffset : this.offset}`,
        `slave_repl_offset:${this.offset}`,
      );
      if (this.linkState === 'transfer') {
        const total = Math.max(this.syncTotal, 0);
        lines.push(
          `master_sync_total_bytes:${this.syncTotal}`,
          `master_sync_read_bytes:${this.syncRead}`,
          `master_sync_left_bytes:${total - this.syncRead}`,
          `master_sync_perc:${(total > 0 ? (this.syncRead * 100) / total : 0).toFixed(2)}`,
          `master_sync_last_io_seconds_ago:${Math.floor((now - (this.link?.lastActivity ?? now)) / 1000)}`,
        );
      }
      if (!connected) lines.push(`master_link_down_since_seconds:${this.downSince ? Math.floor((now - this.downSince) / 1000) : -1}`);
      lines.push(
        `slave_priority:${cfg.get('replica-priority') ?? '100'}`,
        `slave_read_only:${cfg.getBool('replica-read-only') ? 1 : 0}`,
        `replica_announced:${cfg.getBool('replica-announced') ? 1 : 0}`,
      );
    }
    const reps = [...this.replicas.values()].filter((r) => !r.client.closed);
    lines.push(`connected_slaves:${reps.length}`);
    if (this.cfg('min-replicas-to-write') > 0 && this.cfg('min-replicas-max-lag') > 0) lines.push(`min_slaves_good_slaves:${this.goodReplicas()}`);
    reps.forEach((r, i) => {
      const state = r.state === 'wait_bgsave_start' || r.state === 'wait_bgsave_end' ? 'wait_bgsave' : r.state;
      lines.push(`slave${i}:ip=${r.ip},port=${r.port},state=${state},offset=${r.ackOffset},lag=${Math.floor((now - r.ackTime) / 1000)}`);
    });
    lines.push(
      `master_failover_state:${this.failoverState}`,
      `master_replid:${this.replid}`,
      `master_replid2:${this.replid2}`,
      `master_repl_offset:${this.offset}`,
      `second_repl_offset:${this.secondOffset}`,
      `repl_backlog_active:${this.backlog ? 1 : 0}`,
      `repl_backlog_size:${this.backlog ? this.backlog.size : this.cfg('repl-backlog-size')}`,
      `repl_backlog_first_byte_offset:${this.backlog ? this.backlog.firstByteOffset : 0}`,
      `repl_backlog_histlen:${this.backlog ? this.backlog.histlen : 0}`,
    );
    return lines;
  }

  /** ROLE's state word for a replica, as replicationGetSlaveState names them. */
  roleState(): string {
    switch (this.linkState) {
      case 'none': return 'none';
      case 'connect': return 'connect';
      case 'connecting': return 'connecting';
      case 'handshake': return 'handshake';
      case 'transfer': return 'sync';
      case 'connected': return 'connected';
    }
  }
}

/** The replica's TCP link to its master: handshake, PSYNC, payload, then raw stream handed to Replication. */
export class MasterLink {
  private sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private step = 0;
  /** Stream bytes read but not yet part of a complete command. */
  readonly pending = new PendingBytes();
  streaming = false;
  lastActivity = Date.now();
  localAddr = '';
  private expectReplies: Array<(line: string) => void> = [];
  private payload: { mode: 'len'; left: number; parts: Buffer[] } | { mode: 'eof'; mark: Buffer; parts: Buffer[]; size: number } | null = null;
  private fullsync: { replid: string; offset: number } | null = null;
  private waitingPayloadHeader = false;
  private closed = false;

  constructor(private readonly repl: Replication, readonly host: string, readonly port: number) {
    this.sock = net.connect({ host, port });
    this.sock.setNoDelay(true);
    this.sock.on('connect', () => this.onConnect());
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', (e) => this.fail(`Error condition on socket for SYNC: ${e.message}`));
    this.sock.on('close', () => this.fail('Connection with master lost.'));
  }

  send(s: string): void {
    if (!this.closed) this.sock.write(s, 'latin1');
  }

  /** Holds the master's bytes in the socket while a paced load runs (nothing is parsed until it ends). */
  pauseReading(): void {
    this.sock.pause();
  }

  resumeReading(): void {
    if (!this.closed) this.sock.resume();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.destroy();
  }

  private fail(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.destroy();
    this.repl.linkFailed(this, why);
    this.repl.failoverLinkResult(false);
  }

  private onConnect(): void {
    this.localAddr = `${this.sock.localAddress ?? ''}:${this.sock.localPort ?? 0}`.replace(/^::ffff:/, '');
    this.repl.linkState = 'handshake';
    this.repl.server.log('notice', 'MASTER <-> REPLICA sync started');
    const cfg = this.repl.server.config;
    const steps: Array<[string[], (line: string) => boolean]> = [];
    steps.push([['PING'], (l) => !l.startsWith('-') || /^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(l)]);
    const auth = cfg.get('masterauth') ?? '';
    const user = cfg.get('masteruser') ?? '';
    if (auth !== '') steps.push([user !== '' ? ['AUTH', user, auth] : ['AUTH', auth], (l) => !l.startsWith('-')]);
    const announcePort = cfg.getNumber('replica-announce-port') || this.repl.server.tcpPort || cfg.getNumber('port');
    steps.push([['REPLCONF', 'listening-port', String(announcePort)], () => true]);
    const announceIp = cfg.get('replica-announce-ip') ?? '';
    if (announceIp !== '') steps.push([['REPLCONF', 'ip-address', announceIp], () => true]);
    steps.push([['REPLCONF', 'capa', 'eof', 'capa', 'psync2'], () => true]);
    const basis = this.repl.psyncBasis();
    const inFailover = this.repl.failoverState === 'failover-in-progress';
    const psync = basis ? ['PSYNC', basis.replid, String(basis.offset + 1)] : ['PSYNC', '?', '-1'];
    if (inFailover) psync.push('FAILOVER');
    const run = (i: number): void => {
      if (i === steps.length) {
        this.send(encodeCommand(psync));
        this.expectReplies.push((line) => this.onPsyncReply(line, basis?.dbIndex ?? 0));
        return;
      }
      const [argv, ok] = steps[i]!;
      this.send(encodeCommand(argv));
      this.expectReplies.push((line) => {
        if (!ok(line)) { this.fail(`Unable to ${argv[0]} to MASTER: ${line.slice(1)}`); return; }
        run(i + 1);
      });
    };
    run(0);
  }

  private onPsyncReply(line: string, dbIndex: number): void {
    if (line.startsWith('+FULLRESYNC')) {
      const [, id, off] = line.split(' ');
      this.fullsync = { replid: id ?? '', offset: Number(off) };
      this.repl.linkState = 'transfer';
      this.repl.syncRead = 0;
      this.repl.syncTotal = -1;
      this.waitingPayloadHeader = true;
      this.repl.server.log('notice', `Full resync from master: ${id}:${off}`);
      return;
    }
    if (line.startsWith('+CONTINUE')) {
      const id = line.split(' ')[1];
      const rest = this.buf;
      this.buf = Buffer.alloc(0);
      this.repl.partialSyncAccepted(this, id, dbIndex, rest);
      this.repl.failoverLinkResult(true);
      return;
    }
    this.fail(`Unexpected reply to PSYNC from master: ${line}`);
  }

  private onData(d: Buffer): void {
    this.lastActivity = Date.now();
    if (this.streaming) {
      this.repl.onStream(this, d);
      return;
    }
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    this.process();
  }

  private process(): void {
    while (!this.closed && !this.streaming) {
      if (this.payload) {
        if (!this.consumePayload()) return;
        continue;
      }
      // Newlines are keepalives the master sends while it prepares the payload.
      let p = 0;
      while (p < this.buf.length && this.buf[p] === 10) p++;
      if (p > 0) this.buf = this.buf.subarray(p);
      const e = this.buf.indexOf('\r\n');
      if (e < 0) return;
      const line = this.buf.toString('latin1', 0, e);
      this.buf = this.buf.subarray(e + 2);
      if (this.waitingPayloadHeader) {
        if (!line.startsWith('$')) { this.fail(`Bad protocol from MASTER, the first byte is not '$': ${line}`); return; }
        this.waitingPayloadHeader = false;
        const eof = line.startsWith('$EOF:');
        if (eof) {
          this.payload = { mode: 'eof', mark: Buffer.from(line.slice(5), 'latin1'), parts: [], size: 0 };
        } else {
          const n = parseInt(line.slice(1), 10);
          this.repl.syncTotal = n;
          this.payload = { mode: 'len', left: n, parts: [] };
        }
        const total = eof ? 0 : this.repl.syncTotal;
        const where = this.repl.useDisklessLoadNow() ? 'to parser' : 'to disk';
        this.repl.server.log('notice', `MASTER <-> REPLICA sync: receiving ${eof ? `streamed RDB from master with EOF ${where}` : `${line.slice(1)} bytes from master ${where}`}`);
        this.repl.payloadStarting(total, this.fullsync?.replid ?? '');
        continue;
      }
      const cb = this.expectReplies.shift();
      if (!cb) { this.fail(`Unexpected data from master: ${line}`); return; }
      cb(line);
    }
  }

  /** Accumulates the RDB payload; true once it completed (and was handed over). */
  private consumePayload(): boolean {
    const p = this.payload!;
    let rdb: Buffer;
    let rest: Buffer;
    if (p.mode === 'len') {
      const take = Math.min(p.left, this.buf.length);
      p.parts.push(this.buf.subarray(0, take));
      p.left -= take;
      this.repl.syncRead += take;
      this.buf = this.buf.subarray(take);
      if (p.left > 0) return false;
      rdb = Buffer.concat(p.parts);
      rest = this.buf;
    } else {
      const chunk = this.buf;
      this.buf = Buffer.alloc(0);
      const before = p.size;
      p.parts.push(chunk);
      p.size += chunk.length;
      this.repl.syncRead = p.size;
      // Chunks are kept apart until the mark shows up (joined once); the mark may straddle two chunks.
      const keep = Math.min(p.mark.length - 1, before);
      let end = -1;
      if (keep > 0) {
        const at = Buffer.concat([lastBytes(p.parts.slice(0, -1), keep), chunk.subarray(0, p.mark.length - 1)]).indexOf(p.mark);
        if (at >= 0) end = before - keep + at;
      }
      if (end < 0) {
        const at = chunk.indexOf(p.mark);
        if (at >= 0) end = before + at;
      }
      if (end < 0) return false;
      const all = Buffer.concat(p.parts);
      rdb = all.subarray(0, end);
      rest = all.subarray(end + p.mark.length);
    }
    this.payload = null;
    this.buf = Buffer.alloc(0);
    const fs = this.fullsync!;
    try {
      this.repl.fullSyncLoaded(this, fs.replid, fs.offset, rdb, rest);
    } catch (e) {
      this.fail(`Failed trying to load the MASTER synchronization DB from socket: ${(e as Error).message}`);
      return false;
    }
    this.repl.failoverLinkResult(true);
    return true;
  }
}

/** The last n bytes of a list of chunks. */
function lastBytes(parts: Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  for (let i = parts.length - 1; i >= 0 && n > 0; i--) {
    const p = parts[i]!;
    out.unshift(p.length <= n ? p : p.subarray(p.length - n));
    n -= Math.min(n, p.length);
  }
  return Buffer.concat(out);
}

/** Case-insensitive match of a command word against its lower-case spelling (no allocation for other lengths). */
function isWord(s: string, lower: string): boolean {
  return s.length === lower.length && (s === lower || s.toLowerCase() === lower);
}
