/**
 * The monitor state of a Sentinel: masters, their replicas and the other Sentinels, with the flags, epochs and
 * timers sentinel.c keeps per instance (sentinelRedisInstance). Pure data and the rules that only read or
 * change it (naming, flags, candidate choice, vote counting); links and timers live in runtime.ts.
 */
import { isIP } from 'node:net';

export const SRI_MASTER = 1 << 0;
export const SRI_SLAVE = 1 << 1;
export const SRI_SENTINEL = 1 << 2;
export const SRI_S_DOWN = 1 << 3;
export const SRI_O_DOWN = 1 << 4;
export const SRI_MASTER_DOWN = 1 << 5;
export const SRI_FAILOVER_IN_PROGRESS = 1 << 6;
export const SRI_PROMOTED = 1 << 7;
export const SRI_RECONF_SENT = 1 << 8;
export const SRI_RECONF_INPROG = 1 << 9;
export const SRI_RECONF_DONE = 1 << 10;
export const SRI_FORCE_FAILOVER = 1 << 11;
export const SRI_SCRIPT_KILL_SENT = 1 << 12;
export const SRI_MASTER_REBOOT = 1 << 13;

/** Periods and timeouts (ms), changeable through SENTINEL DEBUG under the names it shows. */
export interface Timing {
  infoPeriod: number;
  pingPeriod: number;
  askPeriod: number;
  publishPeriod: number;
  defaultDownAfter: number;
  tiltTrigger: number;
  tiltPeriod: number;
  slaveReconfTimeout: number;
  minLinkReconnectPeriod: number;
  defaultFailoverTimeout: number;
  electionTimeout: number;
  scriptMaxRuntime: number;
  scriptRetryDelay: number;
}

export function defaultTiming(): Timing {
  return {
    infoPeriod: 10000, pingPeriod: 1000, askPeriod: 1000, publishPeriod: 2000, defaultDownAfter: 30000,
    tiltTrigger: 2000, tiltPeriod: 30000, slaveReconfTimeout: 10000, minLinkReconnectPeriod: 15000,
    defaultFailoverTimeout: 180000, electionTimeout: 10000, scriptMaxRuntime: 60000, scriptRetryDelay: 30000,
  };
}

export const DEFAULT_PARALLEL_SYNCS = 1;
export const DEFAULT_SLAVE_PRIORITY = 100;

export enum FailoverState {
  None = 0,
  WaitStart = 1,
  SelectSlave = 2,
  SendSlaveofNoone = 3,
  WaitPromotion = 4,
  ReconfSlaves = 5,
  UpdateConfig = 6,
}

const FAILOVER_STATE_NAMES = ['none', 'wait_start', 'select_slave', 'send_slaveof_noone', 'wait_promotion', 'reconf_slaves', 'update_config'];

export function failoverStateName(s: FailoverState): string {
  return FAILOVER_STATE_NAMES[s] ?? 'unknown';
}

/** An address as Sentinel keeps it: the name it was given and the IP it resolved to. */
export interface Addr {
  hostname: string;
  ip: string;
  port: number;
}

/** Why creating an instance failed, as sentinelCheckCreateInstanceErrors words it per role. */
export class InstanceError extends Error {}

/** Resolves an address the way createSentinelAddr does (resolve-hostnames no: IP literals only). */
export function makeAddr(hostname: string, port: number, resolveHostnames: boolean, acceptUnresolved: boolean): Addr {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InstanceError('Invalid port number.');
  if (isIP(hostname) !== 0) return { hostname, ip: hostname, port };
  // Hostnames only resolve when resolve-hostnames is on; "localhost" is the one name we map without DNS.
  if (resolveHostnames && hostname === 'localhost') return { hostname, ip: '127.0.0.1', port };
  if (resolveHostnames && acceptUnresolved) return { hostname, ip: '', port };
  throw new InstanceError("Can't resolve instance hostname.");
}

export function addrEqual(a: Addr, b: Addr): boolean {
  return a.port === b.port && a.ip.toLowerCase() === b.ip.toLowerCase();
}

export function addrOrHostnameEqual(a: Addr, b: Addr): boolean {
  return a.port === b.port && (a.ip.toLowerCase() === b.ip.toLowerCase() || a.hostname.toLowerCase() === b.hostname.toLowerCase());
}

/** announceSentinelAddr: the hostname when announce-hostnames is on, else the IP. */
export function announceAddr(a: Addr, announceHostnames: boolean): string {
  return announceHostnames ? a.hostname : a.ip;
}

/** "ip:port", IPv6 bracketed, as replicas are named. */
export function addrAndPort(a: Addr, announceHostnames: boolean): string {
  const host = announceAddr(a, announceHostnames);
  return host.includes(':') ? `[${host}]:${a.port}` : `${host}:${a.port}`;
}

