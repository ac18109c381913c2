/**
 * The Sentinel at work (sentinel.c's timer): links to masters, replicas and other Sentinels, INFO polling, PINGs,
 * hello gossip, SDOWN/ODOWN, votes, the failover state machine and TILT. It reaches the server that hosts it only
 * through SentinelHost (publish events, log, its port), so it runs the same in any server core.
 */
import { randomBytes } from 'node:crypto';
import { RedisLink, RespError, type RespValue } from './link.js';
import { flushSentinelFile } from './config.js';
import {
  FailoverState, Instance, SRI_FAILOVER_IN_PROGRESS, SRI_FORCE_FAILOVER, SRI_MASTER, SRI_MASTER_DOWN, SRI_MASTER_REBOOT, SRI_O_DOWN,
  SRI_PROMOTED, SRI_RECONF_DONE, SRI_RECONF_INPROG, SRI_RECONF_SENT, SRI_S_DOWN, SRI_SCRIPT_KILL_SENT, SRI_SENTINEL, SRI_SLAVE,
  SentinelState, announceAddr, countLeaderVotes, describeInstance, selectSlave, type Addr, type InstanceLinkView,
} from './state.js';
import { atoi } from './config.js';
import { ScriptQueue } from './scripts.js';

export const HELLO_CHANNEL = '__sentinel__:hello';
const MAX_PENDING_COMMANDS = 100;
const MAX_DESYNC = 1000;

export type SentinelLogLevel = 'debug' | 'verbose' | 'notice' | 'warning';

/** What the Sentinel needs from the server that hosts it. */
export interface SentinelHost {
  publish(channel: string, message: string): number;
  log(level: SentinelLogLevel, msg: string): void;
  /** The port other Sentinels should reach us on (announce-port overrides it). */
  port(): number;
  /** The server's requirepass, used to AUTH to other Sentinels when sentinel-pass is not set. */
  requirepass(): string;
  /** Called by SENTINEL SIMULATE-FAILURE crashes. */
  exit(code: number): void;
  /** Rewrites the ordinary directives of the config file (CONFIG REWRITE's engine); throws on failure. */
  rewriteCoreConfig?(): void;
}

/** The command and pub/sub connections of one instance (instanceLink). */
export class InstanceLink implements InstanceLinkView {
  disconnected = true;
  refcount = 1;
  cc: RedisLink | null = null;
  pc: RedisLink | null = null;
  ccConnTime = 0;
  pcConnTime = 0;
  pcLastActivity = 0;
  actPingTime: number;
  lastPingTime = 0;
  lastAvailTime: number;
  lastPongTime: number;
  lastReconnTime = 0;
  pending = 0;

  constructor(now: number) {
    this.actPingTime = now;
    this.lastAvailTime = now;
    this.lastPongTime = now;
  }

  get pendingCommands(): number {
    return this.pending;
  }

  set pendingCommands(n: number) {
    this.pending = n;
  }

  close(): void {
    const cc = this.cc;
    const pc = this.pc;
    this.cc = null;
    this.pc = null;
    cc?.close('link released');
    pc?.close('link released');
    this.disconnected = true;
  }
}

function asLink(ri: Instance): InstanceLink {
  return ri.link as InstanceLink;
}

export class SentinelRuntime {
  readonly state: SentinelState;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Listeners for every event (tests and the observer read them without subscribing). */
  readonly eventListeners: ((type: string, msg: string) => void)[] = [];
  readonly scripts: ScriptQueue;

  constructor(state: SentinelState, readonly host: SentinelHost, readonly configFile: string) {
    this.state = state;
    this.scripts = new ScriptQueue({
      now: () => this.now(),
      maxRuntime: () => this.state.timing.scriptMaxRuntime,
      retryDelay: () => this.state.timing.scriptRetryDelay,
      event: (level, type, msg) => this.event(level, type, null, msg),
      log: (msg) => this.host.log('warning', msg),
    });
    state.linkFactory = () => new InstanceLink(this.now());
    // Instances created while loading the config got detached links: give them real ones.
    for (const m of state.masters.values()) {
      m.link = new InstanceLink(this.now());
      for (const r of [...m.slaves.values(), ...m.sentinels.values()]) r.link = new InstanceLink(this.now());
    }
  }

  now(): number {
    return this.state.clock();
  }

  /** sentinelIsRunning: a myid (generated and saved if missing), +monitor per master, then the timer. */
  start(): void {
    if (this.state.myid === '') {
      this.state.myid = randomBytes(20).toString('hex');
      this.flushConfig();
    }
    this.host.log('warning', `Sentinel ID is ${this.state.myid}`);
    for (const m of this.state.masters.values()) this.event('warning', '+monitor', m, `%@ quorum ${m.quorum}`);
    this.state.previousTime = this.now();
    this.schedule();
  }

