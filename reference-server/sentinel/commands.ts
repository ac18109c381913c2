/**
 * Sentinel's command table: SENTINEL and its subcommands, and the Sentinel versions of INFO, PUBLISH and ROLE;
 * with the core's ACL, AUTH, CLIENT, COMMAND, HELLO, PING, (P)SUBSCRIBE, (P)UNSUBSCRIBE and SHUTDOWN, nothing else.
 */
import type { CommandContext, CommandSpec, Reply, ServerApi } from '../commands/command.js';
import { def, NOKEYS } from '../commands/define.js';
import { globMatch } from '../server/glob.js';
import { isIP } from 'node:net';
import { isExecutable } from './config.js';
import {
  FailoverState, Instance, InstanceError, SRI_FAILOVER_IN_PROGRESS, SRI_FORCE_FAILOVER, SRI_MASTER, SRI_O_DOWN, SRI_S_DOWN, SRI_SLAVE,
  announceAddr, failoverStateName, selectSlave, type Timing,
} from './state.js';
import { HELLO_CHANNEL, SIMFAILURE_CRASH_AFTER_ELECTION, SIMFAILURE_CRASH_AFTER_PROMOTION, type SentinelRuntime } from './runtime.js';
import type { InstanceLink } from './runtime.js';

/** The commands a Sentinel keeps from the core table (Redis 7.0's sentinel command table). */
export const SENTINEL_CORE_COMMANDS = ['acl', 'auth', 'client', 'command', 'hello', 'ping', 'psubscribe', 'punsubscribe', 'shutdown', 'subscribe', 'unsubscribe'];

/** Each server in Sentinel mode has one runtime; commands find it from their server. */
const runtimes = new WeakMap<object, SentinelRuntime>();

export function attachRuntime(server: object, rt: SentinelRuntime): void {
  runtimes.set(server, rt);
}

function rt(ctx: CommandContext): SentinelRuntime {
  const r = runtimes.get(ctx.server);
  if (!r) throw new Error('Sentinel runtime not installed');
  return r;
}

/** INFO sections a Sentinel has besides its own: the core renders them. */
export type CoreInfo = (server: ServerApi, sections: string[]) => string;
let coreInfo: CoreInfo = () => '';
export function setCoreInfo(fn: CoreInfo): void {
  coreInfo = fn;
}

const HELP_LINES = [
  'SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CKQUORUM <master-name>',
  '    Check if the current Sentinel configuration is able to reach the quorum',
  '    needed to failover a master and the majority needed to authorize the',
  '    failover.',
  'CONFIG SET <param> <value>',
  '    Set a global Sentinel configuration parameter.',
  'CONFIG GET <param>',
  '    Get global Sentinel configuration parameter.',
  'DEBUG [<param> <value> ...]',
  '    Show a list of configurable time parameters and their values (milliseconds).',
  '    Or update current configurable parameters values (one or more).',
  'GET-MASTER-ADDR-BY-NAME <master-name>',
  '    Return the ip and port number of the master with that name.',
  'FAILOVER <master-name>',
  '    Manually failover a master node without asking for agreement from other',
  '    Sentinels',
  'FLUSHCONFIG',
  '    Force Sentinel to rewrite its configuration on disk, including the current',
  '    Sentinel state.',
  'INFO-CACHE <master-name>',
  '    Return last cached INFO output from masters and all its replicas.',
  'IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>',
  "    Check if the master specified by ip:port is down from current Sentinel's",
  '    point of view.',
  'MASTER <master-name>',
  '    Show the state and info of the specified master.',
  'MASTERS',
  '    Show a list of monitored masters and their state.',
  'MONITOR <name> <ip> <port> <quorum>',
  '    Start monitoring a new master with the specified name, ip, port and quorum.',
  'MYID',
  '    Return the ID of the Sentinel instance.',
  'PENDING-SCRIPTS',
  '    Get pending scripts information.',
  'REMOVE <master-name>',
  "    Remove master from Sentinel's monitor list.",
  'REPLICAS <master-name>',
  '    Show a list of replicas for this master and their state.',
  'RESET <pattern>',
  '    Reset masters for specific master name matching this pattern.',
  'SENTINELS <master-name>',
  '    Show a list of Sentinel instances for this master and their state.',
  'SET <master-name> <option> <value> [<option> <value> ...]',
  '    Set configuration parameters for certain masters.',
  'SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]',
  '    Simulate a Sentinel crash.',
  'HELP',
  '    Prints this help.',
];