/** The links a runtime attaches to an instance; state.ts only needs to know whether they are up. */
export interface InstanceLinkView {
  disconnected: boolean;
  pendingCommands: number;
  refcount: number;
  actPingTime: number;
  lastPingTime: number;
  lastAvailTime: number;
  lastPongTime: number;
}

export class Instance {
  flags: number;
  name: string;
  runid: string | null = null;
  configEpoch = 0;
  addr: Addr;
  link: InstanceLinkView;
  lastPubTime: number;
  lastHelloTime: number;
  lastMasterDownReplyTime: number;
  sDownSinceTime = 0;
  oDownSinceTime = 0;
  downAfterPeriod: number;
  masterRebootDownAfterPeriod = 0;
  masterRebootSinceTime = 0;
  infoRefresh = 0;
  renamedCommands = new Map<string, string>();
  roleReported: number;
  roleReportedTime: number;
  slaveConfChangeTime: number;
  // Master only.
  readonly sentinels = new Map<string, Instance>();
  readonly slaves = new Map<string, Instance>();
  quorum: number;
  parallelSyncs = DEFAULT_PARALLEL_SYNCS;
  authPass: string | null = null;
  authUser: string | null = null;
  // Replica only.
  masterLinkDownTime = 0;
  slavePriority = DEFAULT_SLAVE_PRIORITY;
  replicaAnnounced = true;
  slaveReconfSentTime = 0;
  readonly master: Instance | null;
  slaveMasterHost: string | null = null;
  slaveMasterPort = 0;
  slaveMasterLinkStatusUp = false;
  slaveReplOffset = 0;
  // Failover.
  leader: string | null = null;
  leaderEpoch = 0;
  failoverEpoch = 0;
  failoverState = FailoverState.None;
  failoverStateChangeTime = 0;
  failoverStartTime = 0;
  failoverTimeout: number;
  failoverDelayLogged = 0;
  promotedSlave: Instance | null = null;
  notificationScript: string | null = null;
  clientReconfigScript: string | null = null;
  /** Last INFO reply text, for SENTINEL INFO-CACHE. */
  info: string | null = null;

  constructor(kind: number, name: string, addr: Addr, quorum: number, master: Instance | null, timing: Timing, now: number, link: InstanceLinkView) {
    this.flags = kind;
    this.name = name;
    this.addr = addr;
    this.quorum = quorum;
    this.master = master;
    this.link = link;
    this.lastPubTime = now;
    this.lastHelloTime = now;
    this.lastMasterDownReplyTime = now;
    this.downAfterPeriod = master ? master.downAfterPeriod : timing.defaultDownAfter;
    this.failoverTimeout = timing.defaultFailoverTimeout;
    this.roleReported = kind & (SRI_MASTER | SRI_SLAVE);
    this.roleReportedTime = now;
    this.slaveConfChangeTime = now;
  }

  is(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  get kindName(): 'master' | 'slave' | 'sentinel' {
    return this.is(SRI_MASTER) ? 'master' : this.is(SRI_SLAVE) ? 'slave' : 'sentinel';
  }

  /** The flags field of SENTINEL MASTERS/REPLICAS/SENTINELS, in Redis's order. */
  flagsString(): string {
    const parts: string[] = [];
    if (this.is(SRI_S_DOWN)) parts.push('s_down');
    if (this.is(SRI_O_DOWN)) parts.push('o_down');
    if (this.is(SRI_MASTER)) parts.push('master');
    if (this.is(SRI_SLAVE)) parts.push('slave');
    if (this.is(SRI_SENTINEL)) parts.push('sentinel');
    if (this.link.disconnected) parts.push('disconnected');
    if (this.is(SRI_MASTER_DOWN)) parts.push('master_down');
    if (this.is(SRI_FAILOVER_IN_PROGRESS)) parts.push('failover_in_progress');
    if (this.is(SRI_PROMOTED)) parts.push('promoted');
    if (this.is(SRI_RECONF_SENT)) parts.push('reconf_sent');
    if (this.is(SRI_RECONF_INPROG)) parts.push('reconf_inprog');
    if (this.is(SRI_RECONF_DONE)) parts.push('reconf_done');
    if (this.is(SRI_FORCE_FAILOVER)) parts.push('force_failover');
    if (this.is(SRI_SCRIPT_KILL_SENT)) parts.push('script_kill_sent');
    return parts.join(',');
  }
}

/** Creates links for new instances (the runtime gives real ones, tests plain records). */
export type LinkFactory = (kind: number, addr: Addr) => InstanceLinkView;

export function detachedLink(now: number): InstanceLinkView {
  return { disconnected: true, pendingCommands: 0, refcount: 1, actPingTime: now, lastPingTime: 0, lastAvailTime: now, lastPongTime: now };
}

/** The global Sentinel state (struct sentinelState) with its masters. */
export class SentinelState {
  myid = '';
  currentEpoch = 0;
  readonly masters = new Map<string, Instance>();
  tilt = false;
  tiltStartTime = 0;
  previousTime = 0;
  announceIp: string | null = null;
  announcePort = 0;
  denyScriptsReconfig = true;
  resolveHostnames = false;
  announceHostnames = false;
  sentinelAuthUser: string | null = null;
  sentinelAuthPass: string | null = null;
  simfailureFlags = 0;
  readonly timing: Timing = defaultTiming();
  clock: () => number = () => Date.now();
  linkFactory: LinkFactory = () => detachedLink(this.clock());