  /**
   * Like serverCron at Sentinel's hz (10 + rand() % 10): the next tick comes one period after this one ended, so the
   * replies to what a tick sent (INFO to replicas once the master is down) have a period to arrive before the next
   * tick acts on them (select-slave wants INFO younger than 5 ping periods).
   */
  private schedule(): void {
    if (this.stopped) return;
    const hz = 10 + Math.floor(Math.random() * 10);
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.tick();
      } catch (e) {
        this.host.log('warning', `Sentinel timer failed: ${(e as Error).stack ?? String(e)}`);
      }
      this.schedule();
    }, Math.round(1000 / hz));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const m of this.state.masters.values()) this.releaseMaster(m);
    this.scripts.stop();
  }

  flushConfig(): boolean {
    try {
      this.host.rewriteCoreConfig?.();
      flushSentinelFile(this.configFile, this.state);
      this.host.log('notice', 'Sentinel new configuration saved on disk');
      return true;
    } catch (e) {
      this.host.log('warning', `WARNING: Sentinel was not able to save the new configuration on disk!!!: ${(e as Error).message}`);
      return false;
    }
  }

  /** sentinelEvent: logs "<type> <msg>" and publishes msg on the channel named type (not for debug events). */
  event(level: SentinelLogLevel, type: string, ri: Instance | null, fmt: string): void {
    let msg = fmt;
    if (ri !== null && fmt.startsWith('%@')) msg = describeInstance(this.state, ri) + fmt.slice(2);
    this.host.log(level, `${type} ${msg}`);
    if (level !== 'debug') this.host.publish(type, msg);
    for (const l of this.eventListeners) l(type, msg);
    if (level === 'warning' && ri !== null) {
      const master = ri.is(SRI_MASTER) ? ri : ri.master;
      if (master && master.notificationScript !== null) this.scripts.schedule([master.notificationScript, type, msg]);
    }
  }

  /** sentinelCallClientReconfScript: <master> leader|observer start <from-ip> <from-port> <to-ip> <to-port>. */
  private callClientReconfScript(master: Instance, role: 'leader' | 'observer', from: Addr, to: Addr): void {
    if (master.clientReconfigScript === null) return;
    const ah = this.state.announceHostnames;
    this.scripts.schedule([master.clientReconfigScript, master.name, role, 'start', announceAddr(from, ah), String(from.port), announceAddr(to, ah), String(to.port)]);
  }

  // ---- timer ----

  /** sentinelTimer. */
  tick(): void {
    if (this.stopped) return;
    this.checkTiltCondition();
    let switchToPromoted: Instance | null = null;
    for (const m of [...this.state.masters.values()]) {
      this.handleInstance(m);
      for (const s of [...m.slaves.values()]) this.handleInstance(s);
      for (const s of [...m.sentinels.values()]) this.handleInstance(s);
      if (m.failoverState === FailoverState.UpdateConfig) switchToPromoted = m;
    }
    if (switchToPromoted) this.switchToPromotedSlave(switchToPromoted);
    this.scripts.runPending();
    this.scripts.killTimedOut();
  }

  private checkTiltCondition(): void {
    const now = this.now();
    const delta = now - this.state.previousTime;
    if (delta < 0 || delta > this.state.timing.tiltTrigger) {
      this.state.tilt = true;
      this.state.tiltStartTime = now;
      this.event('warning', '+tilt', null, '#tilt mode entered');
    }
    this.state.previousTime = now;
  }

  private handleInstance(ri: Instance): void {
    this.reconnect(ri);
    this.sendPeriodicCommands(ri);
    if (this.state.tilt) {
      if (this.now() - this.state.tiltStartTime < this.state.timing.tiltPeriod) return;
      this.state.tilt = false;
      this.event('warning', '-tilt', null, '#tilt mode exited');
    }
    this.checkSubjectivelyDown(ri);
    if (ri.is(SRI_MASTER)) {
      this.checkObjectivelyDown(ri);
      if (this.startFailoverIfNeeded(ri)) this.askMasterStateToOtherSentinels(ri, true);
      this.failoverStateMachine(ri);
      this.askMasterStateToOtherSentinels(ri, false);
    }
  }

  // ---- links ----

  private mapCommand(ri: Instance, name: string): string {
    const master = ri.is(SRI_MASTER) ? ri : ri.master;
    if (ri.is(SRI_SENTINEL) || master === null) return name;
    return master.renamedCommands.get(name.toLowerCase()) ?? name;
  }

  private authArgs(ri: Instance): string[] | null {
    let user: string | null;
    let pass: string | null;
    if (ri.is(SRI_SENTINEL)) {
      user = this.state.sentinelAuthUser;
      pass = this.state.sentinelAuthPass ?? (this.host.requirepass() || null);
      if (this.state.sentinelAuthPass === null) user = null;
    } else {
      const master = ri.is(SRI_MASTER) ? ri : ri.master!;
      user = master.authUser;
      pass = master.authPass;
    }
    if (pass === null) return null;
    return user !== null ? [this.mapCommand(ri, 'AUTH'), user, pass] : [this.mapCommand(ri, 'AUTH'), pass];
  }

  private openLink(ri: Instance, kind: 'cmd' | 'pubsub'): RedisLink {
    const host = ri.addr.ip === '' ? ri.addr.hostname : ri.addr.ip;
    const l = new RedisLink(host, ri.addr.port, this.state.timing.pingPeriod * 5);
    const auth = this.authArgs(ri);
    if (auth) l.send(auth);
    l.send([this.mapCommand(ri, 'CLIENT'), 'SETNAME', `sentinel-${this.state.myid.slice(0, 8)}-${kind}`]);
    return l;
  }

  /** sentinelReconnectInstance: opens the missing connections, at most once per ping period. */
  private reconnect(ri: Instance): void {
    const link = asLink(ri);
    if (!link.disconnected) return;
    if (ri.addr.port === 0) return;
    const now = this.now();
    if (now - link.lastReconnTime < this.state.timing.pingPeriod) return;
    link.lastReconnTime = now;
    if (link.cc === null) {
      const cc = this.openLink(ri, 'cmd');
      link.cc = cc;
      link.pendingCommands = 0;
      link.ccConnTime = now;
      cc.onClose = (reason) => {
        if (link.cc !== cc) return;
        this.event('debug', '-cmd-link-reconnection', ri, `%@ #${reason}`);
        link.cc = null;
        link.disconnected = true;
      };
      this.sendPing(ri);
    }
    if (ri.is(SRI_MASTER | SRI_SLAVE) && link.pc === null) {
      const pc = this.openLink(ri, 'pubsub');
      link.pc = pc;
      link.pcConnTime = now;
      link.pcLastActivity = now;
      pc.onPush = (msg) => {
        link.pcLastActivity = this.now();
        this.receiveHelloMessage(ri, msg);
      };
      pc.subscribe(HELLO_CHANNEL);
      pc.onClose = (reason) => {
        if (link.pc !== pc) return;
        this.event('debug', '-pubsub-link-reconnection', ri, `%@ #${reason}`);
        link.pc = null;
        link.disconnected = true;
      };
    }
    if (link.cc !== null && (ri.is(SRI_SENTINEL) || link.pc !== null)) link.disconnected = false;
  }

  private send(ri: Instance, argv: string[], cb?: (r: RespValue) => void): boolean {
    const link = asLink(ri);
    if (link.cc === null || link.cc.closed) return false;
    link.pendingCommands++;
    link.cc.send(argv, (r) => {
      link.pendingCommands = Math.max(0, link.pendingCommands - 1);
      cb?.(r);
    });
    return true;
  }

  private sendPing(ri: Instance): boolean {
    const link = asLink(ri);
    const ok = this.send(ri, [this.mapCommand(ri, 'PING')], (r) => this.pingReply(ri, r));
    if (ok) {
      const now = this.now();
      if (link.actPingTime === 0) link.actPingTime = now;
      link.lastPingTime = now;
    }
    return ok;
  }

  private pingReply(ri: Instance, r: RespValue): void {
    const link = asLink(ri);
    const now = this.now();
    const text = typeof r === 'string' ? r : r instanceof RespError ? r.message : null;
    if (text !== null) {
      if (text.startsWith('PONG') || text.startsWith('LOADING') || text.startsWith('MASTERDOWN')) {
        link.lastAvailTime = now;
        link.actPingTime = 0;
        if (text.startsWith('PONG') && ri.is(SRI_MASTER_REBOOT)) ri.flags &= ~SRI_MASTER_REBOOT;
      } else if (text.startsWith('BUSY') && ri.is(SRI_S_DOWN) && !ri.is(SRI_SCRIPT_KILL_SENT)) {
        if (this.send(ri, [this.mapCommand(ri, 'SCRIPT'), 'KILL'])) ri.flags |= SRI_SCRIPT_KILL_SENT;
      }
    }
    link.lastPongTime = now;
  }

  private sendPeriodicCommands(ri: Instance): void {
    const link = asLink(ri);
    if (link.disconnected) return;
    if (link.pendingCommands >= MAX_PENDING_COMMANDS * link.refcount) return;
    const t = this.state.timing;
    const now = this.now();
    let infoPeriod = t.infoPeriod;
    if (ri.is(SRI_SLAVE) && (ri.master!.is(SRI_O_DOWN | SRI_FAILOVER_IN_PROGRESS) || ri.masterLinkDownTime !== 0)) infoPeriod = 1000;
    let pingPeriod = ri.downAfterPeriod;
    if (pingPeriod > t.pingPeriod) pingPeriod = t.pingPeriod;
    if (ri.is(SRI_MASTER | SRI_SLAVE) && (ri.infoRefresh === 0 || now - ri.infoRefresh > infoPeriod)) {
      this.send(ri, [this.mapCommand(ri, 'INFO')], (r) => {
        if (typeof r === 'string') this.refreshInstanceInfo(ri, r);
      });
    }
    if (now - link.lastPongTime > pingPeriod && now - link.lastPingTime > pingPeriod / 2) this.sendPing(ri);
    if (now - ri.lastPubTime > t.publishPeriod) this.sendHello(ri);
  }

  /** sentinelSendHello: our address, run id and epoch, and what we think of the master, to everyone. */
  private sendHello(ri: Instance): boolean {
    const link = asLink(ri);
    if (link.disconnected || link.cc === null) return false;
    const ip = this.state.announceIp ?? link.cc.localAddress;
    if (ip === undefined) return false;
    const port = this.state.announcePort !== 0 ? this.state.announcePort : this.host.port();
    const master = ri.is(SRI_MASTER) ? ri : ri.master!;
    const ma = this.state.currentMasterAddr(master);
    const payload = `${ip},${port},${this.state.myid},${this.state.currentEpoch},${master.name},${announceAddr(ma, this.state.announceHostnames)},${ma.port},${master.configEpoch}`;
    return this.send(ri, [this.mapCommand(ri, 'PUBLISH'), HELLO_CHANNEL, payload], (r) => {
      if (!(r instanceof RespError)) ri.lastPubTime = this.now();
    });
  }

  /** sentinelForceHelloUpdateForMaster: next tick sends hellos to the master and everyone around it. */
  private forceHelloUpdate(master: Instance): void {
    const back = this.state.timing.publishPeriod + 1;
    for (const ri of [master, ...master.slaves.values(), ...master.sentinels.values()]) {
      if (ri.lastPubTime >= back) ri.lastPubTime -= back;
    }
  }

  private receiveHelloMessage(ri: Instance, msg: RespValue[]): void {
    if (msg.length !== 3 || msg[0] !== 'message' || typeof msg[2] !== 'string') return;
    if (msg[2].includes(this.state.myid)) return;
    this.processHelloMessage(msg[2]);
    void ri;
  }

  /** sentinelProcessHelloMessage: learns Sentinels, epochs and newer master configurations. Malformed input is ignored. */
  processHelloMessage(hello: string): void {
    const token = hello.split(',');
    if (token.length !== 8) return;
    const master = this.state.masterByName(token[4]);
    if (!master) return;
    const port = atoi(token[1]);
    const masterPort = atoi(token[6]);
    const runid = token[2];
    let si = this.state.findSentinel(master, token[0], port, runid);
    const currentEpoch = parseEpoch(token[3]);
    const masterConfigEpoch = parseEpoch(token[7]);
    if (!si) {
      const before = [...master.sentinels.values()].filter((s) => s.runid === runid);
      const removed = this.state.removeSentinelsWithRunid(master, runid);
      for (const s of before) asLink(s).close();
      if (removed > 0) {
        this.event('notice', '+sentinel-address-switch', master, `%@ ip ${token[0]} port ${port} for ${runid}`);
      } else {
        const other = this.state.findSentinel(master, token[0], port, null);
        if (other) {
          this.event('notice', '+sentinel-invalid-addr', other, '%@');
          const obsolete = other.runid;
          if (obsolete !== null) {
            for (const m of this.state.masters.values()) {
              for (const s of [...m.sentinels.values()]) if (s.runid === obsolete) asLink(s).close();
              this.state.removeSentinelsWithRunid(m, obsolete);
            }
          }
        }
      }
      try {
        si = this.state.createInstance(runid, SRI_SENTINEL, token[0], port, master.quorum, master);
      } catch {
        si = undefined;
      }
      if (si) {
        if (removed === 0) this.event('notice', '+sentinel', si, '%@');
        si.runid = runid;
        this.flushConfig();
      }
    }
    if (currentEpoch > this.state.currentEpoch) {
      this.state.currentEpoch = currentEpoch;
      this.flushConfig();
      this.event('warning', '+new-epoch', master, String(this.state.currentEpoch));
    }
    if (si && master.configEpoch < masterConfigEpoch) {
      master.configEpoch = masterConfigEpoch;
      if (masterPort !== master.addr.port || !addrEqualsHostname(master.addr, token[5])) {
        this.event('warning', '+config-update-from', si, '%@');
        this.event('warning', '+switch-master', master,
          `${master.name} ${announceAddr(master.addr, this.state.announceHostnames)} ${master.addr.port} ${token[5]} ${masterPort}`);
        const oldAddr = { ...master.addr };
        if (this.resetMasterAndChangeAddress(master, token[5], masterPort)) this.callClientReconfScript(master, 'observer', oldAddr, master.addr);
      }
    }
    if (si) si.lastHelloTime = this.now();
  }

  // ---- INFO ----

  /** sentinelRefreshInstanceInfo: parses INFO, discovers replicas, follows roles and reconfiguration. */
  refreshInstanceInfo(ri: Instance, info: string): void {
    const now = this.now();
    let role = 0;
    ri.info = info;
    ri.masterLinkDownTime = 0;
    for (const l of info.split('\r\n')) {
      if (l.length >= 47 && l.startsWith('run_id:')) {
        const id = l.slice(7, 47);
        if (ri.runid === null) ri.runid = id;
        else if (ri.runid !== id) {
          this.event('notice', '+reboot', ri, '%@');
          if (ri.is(SRI_MASTER) && ri.masterRebootDownAfterPeriod !== 0) {
            ri.flags |= SRI_MASTER_REBOOT;
            ri.masterRebootSinceTime = now;
          }
          ri.runid = id;
        }
      }
      if (ri.is(SRI_MASTER) && /^slave\d+:/.test(l)) {
        const body = l.slice(l.indexOf(':') + 1);
        let ip: string | undefined;
        let port: string | undefined;
        if (body.includes('ip=')) {
          for (const kv of body.split(',')) {
            if (kv.startsWith('ip=')) ip = kv.slice(3);
            else if (kv.startsWith('port=')) port = kv.slice(5);
          }
        } else {
          [ip, port] = body.split(',');
        }
        if (ip !== undefined && port !== undefined && this.state.lookupSlave(ri, ip, atoi(port)) === undefined) {
          try {
            const slave = this.state.createInstance(null, SRI_SLAVE, ip, atoi(port), ri.quorum, ri);
            this.event('notice', '+slave', slave, '%@');
            this.flushConfig();
          } catch {
            // An address we cannot use (bad port, duplicate): skipped as Redis does.
          }
        }
      }
      if (l.length >= 32 && l.startsWith('master_link_down_since_seconds')) ri.masterLinkDownTime = atoi(l.slice(31)) * 1000;
      if (l.startsWith('role:master')) role = SRI_MASTER;
      else if (l.startsWith('role:slave')) role = SRI_SLAVE;
      if (role === SRI_SLAVE) {
        if (l.startsWith('master_host:')) {
          const h = l.slice(12);
          if (ri.slaveMasterHost === null || ri.slaveMasterHost.toLowerCase() !== h.toLowerCase()) {
            ri.slaveMasterHost = h;
            ri.slaveConfChangeTime = now;
          }
        } else if (l.startsWith('master_port:')) {
          const p = atoi(l.slice(12));
          if (ri.slaveMasterPort !== p) {
            ri.slaveMasterPort = p;
            ri.slaveConfChangeTime = now;
          }
        } else if (l.startsWith('master_link_status:')) {
          ri.slaveMasterLinkStatusUp = l.slice(19).toLowerCase() === 'up';
        } else if (l.startsWith('slave_priority:')) {
          ri.slavePriority = atoi(l.slice(15));
        } else if (l.startsWith('slave_repl_offset:')) {
          ri.slaveReplOffset = Number(l.slice(18)) || 0;
        } else if (l.startsWith('replica_announced:')) {
          ri.replicaAnnounced = atoi(l.slice(18)) !== 0;
        }
      }
    }
    ri.infoRefresh = now;
    if (role === 0) return;
    if (role !== ri.roleReported) {
      ri.roleReportedTime = now;
      ri.roleReported = role;
      if (role === SRI_SLAVE) ri.slaveConfChangeTime = now;
      const same = (ri.flags & (SRI_MASTER | SRI_SLAVE)) === role;
      this.event('verbose', same ? '+role-change' : '-role-change', ri, `%@ new reported role is ${role === SRI_MASTER ? 'master' : 'slave'}`);
    }
    if (this.state.tilt) return;
    const master = ri.master;
    if (ri.is(SRI_SLAVE) && role === SRI_MASTER && master) {
      if (ri.is(SRI_PROMOTED) && master.is(SRI_FAILOVER_IN_PROGRESS) && master.failoverState === FailoverState.WaitPromotion) {
        master.configEpoch = master.failoverEpoch;
        master.failoverState = FailoverState.ReconfSlaves;
        master.failoverStateChangeTime = now;
        this.flushConfig();
        this.event('warning', '+promoted-slave', ri, '%@');
        if (this.state.simfailureFlags & SIMFAILURE_CRASH_AFTER_PROMOTION) this.simFailureCrash();
        this.event('warning', '+failover-state-reconf-slaves', master, '%@');
        this.callClientReconfScript(master, 'leader', master.addr, ri.addr);
        this.forceHelloUpdate(master);
      } else {
        const wait = this.state.timing.publishPeriod * 4;
        if (!ri.is(SRI_PROMOTED) && this.masterLooksSane(master) && this.noDownFor(ri, wait) && now - ri.roleReportedTime > wait) {
          if (this.sendSlaveOf(ri, master.addr)) this.event('notice', '+convert-to-slave', ri, '%@');
        }
      }
    }
    if (ri.is(SRI_SLAVE) && role === SRI_SLAVE && master &&
      (ri.slaveMasterPort !== master.addr.port || !addrEqualsHostname(master.addr, ri.slaveMasterHost ?? ''))) {
      const wait = master.failoverTimeout;
      if (this.masterLooksSane(master) && this.noDownFor(ri, wait) && now - ri.slaveConfChangeTime > wait) {
        if (this.sendSlaveOf(ri, master.addr)) this.event('notice', '+fix-slave-config', ri, '%@');
      }
    }
    if (ri.is(SRI_SLAVE) && role === SRI_SLAVE && master && ri.is(SRI_RECONF_SENT | SRI_RECONF_INPROG)) {
      const promoted = master.promotedSlave;
      if (ri.is(SRI_RECONF_SENT) && promoted && ri.slaveMasterHost !== null && addrEqualsHostname(promoted.addr, ri.slaveMasterHost) && ri.slaveMasterPort === promoted.addr.port) {
        ri.flags &= ~SRI_RECONF_SENT;
        ri.flags |= SRI_RECONF_INPROG;
        this.event('notice', '+slave-reconf-inprog', ri, '%@');
      }
      if (ri.is(SRI_RECONF_INPROG) && ri.slaveMasterLinkStatusUp) {
        ri.flags &= ~SRI_RECONF_INPROG;
        ri.flags |= SRI_RECONF_DONE;
        this.event('notice', '+slave-reconf-done', ri, '%@');
      }
    }
  }

  private masterLooksSane(master: Instance): boolean {
    return master.is(SRI_MASTER) && master.roleReported === SRI_MASTER && !master.is(SRI_S_DOWN | SRI_O_DOWN) &&
      this.now() - master.infoRefresh < this.state.timing.infoPeriod * 2;
  }

  private noDownFor(ri: Instance, ms: number): boolean {
    const mostRecent = Math.max(ri.sDownSinceTime, ri.oDownSinceTime);
    return mostRecent === 0 || this.now() - mostRecent > ms;
  }

  /** sentinelSendSlaveOf: one MULTI/SLAVEOF/CONFIG REWRITE/CLIENT KILL/EXEC transaction, replies ignored. */
  sendSlaveOf(ri: Instance, addr: Addr | null): boolean {
    const link = asLink(ri);
    if (link.cc === null || link.cc.closed) return false;
    const host = addr === null ? 'NO' : announceAddr(addr, this.state.announceHostnames);
    const port = addr === null ? 'ONE' : String(addr.port);
    this.send(ri, [this.mapCommand(ri, 'MULTI')]);
    this.send(ri, [this.mapCommand(ri, 'SLAVEOF'), host, port]);
    this.send(ri, [this.mapCommand(ri, 'CONFIG'), 'REWRITE']);
    this.send(ri, [this.mapCommand(ri, 'CLIENT'), 'KILL', 'TYPE', 'normal']);
    this.send(ri, [this.mapCommand(ri, 'CLIENT'), 'KILL', 'TYPE', 'pubsub']);
    this.send(ri, [this.mapCommand(ri, 'EXEC')]);
    return true;
  }

  // ---- down state ----

  private checkSubjectivelyDown(ri: Instance): void {
    const link = asLink(ri);
    const now = this.now();
    const t = this.state.timing;
    let elapsed = 0;
    if (link.actPingTime) elapsed = now - link.actPingTime;
    else if (link.disconnected) elapsed = now - link.lastAvailTime;
    // A command link that answers nothing for half the down-after period is reopened (it may be a stuck connection).
    if (link.cc && now - link.ccConnTime > t.minLinkReconnectPeriod && link.actPingTime !== 0 &&
      now - link.actPingTime > ri.downAfterPeriod / 2 && now - link.lastPongTime > ri.downAfterPeriod / 2) {
      const cc = link.cc;
      link.cc = null;
      link.disconnected = true;
      cc.close('no pong');
    }
    if (link.pc && now - link.pcConnTime > t.minLinkReconnectPeriod && now - link.pcLastActivity > t.publishPeriod * 3) {
      const pc = link.pc;
      link.pc = null;
      link.disconnected = true;
      pc.close('pubsub idle');
    }
    const down = elapsed > ri.downAfterPeriod ||
      (ri.is(SRI_MASTER) && ri.roleReported === SRI_SLAVE && now - ri.roleReportedTime > ri.downAfterPeriod + t.infoPeriod * 2) ||
      (ri.is(SRI_MASTER_REBOOT) && now - ri.masterRebootSinceTime > ri.masterRebootDownAfterPeriod);
    if (down) {
      if (!ri.is(SRI_S_DOWN)) {
        this.event('warning', '+sdown', ri, '%@');
        ri.sDownSinceTime = now;
        ri.flags |= SRI_S_DOWN;
      }
    } else if (ri.is(SRI_S_DOWN)) {
      this.event('warning', '-sdown', ri, '%@');
      ri.flags &= ~(SRI_S_DOWN | SRI_SCRIPT_KILL_SENT);
    }
  }

  private checkObjectivelyDown(master: Instance): void {
    let quorum = 0;
    let odown = false;
    if (master.is(SRI_S_DOWN)) {
      quorum = 1;
      for (const s of master.sentinels.values()) if (s.is(SRI_MASTER_DOWN)) quorum++;
      if (quorum >= master.quorum) odown = true;
    }
    if (odown) {
      if (!master.is(SRI_O_DOWN)) {
        this.event('warning', '+odown', master, `%@ #quorum ${quorum}/${master.quorum}`);
        master.flags |= SRI_O_DOWN;
        master.oDownSinceTime = this.now();
      }
    } else if (master.is(SRI_O_DOWN)) {
      this.event('warning', '-odown', master, '%@');
      master.flags &= ~SRI_O_DOWN;
    }
  }

  /** sentinelAskMasterStateToOtherSentinels: is-master-down-by-addr to each Sentinel, with our run id once failing over. */
  private askMasterStateToOtherSentinels(master: Instance, forced: boolean): void {
    const now = this.now();
    const t = this.state.timing;
    for (const ri of master.sentinels.values()) {
      if (now - ri.lastMasterDownReplyTime > t.askPeriod * 5) {
        ri.flags &= ~SRI_MASTER_DOWN;
        ri.leader = null;
      }
      if (!master.is(SRI_S_DOWN)) continue;
      if (asLink(ri).disconnected) continue;
      if (!forced && now - ri.lastMasterDownReplyTime < t.askPeriod) continue;
      this.send(ri, ['SENTINEL', 'is-master-down-by-addr', announceAddr(master.addr, this.state.announceHostnames), String(master.addr.port),
        String(this.state.currentEpoch), master.failoverState > FailoverState.None ? this.state.myid : '*'], (r) => {
        // Only a well-formed [int, bulk, int] reply counts; anything else (a lying or broken peer) is ignored.
        if (Array.isArray(r) && r.length === 3 && typeof r[0] === 'number' && typeof r[1] === 'string' && typeof r[2] === 'number') {
          ri.lastMasterDownReplyTime = this.now();
          if (r[0] === 1) ri.flags |= SRI_MASTER_DOWN;
          else ri.flags &= ~SRI_MASTER_DOWN;
          if (r[1] !== '*') {
            ri.leader = r[1];
            ri.leaderEpoch = r[2];
          }
        }
      });
    }
  }

  /** sentinelVoteLeader: votes for req_runid in req_epoch if we have not voted in that epoch; returns our leader. */
  voteLeader(master: Instance, reqEpoch: number, reqRunid: string): { leader: string | null; leaderEpoch: number } {
    if (reqEpoch > this.state.currentEpoch) {
      this.state.currentEpoch = reqEpoch;
      this.flushConfig();
      this.event('warning', '+new-epoch', master, String(this.state.currentEpoch));
    }
    if (master.leaderEpoch < reqEpoch && this.state.currentEpoch <= reqEpoch) {
      master.leader = reqRunid;
      master.leaderEpoch = this.state.currentEpoch;
      this.flushConfig();
      this.event('warning', '+vote-for-leader', master, `${master.leader} ${master.leaderEpoch}`);
      // Voting for someone else delays our own failover attempt, so we do not compete in this epoch.
      if (master.leader.toLowerCase() !== this.state.myid.toLowerCase()) master.failoverStartTime = this.now() + Math.floor(Math.random() * MAX_DESYNC);
    }
    return { leader: master.leader, leaderEpoch: master.leaderEpoch };
  }

  private getLeader(master: Instance, epoch: number): string | null {
    return countLeaderVotes(master, this.state.currentEpoch, this.state.myid, (candidate) => {
      const v = this.voteLeader(master, epoch, candidate);
      return v.leaderEpoch === epoch ? v.leader : null;
    });
  }

  // ---- failover ----

  private startFailoverIfNeeded(master: Instance): boolean {
    if (!master.is(SRI_O_DOWN)) return false;
    if (master.is(SRI_FAILOVER_IN_PROGRESS)) return false;
    const now = this.now();
    if (now - master.failoverStartTime < master.failoverTimeout * 2) {
      if (master.failoverDelayLogged !== master.failoverStartTime) {
        const when = new Date(master.failoverStartTime + master.failoverTimeout * 2);
        this.host.log('warning', `Next failover delay: I will not start a failover before ${when.toTimeString().slice(0, 8)}`);
        master.failoverDelayLogged = master.failoverStartTime;
      }
      return false;
    }
    this.startFailover(master);
    return true;
  }

  startFailover(master: Instance): void {
    const now = this.now();
    master.failoverState = FailoverState.WaitStart;
    master.failoverStateChangeTime = now;
    master.flags |= SRI_FAILOVER_IN_PROGRESS;
    master.failoverEpoch = ++this.state.currentEpoch;
    this.event('warning', '+new-epoch', master, String(this.state.currentEpoch));
    this.event('warning', '+try-failover', master, '%@');
    master.failoverStartTime = now + Math.floor(Math.random() * MAX_DESYNC);
  }

  private abortFailover(master: Instance): void {
    master.flags &= ~(SRI_FAILOVER_IN_PROGRESS | SRI_FORCE_FAILOVER);
    master.failoverState = FailoverState.None;
    master.failoverStateChangeTime = this.now();
    if (master.promotedSlave) {
      master.promotedSlave.flags &= ~SRI_PROMOTED;
      master.promotedSlave = null;
    }
  }

  private failoverStateMachine(master: Instance): void {
    if (!master.is(SRI_FAILOVER_IN_PROGRESS)) return;
    switch (master.failoverState) {
      case FailoverState.WaitStart: return this.failoverWaitStart(master);
      case FailoverState.SelectSlave: return this.failoverSelectSlave(master);
      case FailoverState.SendSlaveofNoone: return this.failoverSendSlaveOfNoOne(master);
      case FailoverState.WaitPromotion: return this.failoverWaitPromotion(master);
      case FailoverState.ReconfSlaves: return this.failoverReconfNextSlave(master);
      default: return;
    }
  }

  private setFailoverState(master: Instance, s: FailoverState): void {
    master.failoverState = s;
    master.failoverStateChangeTime = this.now();
  }

  private failoverWaitStart(master: Instance): void {
    const leader = this.getLeader(master, master.failoverEpoch);
    const isLeader = leader !== null && leader.toLowerCase() === this.state.myid.toLowerCase();
    if (!isLeader && !master.is(SRI_FORCE_FAILOVER)) {
      const electionTimeout = Math.min(this.state.timing.electionTimeout, master.failoverTimeout);
      if (this.now() - master.failoverStartTime > electionTimeout) {
        this.event('warning', '-failover-abort-not-elected', master, '%@');
        this.abortFailover(master);
      }
      return;
    }
    this.event('warning', '+elected-leader', master, '%@');
    if (this.state.simfailureFlags & SIMFAILURE_CRASH_AFTER_ELECTION) this.simFailureCrash();
    this.setFailoverState(master, FailoverState.SelectSlave);
    this.event('warning', '+failover-state-select-slave', master, '%@');
  }

  private failoverSelectSlave(master: Instance): void {
    const slave = selectSlave(master, this.state.timing, this.now());
    if (!slave) {
      this.event('warning', '-failover-abort-no-good-slave', master, '%@');
      this.abortFailover(master);
      return;
    }
    this.event('warning', '+selected-slave', slave, '%@');
    slave.flags |= SRI_PROMOTED;
    master.promotedSlave = slave;
    this.setFailoverState(master, FailoverState.SendSlaveofNoone);
    this.event('notice', '+failover-state-send-slaveof-noone', slave, '%@');
  }

  private failoverSendSlaveOfNoOne(master: Instance): void {
    const promoted = master.promotedSlave!;
    if (asLink(promoted).disconnected) {
      if (this.now() - master.failoverStateChangeTime > master.failoverTimeout) {
        this.event('warning', '-failover-abort-slave-timeout', master, '%@');
        this.abortFailover(master);
      }
      return;
    }
    if (!this.sendSlaveOf(promoted, null)) return;
    this.event('notice', '+failover-state-wait-promotion', promoted, '%@');
    this.setFailoverState(master, FailoverState.WaitPromotion);
  }

  private failoverWaitPromotion(master: Instance): void {
    if (this.now() - master.failoverStateChangeTime > master.failoverTimeout) {
      this.event('warning', '-failover-abort-slave-timeout', master, '%@');
      this.abortFailover(master);
    }
  }

  private failoverReconfNextSlave(master: Instance): void {
    const now = this.now();
    let inProgress = 0;
    for (const s of master.slaves.values()) if (s.is(SRI_RECONF_SENT | SRI_RECONF_INPROG)) inProgress++;
    for (const slave of master.slaves.values()) {
      if (inProgress >= master.parallelSyncs) break;
      if (slave.is(SRI_PROMOTED | SRI_RECONF_DONE)) continue;
      if (slave.is(SRI_RECONF_SENT) && now - slave.slaveReconfSentTime > this.state.timing.slaveReconfTimeout) {
        this.event('notice', '-slave-reconf-sent-timeout', slave, '%@');
        slave.flags &= ~SRI_RECONF_SENT;
        slave.flags |= SRI_RECONF_DONE;
        continue;
      }
      if (slave.is(SRI_RECONF_SENT | SRI_RECONF_INPROG)) continue;
      if (asLink(slave).disconnected) continue;
      if (this.sendSlaveOf(slave, master.promotedSlave!.addr)) {
        slave.flags |= SRI_RECONF_SENT;
        slave.slaveReconfSentTime = now;
        this.event('notice', '+slave-reconf-sent', slave, '%@');
        inProgress++;
      }
    }
    this.failoverDetectEnd(master);
  }

  private failoverDetectEnd(master: Instance): void {
    const promoted = master.promotedSlave;
    if (promoted === null || promoted.is(SRI_S_DOWN)) return;
    let notReconfigured = 0;
    let timeout = false;
    for (const s of master.slaves.values()) {
      if (s.is(SRI_PROMOTED | SRI_RECONF_DONE)) continue;
      if (s.is(SRI_S_DOWN)) continue;
      notReconfigured++;
    }
    if (this.now() - master.failoverStateChangeTime > master.failoverTimeout) {
      notReconfigured = 0;
      timeout = true;
      this.event('warning', '+failover-end-for-timeout', master, '%@');
    }
    if (notReconfigured === 0) {
      this.event('warning', '+failover-end', master, '%@');
      this.setFailoverState(master, FailoverState.UpdateConfig);
    }
    if (timeout) {
      for (const s of master.slaves.values()) {
        if (s.is(SRI_PROMOTED | SRI_RECONF_DONE | SRI_RECONF_SENT)) continue;
        if (asLink(s).disconnected) continue;
        if (this.sendSlaveOf(s, promoted.addr)) {
          this.event('notice', '+slave-reconf-sent-be', s, '%@');
          s.flags |= SRI_RECONF_SENT;
        }
      }
    }
  }

  private switchToPromotedSlave(master: Instance): void {
    const ref = master.promotedSlave ?? master;
    const ah = this.state.announceHostnames;
    this.event('warning', '+switch-master', master,
      `${master.name} ${announceAddr(master.addr, ah)} ${master.addr.port} ${announceAddr(ref.addr, ah)} ${ref.addr.port}`);
    this.resetMasterAndChangeAddress(master, ref.addr.hostname, ref.addr.port);
  }

  /** Moves a master to a new address (after a failover or a newer hello); replicas are re-added with +slave. */
  resetMasterAndChangeAddress(master: Instance, host: string, port: number): boolean {
    const oldLinks = [asLink(master), ...[...master.slaves.values()].map(asLink)];
    let added: Instance[];
    try {
      added = this.state.resetMasterAndChangeAddress(master, host, port);
    } catch {
      return false;
    }
    for (const l of oldLinks) l.close();
    for (const s of added) this.event('notice', '+slave', s, '%@');
    this.flushConfig();
    return true;
  }

  /** SENTINEL RESET: forgets replicas and Sentinels of a master and reconnects (+reset-master). */
  resetMaster(master: Instance): void {
    this.releaseMaster(master);
    this.state.resetMaster(master, false);
    this.event('warning', '+reset-master', master, '%@');
  }

  /** Closes every link a master owns (its own, its replicas', its Sentinels'). */
  releaseMaster(master: Instance): void {
    asLink(master).close();
    for (const r of [...master.slaves.values(), ...master.sentinels.values()]) asLink(r).close();
  }

  /** Drops and reopens the links of a master and its replicas (after auth-pass/auth-user changes). */
  dropInstanceConnections(master: Instance): void {
    for (const r of [master, ...master.slaves.values()]) asLink(r).close();
  }

  simFailureCrash(): never {
    this.host.log('warning', 'Sentinel simulated failure: crashing with exit code 99');
    this.host.exit(99);
    throw new Error('simulated failure');
  }
}

export const SIMFAILURE_CRASH_AFTER_ELECTION = 1 << 0;
export const SIMFAILURE_CRASH_AFTER_PROMOTION = 1 << 1;

function parseEpoch(s: string): number {
  const m = /^[ \t]*\+?(\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** sentinelAddrEqualsHostname: same IP, or (resolve-hostnames) same hostname. */
function addrEqualsHostname(a: Addr, host: string): boolean {
  return a.ip.toLowerCase() === host.toLowerCase() || a.hostname.toLowerCase() === host.toLowerCase();
}