/** getLongLongFromObject: a whole decimal integer. */
function parseLL(s: string): number | null {
  if (!/^-?(0|[1-9][0-9]*)$/.test(s) || s.length > 20) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

function masterOrError(ctx: CommandContext, name: string): Instance | undefined {
  const m = rt(ctx).state.masterByName(name);
  if (!m) ctx.reply.error('ERR No such master with that name');
  return m;
}

function flushAndReply(ctx: CommandContext): void {
  if (rt(ctx).flushConfig()) ctx.reply.ok();
  else ctx.reply.error('ERR Failed to save config file. Check server logs.');
}

/** addReplySentinelRedisInstance: the instance as a map (RESP2: flat array) of name/value bulk strings. */
function replyInstance(r: Reply, runtime: SentinelRuntime, ri: Instance): void {
  const now = runtime.now();
  const link = ri.link as InstanceLink;
  const ah = runtime.state.announceHostnames;
  const f: [string, string][] = [
    ['name', ri.name], ['ip', announceAddr(ri.addr, ah)], ['port', String(ri.addr.port)], ['runid', ri.runid ?? ''],
    ['flags', ri.flagsString()], ['link-pending-commands', String(link.pendingCommands)], ['link-refcount', String(link.refcount)],
  ];
  if (ri.is(SRI_FAILOVER_IN_PROGRESS)) f.push(['failover-state', failoverStateName(ri.failoverState)]);
  f.push(['last-ping-sent', String(link.actPingTime ? now - link.actPingTime : 0)]);
  f.push(['last-ok-ping-reply', String(now - link.lastAvailTime)]);
  f.push(['last-ping-reply', String(now - link.lastPongTime)]);
  if (ri.is(SRI_S_DOWN)) f.push(['s-down-time', String(now - ri.sDownSinceTime)]);
  if (ri.is(SRI_O_DOWN)) f.push(['o-down-time', String(now - ri.oDownSinceTime)]);
  f.push(['down-after-milliseconds', String(ri.downAfterPeriod)]);
  if (ri.is(SRI_MASTER | SRI_SLAVE)) {
    f.push(['info-refresh', String(ri.infoRefresh ? now - ri.infoRefresh : 0)]);
    f.push(['role-reported', ri.roleReported === SRI_MASTER ? 'master' : 'slave']);
    f.push(['role-reported-time', String(now - ri.roleReportedTime)]);
  }
  if (ri.is(SRI_MASTER)) {
    f.push(['config-epoch', String(ri.configEpoch)], ['num-slaves', String(ri.slaves.size)], ['num-other-sentinels', String(ri.sentinels.size)],
      ['quorum', String(ri.quorum)], ['failover-timeout', String(ri.failoverTimeout)], ['parallel-syncs', String(ri.parallelSyncs)]);
    if (ri.notificationScript !== null) f.push(['notification-script', ri.notificationScript]);
    if (ri.clientReconfigScript !== null) f.push(['client-reconfig-script', ri.clientReconfigScript]);
  }
  if (ri.is(SRI_SLAVE)) {
    f.push(['master-link-down-time', String(ri.masterLinkDownTime)], ['master-link-status', ri.slaveMasterLinkStatusUp ? 'ok' : 'err'],
      ['master-host', ri.slaveMasterHost ?? '?'], ['master-port', String(ri.slaveMasterPort)], ['slave-priority', String(ri.slavePriority)],
      ['slave-repl-offset', String(ri.slaveReplOffset)], ['replica-announced', ri.replicaAnnounced ? '1' : '0']);
  }
  if (!ri.is(SRI_MASTER | SRI_SLAVE)) {
    f.push(['last-hello-message', String(now - ri.lastHelloTime)], ['voted-leader', ri.leader ?? '?'], ['voted-leader-epoch', String(ri.leaderEpoch)]);
  }
  r.mapHeader(f.length);
  for (const [k, v] of f) {
    r.bulk(k);
    r.bulk(v);
  }
}

function replyInstances(r: Reply, runtime: SentinelRuntime, list: Iterable<Instance>): void {
  // Replicas that say replica-announced no are left out, as Redis does.
  const shown = [...list].filter((ri) => !(ri.is(SRI_SLAVE) && !ri.replicaAnnounced));
  r.arrayHeader(shown.length);
  for (const ri of shown) replyInstance(r, runtime, ri);
}

const DEBUG_PARAMS: [string, keyof Timing][] = [
  ['info-period', 'infoPeriod'], ['ping-period', 'pingPeriod'], ['ask-period', 'askPeriod'], ['publish-period', 'publishPeriod'],
  ['default-down-after', 'defaultDownAfter'], ['default-failover-timeout', 'defaultFailoverTimeout'], ['tilt-trigger', 'tiltTrigger'],
  ['tilt-period', 'tiltPeriod'], ['slave-reconf-timeout', 'slaveReconfTimeout'], ['min-link-reconnect-period', 'minLinkReconnectPeriod'],
  ['election-timeout', 'electionTimeout'], ['script-max-runtime', 'scriptMaxRuntime'], ['script-retry-delay', 'scriptRetryDelay'],
];


const SCRIPTS_DENIED = 'ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration';

function sentinelSet(ctx: CommandContext, argv: string[]): void {
  const runtime = rt(ctx);
  const ri = masterOrError(ctx, argv[2]);
  if (!ri) return;
  let changes = 0;
  let badarg = 0;
  let option = '';
  const finish = () => {
    if (changes) runtime.flushConfig();
  };
  for (let j = 3; j < argv.length; j++) {
    const moreargs = argv.length - 1 - j;
    option = argv[j];
    const opt = option.toLowerCase();
    const oldJ = j;
    let redacted = false;
    const positive = (min: number): number | null => {
      const v = parseLL(argv[++j]);
      if (v === null || v < min) {
        badarg = j;
        return null;
      }
      return v;
    };
    if (opt === 'down-after-milliseconds' && moreargs > 0) {
      const v = positive(1);
      if (v === null) break;
      ri.downAfterPeriod = v;
      for (const s of [...ri.slaves.values(), ...ri.sentinels.values()]) s.downAfterPeriod = v;
    } else if (opt === 'failover-timeout' && moreargs > 0) {
      const v = positive(1);
      if (v === null) break;
      ri.failoverTimeout = v;
    } else if (opt === 'parallel-syncs' && moreargs > 0) {
      const v = positive(1);
      if (v === null) break;
      ri.parallelSyncs = v;
    } else if ((opt === 'notification-script' || opt === 'client-reconfig-script') && moreargs > 0) {
      const value = argv[++j];
      if (runtime.state.denyScriptsReconfig) {
        ctx.reply.error(SCRIPTS_DENIED);
        finish();
        return;
      }
      if (value.length > 0 && !isExecutable(value)) {
        ctx.reply.error(opt === 'notification-script' ? 'ERR Notification script seems non existing or non executable' : 'ERR Client reconfiguration script seems non existing or non executable');
        finish();
        return;
      }
      if (opt === 'notification-script') ri.notificationScript = value.length ? value : null;
      else ri.clientReconfigScript = value.length ? value : null;
    } else if (opt === 'auth-pass' && moreargs > 0) {
      const value = argv[++j];
      ri.authPass = value.length ? value : null;
      runtime.dropInstanceConnections(ri);
      redacted = true;
    } else if (opt === 'auth-user' && moreargs > 0) {
      const value = argv[++j];
      ri.authUser = value.length ? value : null;
      runtime.dropInstanceConnections(ri);
    } else if (opt === 'quorum' && moreargs > 0) {
      const v = positive(1);
      if (v === null) break;
      ri.quorum = v;
    } else if (opt === 'rename-command' && moreargs > 1) {
      const oldname = argv[++j];
      const newname = argv[++j];
      if (oldname.length === 0 || newname.length === 0) {
        badarg = newname.length ? j - 1 : j;
        break;
      }
      ri.renamedCommands.delete(oldname.toLowerCase());
      if (oldname.toLowerCase() !== newname.toLowerCase()) ri.renamedCommands.set(oldname.toLowerCase(), newname);
    } else if (opt === 'master-reboot-down-after-period' && moreargs > 0) {
      const v = positive(0);
      if (v === null) break;
      ri.masterRebootDownAfterPeriod = v;
    } else {
      ctx.reply.error(`ERR Unknown option or number of arguments for SENTINEL SET '${option}'`);
      finish();
      return;
    }
    changes++;
    const numargs = j - oldJ + 1;
    if (numargs === 2) runtime.event('warning', '+set', ri, `%@ ${argv[oldJ]} ${redacted ? '******' : argv[oldJ + 1]}`);
    else if (numargs === 3) runtime.event('warning', '+set', ri, `%@ ${argv[oldJ]} ${argv[oldJ + 1]} ${argv[oldJ + 2]}`);
    else runtime.event('warning', '+set', ri, `%@ ${argv[oldJ]}`);
  }
  if (badarg) {
    ctx.reply.error(`ERR Invalid argument '${argv[badarg]}' for SENTINEL SET '${option}'`);
    finish();
    return;
  }
  if (changes) flushAndReply(ctx);
}

function sentinelConfigSet(ctx: CommandContext, argv: string[]): void {
  const st = rt(ctx).state;
  const opt = argv[3].toLowerCase();
  const val = argv[4];
  const yn = (v: string) => (v.toLowerCase() === 'yes' ? true : v.toLowerCase() === 'no' ? false : undefined);
  let dropConns = false;
  const bad = () => ctx.reply.error(`ERR Invalid value '${val}' to SENTINEL CONFIG SET '${argv[3]}'`);
  if (opt === 'resolve-hostnames' || opt === 'announce-hostnames') {
    const v = yn(val);
    if (v === undefined) return bad();
    if (opt === 'resolve-hostnames') st.resolveHostnames = v;
    else st.announceHostnames = v;
  } else if (opt === 'announce-ip') {
    st.announceIp = val;
  } else if (opt === 'announce-port') {
    const v = parseLL(val);
    if (v === null || v < 0 || v > 65535) return bad();
    st.announcePort = v;
  } else if (opt === 'sentinel-user') {
    st.sentinelAuthUser = val.length === 0 ? null : val;
    dropConns = true;
  } else if (opt === 'sentinel-pass') {
    st.sentinelAuthPass = val.length === 0 ? null : val;
    dropConns = true;
  } else {
    ctx.reply.error(`ERR Invalid argument '${argv[3]}' to SENTINEL CONFIG SET`);
    return;
  }
  flushAndReply(ctx);
  if (dropConns) for (const m of st.masters.values()) for (const s of m.sentinels.values()) (s.link as InstanceLink).close();
}

function sentinelConfigGet(ctx: CommandContext, pattern: string): void {
  const st = rt(ctx).state;
  const pairs: [string, string][] = [
    ['resolve-hostnames', st.resolveHostnames ? 'yes' : 'no'], ['announce-hostnames', st.announceHostnames ? 'yes' : 'no'],
    ['announce-ip', st.announceIp ?? ''], ['announce-port', String(st.announcePort)],
    ['sentinel-user', st.sentinelAuthUser ?? ''], ['sentinel-pass', st.sentinelAuthPass ?? ''],
  ].filter(([k]) => globMatch(pattern, k, true)) as [string, string][];
  ctx.reply.mapHeader(pairs.length);
  for (const [k, v] of pairs) {
    ctx.reply.bulk(k);
    if (k === 'announce-port') ctx.reply.bulk(v);
    else ctx.reply.bulk(v);
  }
}

type Handler = (ctx: CommandContext, argv: string[]) => void;

const SUBS: [string, number, Handler][] = [
  ['help', 2, (ctx) => {
    ctx.reply.arrayHeader(HELP_LINES.length);
    for (const l of HELP_LINES) ctx.reply.simple(l);
  }],
  ['masters', 2, (ctx) => replyInstances(ctx.reply, rt(ctx), rt(ctx).state.masters.values())],
  ['master', 3, (ctx, argv) => {
    const m = masterOrError(ctx, argv[2]);
    if (m) replyInstance(ctx.reply, rt(ctx), m);
  }],
  ['replicas', 3, (ctx, argv) => {
    const m = masterOrError(ctx, argv[2]);
    if (m) replyInstances(ctx.reply, rt(ctx), m.slaves.values());
  }],
  ['slaves', 3, (ctx, argv) => {
    const m = masterOrError(ctx, argv[2]);
    if (m) replyInstances(ctx.reply, rt(ctx), m.slaves.values());
  }],
  ['sentinels', 3, (ctx, argv) => {
    const m = masterOrError(ctx, argv[2]);
    if (m) replyInstances(ctx.reply, rt(ctx), m.sentinels.values());
  }],
  ['myid', 2, (ctx) => ctx.reply.bulk(rt(ctx).state.myid)],
  ['is-master-down-by-addr', 6, (ctx, argv) => {
    const runtime = rt(ctx);
    const port = parseLL(argv[3]);
    if (port === null) return ctx.reply.error('ERR value is not an integer or out of range');
    const reqEpoch = parseLL(argv[4]);
    if (reqEpoch === null) return ctx.reply.error('ERR value is not an integer or out of range');
    const ri = runtime.state.masterByAddr(argv[2], port);
    const isdown = !runtime.state.tilt && ri !== undefined && ri.is(SRI_S_DOWN) && ri.is(SRI_MASTER);
    let leader: string | null = null;
    let leaderEpoch = 0;
    // A negative epoch would be a huge unsigned one in Redis; never vote on it.
    if (ri && argv[5] !== '*' && reqEpoch >= 0) {
      const v = runtime.voteLeader(ri, reqEpoch, argv[5]);
      leader = v.leader;
      leaderEpoch = v.leaderEpoch;
    }
    ctx.reply.arrayHeader(3);
    ctx.reply.integer(isdown ? 1 : 0);
    ctx.reply.bulk(leader ?? '*');
    ctx.reply.integer(leaderEpoch);
  }],
  ['reset', 3, (ctx, argv) => {
    const runtime = rt(ctx);
    let n = 0;
    for (const m of [...runtime.state.masters.values()]) {
      if (globMatch(argv[2], m.name, false)) {
        runtime.resetMaster(m);
        n++;
      }
    }
    ctx.reply.integer(n);
  }],
  ['get-master-addr-by-name', 3, (ctx, argv) => {
    const runtime = rt(ctx);
    const m = runtime.state.masterByName(argv[2]);
    if (!m) return ctx.reply.nullArray();
    const a = runtime.state.currentMasterAddr(m);
    ctx.reply.arrayHeader(2);
    ctx.reply.bulk(announceAddr(a, runtime.state.announceHostnames));
    ctx.reply.bulk(String(a.port));
  }],
  ['failover', 3, (ctx, argv) => {
    const runtime = rt(ctx);
    const m = masterOrError(ctx, argv[2]);
    if (!m) return;
    if (m.is(SRI_FAILOVER_IN_PROGRESS)) return ctx.reply.error('INPROG Failover already in progress');
    if (selectSlave(m, runtime.state.timing, runtime.now()) === undefined) return ctx.reply.error('NOGOODSLAVE No suitable replica to promote');
    runtime.host.log('warning', `Executing user requested FAILOVER of '${m.name}'`);
    runtime.startFailover(m);
    m.flags |= SRI_FORCE_FAILOVER;
    ctx.reply.ok();
  }],
  ['pending-scripts', 2, (ctx) => {
    const runtime = rt(ctx);
    const now = runtime.now();
    const r = ctx.reply;
    r.arrayHeader(runtime.scripts.jobs.length);
    for (const job of runtime.scripts.jobs) {
      r.mapHeader(5);
      r.bulk('argv');
      r.bulkArray(job.argv);
      r.bulk('flags');
      r.bulk(job.running ? 'running' : 'scheduled');
      r.bulk('pid');
      r.bulk(String(job.pid));
      if (job.running) {
        r.bulk('run-time');
        r.bulk(String(now - job.startTime));
      } else {
        r.bulk('run-delay');
        r.bulk(String(Math.max(0, job.startTime ? job.startTime - now : 0)));
      }
      r.bulk('retry-num');
      r.bulk(String(job.retryNum));
    }
  }],
  ['monitor', 6, (ctx, argv) => {
    const runtime = rt(ctx);
    const quorum = parseLL(argv[5]);
    if (quorum === null) return ctx.reply.error('ERR Invalid quorum');
    const port = parseLL(argv[4]);
    if (port === null) return ctx.reply.error('ERR Invalid port');
    if (quorum <= 0) return ctx.reply.error('ERR Quorum must be 1 or greater.');
    if (isIP(argv[3]) === 0 && !(runtime.state.resolveHostnames && argv[3] === 'localhost')) return ctx.reply.error('ERR Invalid IP address or hostname specified');
    let m: Instance;
    try {
      m = runtime.state.createInstance(argv[2], SRI_MASTER, argv[3], port, quorum, null);
    } catch (e) {
      if (e instanceof InstanceError) return ctx.reply.error(`ERR ${e.message}`);
      throw e;
    }
    flushAndReply(ctx);
    runtime.event('warning', '+monitor', m, `%@ quorum ${m.quorum}`);
  }],
  ['flushconfig', 2, (ctx) => flushAndReply(ctx)],
  ['remove', 3, (ctx, argv) => {
    const runtime = rt(ctx);
    const m = masterOrError(ctx, argv[2]);
    if (!m) return;
    runtime.event('warning', '-monitor', m, '%@');
    runtime.releaseMaster(m);
    runtime.state.masters.delete(m.name);
    flushAndReply(ctx);
  }],
  ['ckquorum', 3, (ctx, argv) => {
    const m = masterOrError(ctx, argv[2]);
    if (!m) return;
    let usable = 1;
    for (const s of m.sentinels.values()) if (!s.is(SRI_S_DOWN | SRI_O_DOWN)) usable++;
    const voters = m.sentinels.size + 1;
    const noQuorum = usable < m.quorum;
    const noAuth = usable < Math.floor(voters / 2) + 1;
    if (!noQuorum && !noAuth) return ctx.reply.simple(`OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`);
    let e = `NOQUORUM ${usable} usable Sentinels. `;
    if (noQuorum) e += 'Not enough available Sentinels to reach the specified quorum for this master';
    if (noAuth) {
      if (noQuorum) e += '. ';
      e += 'Not enough available Sentinels to reach the majority and authorize a failover';
    }
    ctx.reply.error(e);
  }],
  ['set', -5, sentinelSet],
  ['config', -3, (ctx, argv) => {
    const sub = argv[2].toLowerCase();
    if (sub === 'set' && argv.length === 5) sentinelConfigSet(ctx, argv);
    else if (sub === 'get' && argv.length === 4) sentinelConfigGet(ctx, argv[3]);
    else ctx.reply.error('ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.');
  }],
  ['info-cache', -3, (ctx, argv) => {
    const runtime = rt(ctx);
    const now = runtime.now();
    let masters = [...runtime.state.masters.values()];
    if (argv.length > 2) {
      const names = new Set(argv.slice(2));
      masters = masters.filter((m) => names.has(m.name));
    }
    const r = ctx.reply;
    r.arrayHeader(masters.length * 2);
    for (const m of masters) {
      r.bulk(m.name);
      r.arrayHeader(m.slaves.size + 1);
      r.arrayHeader(2);
      r.integer(m.infoRefresh ? now - m.infoRefresh : 0);
      r.bulk(m.info);
      for (const s of m.slaves.values()) {
        r.arrayHeader(2);
        // Redis tests the master's info_refresh here, not the replica's: kept as it is.
        r.integer(m.infoRefresh ? now - s.infoRefresh : 0);
        r.bulk(s.info);
      }
    }
  }],
  ['simulate-failure', -3, (ctx, argv) => {
    const st = rt(ctx).state;
    st.simfailureFlags = 0;
    for (let j = 2; j < argv.length; j++) {
      const a = argv[j].toLowerCase();
      if (a === 'crash-after-election') {
        st.simfailureFlags |= SIMFAILURE_CRASH_AFTER_ELECTION;
        rt(ctx).host.log('warning', 'Failure simulation: this Sentinel will crash after being successfully elected as failover leader');
      } else if (a === 'crash-after-promotion') {
        st.simfailureFlags |= SIMFAILURE_CRASH_AFTER_PROMOTION;
        rt(ctx).host.log('warning', 'Failure simulation: this Sentinel will crash after promoting the selected replica to master');
      } else if (a === 'help') {
        ctx.reply.bulkArray(['crash-after-election', 'crash-after-promotion']);
        return;
      } else {
        ctx.reply.error('ERR Unknown failure simulation specified');
        return;
      }
    }
    ctx.reply.ok();
  }],
  ['debug', -2, (ctx, argv) => {
    const t = rt(ctx).state.timing;
    if (argv.length === 2) {
      ctx.reply.mapHeader(DEBUG_PARAMS.length);
      for (const [name, key] of DEBUG_PARAMS) {
        ctx.reply.bulk(name.toUpperCase());
        ctx.reply.bulk(String(t[key]));
      }
      return;
    }
    for (let j = 2; j < argv.length; j++) {
      const option = argv[j];
      const moreargs = argv.length - 1 - j;
      const p = DEBUG_PARAMS.find(([n]) => n === option.toLowerCase());
      if (!p || moreargs <= 0) {
        ctx.reply.error(`ERR Unknown option or number of arguments for SENTINEL DEBUG '${option}'`);
        return;
      }
      const v = parseLL(argv[++j]);
      if (v === null || v <= 0) {
        ctx.reply.error(`ERR Invalid argument '${argv[j]}' for SENTINEL DEBUG '${option}'`);
        return;
      }
      t[p[1]] = v;
    }
    ctx.reply.ok();
  }],
];

const FLAGS = 'admin sentinel only_sentinel';

const sentinelCommand = def('sentinel', -2, FLAGS, NOKEYS, 'admin slow dangerous', () => {
  // Never reached: the server dispatches to the subcommand.
}, SUBS.map(([name, arity, fn]) => def(`sentinel|${name}`, arity, name === 'help' ? 'loading stale sentinel only_sentinel' : FLAGS, NOKEYS,
  name === 'help' ? 'slow' : 'admin slow dangerous', fn)));

/** INFO in Sentinel mode: server, clients, cpu, stats from the core, then # Sentinel. */
const info = def('info', -1, 'loading stale sentinel', NOKEYS, 'slow dangerous', (ctx, argv) => {
  const runtime = rt(ctx);
  const all = ['server', 'clients', 'stats', 'cpu', 'sentinel'];
  const asked = argv.slice(1).map((a) => a.toLowerCase());
  const wanted = new Set<string>();
  if (asked.length === 0) for (const s of all) wanted.add(s);
  for (const a of asked) {
    if (a === 'default' || a === 'all' || a === 'everything') for (const s of all) wanted.add(s);
    else if (all.includes(a)) wanted.add(a);
  }
  let text = coreInfo(ctx.server, all.filter((s) => s !== 'sentinel' && wanted.has(s)));
  if (wanted.has('sentinel')) {
    const st = runtime.state;
    if (text.length > 0) text += '\r\n';
    text += '# Sentinel\r\n' +
      `sentinel_masters:${st.masters.size}\r\n` +
      `sentinel_tilt:${st.tilt ? 1 : 0}\r\n` +
      `sentinel_tilt_since_seconds:${st.tilt ? Math.floor((runtime.now() - st.tiltStartTime) / 1000) : -1}\r\n` +
      `sentinel_running_scripts:${runtime.scripts.running}\r\n` +
      `sentinel_scripts_queue_length:${runtime.scripts.jobs.length}\r\n` +
      `sentinel_simulate_failure_flags:${st.simfailureFlags}\r\n`;
    let i = 0;
    for (const m of st.masters.values()) {
      const status = m.is(SRI_O_DOWN) ? 'odown' : m.is(SRI_S_DOWN) ? 'sdown' : 'ok';
      text += `master${i++}:name=${m.name},status=${status},address=${announceAddr(m.addr, st.announceHostnames)}:${m.addr.port},slaves=${m.slaves.size},sentinels=${m.sentinels.size + 1}\r\n`;
    }
  }
  ctx.reply.verbatim(text);
});

/** PUBLISH in Sentinel mode: only hello messages, processed as hellos. */
const publish = def('publish', 3, 'pubsub loading stale fast may_replicate sentinel', NOKEYS, 'pubsub fast', (ctx, argv) => {
  if (argv[1] !== HELLO_CHANNEL) return ctx.reply.error('ERR Only HELLO messages are accepted by Sentinel instances.');
  rt(ctx).processHelloMessage(argv[2]);
  ctx.reply.integer(1);
});

/** ROLE in Sentinel mode: "sentinel" and the names of the masters it monitors. */
const role = def('role', 1, 'noscript loading stale fast sentinel', NOKEYS, 'admin fast dangerous', (ctx) => {
  const names = [...rt(ctx).state.masters.keys()];
  ctx.reply.arrayHeader(2);
  ctx.reply.bulk('sentinel');
  ctx.reply.bulkArray(names);
});

export const sentinelOnlyCommands: CommandSpec[] = [sentinelCommand, info, publish, role];

/** The Sentinel table: our commands first, then the kept core ones (both spellings, as buildCommandTable does). */
export function buildSentinelTable(core: Map<string, CommandSpec>): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  const add = (spec: CommandSpec) => {
    table.set(spec.name, spec);
    table.set(spec.name.toUpperCase(), spec);
  };
  for (const spec of sentinelOnlyCommands) add(spec);
  for (const name of SENTINEL_CORE_COMMANDS) {
    const spec = core.get(name);
    if (spec) add(spec);
  }
  return table;
}

export { FailoverState };