  /** createSentinelRedisInstance: throws InstanceError with Redis's words on a duplicate or bad address. */
  createInstance(name: string | null, kind: number, hostname: string, port: number, quorum: number, master: Instance | null): Instance {
    const addr = makeAddr(hostname, port, this.resolveHostnames, true);
    const instName = kind & SRI_SLAVE ? addrAndPort(addr, this.announceHostnames) : (name ?? '');
    const table = kind & SRI_MASTER ? this.masters : kind & SRI_SLAVE ? master!.slaves : master!.sentinels;
    if (table.has(instName)) {
      throw new InstanceError(kind & SRI_MASTER ? 'Duplicate master name.' : kind & SRI_SLAVE ? 'Duplicate hostname and port for replica.' : 'Duplicate runid for sentinel.');
    }
    const ri = new Instance(kind, instName, addr, quorum, master, this.timing, this.clock(), this.linkFactory(kind, addr));
    table.set(instName, ri);
    return ri;
  }

  masterByName(name: string): Instance | undefined {
    return this.masters.get(name);
  }

  /** The master watched at ip:port (is-master-down-by-addr), or undefined. */
  masterByAddr(ip: string, port: number): Instance | undefined {
    for (const m of this.masters.values()) if (m.addr.port === port && m.addr.ip === ip) return m;
    return undefined;
  }

  /** sentinelGetCurrentMasterAddress: the promoted replica's once reconfiguration started. */
  currentMasterAddr(master: Instance): Addr {
    if (master.is(SRI_FAILOVER_IN_PROGRESS) && master.promotedSlave && master.failoverState >= FailoverState.ReconfSlaves) return master.promotedSlave.addr;
    return master.addr;
  }

  /** Replica lookup by its address (sentinelRedisInstanceLookupSlave). */
  lookupSlave(master: Instance, host: string, port: number): Instance | undefined {
    let addr: Addr;
    try {
      addr = makeAddr(host, port, this.resolveHostnames, false);
    } catch {
      return undefined;
    }
    return master.slaves.get(addrAndPort(addr, this.announceHostnames));
  }

  /** removeMatchingSentinelFromMaster: drops the master's Sentinels with this run id; returns how many. */
  removeSentinelsWithRunid(master: Instance, runid: string): number {
    let removed = 0;
    for (const [k, s] of master.sentinels) {
      if (s.runid === runid) {
        master.sentinels.delete(k);
        removed++;
      }
    }
    return removed;
  }

  /** getSentinelRedisInstanceByAddrAndRunID over one master's Sentinels (runid null = any). */
  findSentinel(master: Instance, ip: string | null, port: number, runid: string | null): Instance | undefined {
    for (const s of master.sentinels.values()) {
      if (runid !== null && s.runid !== runid) continue;
      if (ip !== null && !(s.addr.port === port && s.addr.ip === ip)) continue;
      return s;
    }
    return undefined;
  }

  /** sentinelResetMaster: forgets replicas (and Sentinels unless keepSentinels), failover and down state. */
  resetMaster(master: Instance, keepSentinels: boolean): void {
    master.slaves.clear();
    if (!keepSentinels) master.sentinels.clear();
    master.flags &= SRI_MASTER;
    master.leader = null;
    master.failoverState = FailoverState.None;
    master.failoverStateChangeTime = 0;
    master.failoverStartTime = 0;
    master.promotedSlave = null;
    master.runid = null;
    master.sDownSinceTime = 0;
    master.oDownSinceTime = 0;
    master.info = null;
    master.infoRefresh = 0;
    master.roleReported = SRI_MASTER;
    const now = this.clock();
    master.roleReportedTime = now;
    master.lastPubTime = now;
    master.lastHelloTime = now;
    master.lastMasterDownReplyTime = now;
    master.link = this.linkFactory(SRI_MASTER, master.addr);
  }

  /**
   * sentinelResetMasterAndChangeAddress: the master now lives at host:port; the old replicas (minus the new
   * master) and the old master come back as its replicas. Throws InstanceError if the address is bad.
   */
  resetMasterAndChangeAddress(master: Instance, host: string, port: number): Instance[] {
    const newAddr = makeAddr(host, port, this.resolveHostnames, false);
    const replicaAddrs: Addr[] = [];
    for (const s of master.slaves.values()) if (!addrOrHostnameEqual(s.addr, newAddr)) replicaAddrs.push(s.addr);
    if (!addrOrHostnameEqual(newAddr, master.addr)) replicaAddrs.push(master.addr);
    this.resetMaster(master, true);
    master.addr = newAddr;
    // A Sentinel at the new master's address would be a stale entry (sentinelResetMasterAndChangeAddress leaves them; keep ours the same).
    const added: Instance[] = [];
    for (const a of replicaAddrs) {
      try {
        added.push(this.createInstance(null, SRI_SLAVE, a.ip === '' ? a.hostname : a.ip, a.port, master.quorum, master));
      } catch {
        // Duplicates are skipped as Redis does.
      }
    }
    master.slaveConfChangeTime = this.clock();
    return added;
  }
}

/** `%@`-style instance description used by events: "<kind> <name> <ip> <port>[ @ <master> <ip> <port>]". */
export function describeInstance(state: SentinelState, ri: Instance): string {
  const host = announceAddr(ri.addr, state.announceHostnames);
  let s = `${ri.kindName} ${ri.name} ${host} ${ri.addr.port}`;
  if (ri.master) {
    const m = ri.master;
    s += ` @ ${m.name} ${announceAddr(m.addr, state.announceHostnames)} ${m.addr.port}`;
  }
  return s;
}

/**
 * sentinelSelectSlave: the best replica to promote, or undefined. Skips replicas that are down, disconnected,
 * silent, priority 0, with stale INFO or a master link down for too long; then lower priority, higher offset,
 * lexically smaller run id (none last).
 */
export function selectSlave(master: Instance, timing: Timing, now: number): Instance | undefined {
  let maxMasterDownTime = 0;
  if (master.is(SRI_S_DOWN)) maxMasterDownTime += now - master.sDownSinceTime;
  maxMasterDownTime += master.downAfterPeriod * 10;
  const candidates: Instance[] = [];
  for (const s of master.slaves.values()) {
    if (s.is(SRI_S_DOWN | SRI_O_DOWN)) continue;
    if (s.link.disconnected) continue;
    if (now - s.link.lastAvailTime > timing.pingPeriod * 5) continue;
    if (s.slavePriority === 0) continue;
    const infoValidity = master.is(SRI_S_DOWN) ? timing.pingPeriod * 5 : timing.infoPeriod * 3;
    if (now - s.infoRefresh > infoValidity) continue;
    if (s.masterLinkDownTime > maxMasterDownTime) continue;
    candidates.push(s);
  }
  candidates.sort(compareSlavesForPromotion);
  return candidates[0];
}

export function compareSlavesForPromotion(a: Instance, b: Instance): number {
  if (a.slavePriority !== b.slavePriority) return a.slavePriority - b.slavePriority;
  if (a.slaveReplOffset > b.slaveReplOffset) return -1;
  if (a.slaveReplOffset < b.slaveReplOffset) return 1;
  const ra = a.runid?.toLowerCase() ?? null;
  const rb = b.runid?.toLowerCase() ?? null;
  if (ra === null && rb === null) return 0;
  if (ra === null) return 1;
  if (rb === null) return -1;
  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/**
 * sentinelGetLeader's count: the runid with the most votes for `epoch` among the other Sentinels, plus our own vote
 * (for that winner, or for ourselves when nobody voted); a winner needs a majority of all voters and the quorum.
 * `ownVote` casts our vote and returns the runid we stand by for the failover's epoch (null if our vote is for another epoch).
 */
export function countLeaderVotes(master: Instance, currentEpoch: number, myid: string, ownVote: (candidate: string) => string | null): string | null {
  const voters = master.sentinels.size + 1;
  const counters = new Map<string, number>();
  for (const s of master.sentinels.values()) {
    if (s.leader !== null && s.leaderEpoch === currentEpoch) counters.set(s.leader, (counters.get(s.leader) ?? 0) + 1);
  }
  let winner: string | null = null;
  let maxVotes = 0;
  for (const [runid, votes] of counters) {
    if (votes > maxVotes) {
      maxVotes = votes;
      winner = runid;
    }
  }
  const myvote = ownVote(winner ?? myid);
  if (myvote !== null) {
    const votes = (counters.get(myvote) ?? 0) + 1;
    counters.set(myvote, votes);
    if (votes > maxVotes) {
      maxVotes = votes;
      winner = myvote;
    }
  }
  const needed = Math.floor(voters / 2) + 1;
  if (winner !== null && (maxVotes < needed || maxVotes < master.quorum)) winner = null;
  return winner;
}
