/**
 * CLUSTER and its subcommands, ASKING, READONLY and READWRITE, with Redis 7.0.15's replies and error texts
 * (clusterCommand in cluster.c). They reach the cluster through the mode registered for the server; without one
 * (cluster-enabled no) they answer "This instance has cluster support disabled".
 */
import type { ClientState, CommandContext, CommandSpec, Reply, ServerApi } from '../commands/command.js';
import { NOKEYS, def } from '../commands/define.js';
import type { Cluster } from './cluster.js';
import { MSG_TYPE_COUNT, MSG_TYPE_NAMES } from './codec.js';
import { CLUSTER_SLOTS, keyHashSlot } from './keyslot.js';
import { CLUSTER_PORT_INCR, type ClusterNode } from './nodes.js';

/** What the commands need from the installed cluster mode. */
export interface ClusterModeApi {
  readonly cluster: Cluster;
  countKeysInSlot(slot: number): number;
  keysInSlot(slot: number, max: number): string[];
  /** Keys in db 0 (the only db in cluster mode). */
  dbSize(): number;
  /** emptyData: a replica turned master by CLUSTER RESET drops its dataset. */
  emptyData(): void;
  setAsking(client: ClientState, on: boolean): void;
  setReadonly(client: ClientState, on: boolean): void;
  /** This node's replication offset (master_repl_offset, or a replica's processed offset). */
  replicationOffset(): bigint;
}

const modes = new WeakMap<object, ClusterModeApi>();

export function registerClusterMode(server: object, mode: ClusterModeApi): void {
  modes.set(server, mode);
}

export function clusterModeOf(server: ServerApi | object): ClusterModeApi | undefined {
  return modes.get(server);
}

const DISABLED = 'ERR This instance has cluster support disabled';

const HELP = [
  'CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ADDSLOTS <slot> [<slot> ...]', '    Assign slots to current node.',
  'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]', '    Assign slots which are between <start-slot> and <end-slot> to current node.',
  'BUMPEPOCH', '    Advance the cluster config epoch.',
  'COUNT-FAILURE-REPORTS <node-id>', '    Return number of failure reports for <node-id>.',
  'COUNTKEYSINSLOT <slot>', '    Return the number of keys in <slot>.',
  'DELSLOTS <slot> [<slot> ...]', '    Delete slots information from current node.',
  'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]', '    Delete slots information which are between <start-slot> and <end-slot> from current node.',
  'FAILOVER [FORCE|TAKEOVER]', '    Promote current replica node to being a master.',
  'FORGET <node-id>', '    Remove a node from the cluster.',
  'GETKEYSINSLOT <slot> <count>', '    Return key names stored by current node in a slot.',
  'FLUSHSLOTS', '    Delete current node own slots information.',
  'INFO', '    Return information about the cluster.',
  'KEYSLOT <key>', '    Return the hash slot for <key>.',
  'MEET <ip> <port> [<bus-port>]', '    Connect nodes into a working cluster.',
  'MYID', '    Return the node id.',
  'NODES', '    Return cluster configuration seen by node. Output format:',
  '    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
  'REPLICATE <node-id>', '    Configure current node as replica to <node-id>.',
  'RESET [HARD|SOFT]', '    Reset current node (default: soft).',
  'SET-CONFIG-EPOCH <epoch>', '    Set config epoch of current node.',
  'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)', '    Set slot state.',
  'REPLICAS <node-id>', '    Return <node-id> replicas.',
  'SAVECONFIG', '    Force saving cluster configuration on disk.',
  'SLOTS', '    Return information about slots range mappings. Each range is made of:',
  '    start, end, master and replicas IP addresses, ports and ids',
  'SHARDS', '    Return information about slot range mappings and the nodes associated with them.',
  'LINKS', '    Return information about all network links between this node and its peers.',
  '    Output format is an array where each array element is a map containing attributes of a link',
  'HELP', '    Prints this help.',
];

/** string2ll rules, as getLongLongFromObject applies them. */
function parseLL(s: string): bigint | null {
  if (!/^-?(0|[1-9][0-9]*)$/.test(s) || s === '-0' || s.length > 20) return null;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v < 2n ** 63n ? v : null;
}

function slotOrReply(reply: Reply, arg: string): number | null {
  const v = parseLL(arg);
  if (v === null || v < 0n || v >= BigInt(CLUSTER_SLOTS)) {
    reply.error('ERR Invalid or out of range slot');
    return null;
  }
  return Number(v);
}

function preferredEndpoint(ctx: CommandContext, n: ClusterNode): string | null {
  switch (ctx.server.config.get('cluster-preferred-endpoint-type')) {
    case 'hostname':
      return n.hostname !== '' ? n.hostname : '?';
    case 'unknown-endpoint':
      return null;
    default:
      return n.ip;
  }
}

/** [endpoint, port, id, {ip?, hostname?}] as addNodeToNodeReply writes it. */
function nodeReply(ctx: CommandContext, n: ClusterNode): void {
  const r = ctx.reply;
  const type = ctx.server.config.get('cluster-preferred-endpoint-type') ?? 'ip';
  r.arrayHeader(4);
  const endpoint = preferredEndpoint(ctx, n);
  if (type === 'unknown-endpoint') r.bulk(null);
  else r.bulk(endpoint);
  r.integer(n.port);
  r.bulk(n.name);
  const withIp = type !== 'ip';
  const withHost = type !== 'hostname' && n.hostname !== '';
  r.mapHeader((withIp ? 1 : 0) + (withHost ? 1 : 0));
  if (withIp) {
    r.bulk('ip');
    r.bulk(n.ip);
  }
  if (withHost) {
    r.bulk('hostname');
    r.bulk(n.hostname);
  }
}

function replicaAvailable(mode: ClusterModeApi, n: ClusterNode): boolean {
  if (n.failed) return false;
  const offset = n.isMyself ? mode.replicationOffset() : n.replOffset;
  return offset !== 0n;
}

function slotsReply(ctx: CommandContext, mode: ClusterModeApi): void {
  const slots = mode.cluster.state.slots;
  const runs: Array<[ClusterNode, number, number]> = [];
  let start = 0;
  for (let i = 1; i <= CLUSTER_SLOTS; i++) {
    if (i === CLUSTER_SLOTS || slots[i] !== slots[start]) {
      if (slots[start]) runs.push([slots[start]!, start, i - 1]);
      start = i;
    }
  }
  ctx.reply.arrayHeader(runs.length);
  for (const [n, a, b] of runs) {
    const replicas = n.replicas.filter((r) => replicaAvailable(mode, r));
    ctx.reply.arrayHeader(3 + replicas.length);
    ctx.reply.integer(a);
    ctx.reply.integer(b);
    nodeReply(ctx, n);
    for (const r of replicas) nodeReply(ctx, r);
  }
}

function shardNodeReply(ctx: CommandContext, mode: ClusterModeApi, n: ClusterNode): void {
  const r = ctx.reply;
  const offset = n.isMyself ? mode.replicationOffset() : n.replOffset;
  const fields: Array<[string, string | number | bigint]> = [['id', n.name]];
  if (n.port) fields.push(['port', n.port]);
  fields.push(['ip', n.ip], ['endpoint', preferredEndpoint(ctx, n) ?? '']);
  if (n.hostname !== '') fields.push(['hostname', n.hostname]);
  fields.push(['role', n.isReplica ? 'replica' : 'master'], ['replication-offset', offset]);
  fields.push(['health', n.failed ? 'fail' : n.isReplica && offset === 0n ? 'loading' : 'online']);
  r.mapHeader(fields.length);
  for (const [k, v] of fields) {
    r.bulk(k);
    if (typeof v === 'string') r.bulk(v);
    else r.integer(v);
  }
}

function shardsReply(ctx: CommandContext, mode: ClusterModeApi): void {
  const st = mode.cluster.state;
  const runs = new Map<ClusterNode, number[]>();
  let start = 0;
  for (let i = 1; i <= CLUSTER_SLOTS; i++) {
    if (i === CLUSTER_SLOTS || st.slots[i] !== st.slots[start]) {
      const owner = st.slots[start];
      if (owner) {
        if (!runs.has(owner)) runs.set(owner, []);
        runs.get(owner)!.push(start, i - 1);
      }
      start = i;
    }
  }
  const masters = [...st.nodes.values()].filter((n) => n.isMaster);
  ctx.reply.arrayHeader(masters.length);
  for (const m of masters) {
    ctx.reply.mapHeader(2);
    ctx.reply.bulk('slots');
    const pairs = runs.get(m) ?? [];
    ctx.reply.arrayHeader(pairs.length);
    for (const p of pairs) ctx.reply.integer(p);
    ctx.reply.bulk('nodes');
    const nodes = [m, ...m.replicas];
    ctx.reply.arrayHeader(nodes.length);
    for (const n of nodes) shardNodeReply(ctx, mode, n);
  }
}

function infoText(mode: ClusterModeApi): string {
  const c = mode.cluster;
  const st = c.state;
  let assigned = 0;
  let ok = 0;
  let pfail = 0;
  let fail = 0;
  for (const n of st.slots) {
    if (!n) continue;
    assigned++;
    if (n.failed) fail++;
    else if (n.timedOut) pfail++;
    else ok++;
  }
  const me = c.myself;
  const myEpoch = me.isReplica && me.replicaOf ? me.replicaOf.configEpoch : me.configEpoch;
  const lines = [
    `cluster_state:${st.state}`, `cluster_slots_assigned:${assigned}`, `cluster_slots_ok:${ok}`, `cluster_slots_pfail:${pfail}`,
    `cluster_slots_fail:${fail}`, `cluster_known_nodes:${st.nodes.size}`, `cluster_size:${st.size}`,
    `cluster_current_epoch:${st.currentEpoch}`, `cluster_my_epoch:${myEpoch}`,
  ];
  let sent = 0;
  for (let i = 0; i < MSG_TYPE_COUNT; i++) {
    if (!c.statsSent[i]) continue;
    sent += c.statsSent[i]!;
    lines.push(`cluster_stats_messages_${MSG_TYPE_NAMES[i]}_sent:${c.statsSent[i]}`);
  }
  lines.push(`cluster_stats_messages_sent:${sent}`);
  let received = 0;
  for (let i = 0; i < MSG_TYPE_COUNT; i++) {
    if (!c.statsReceived[i]) continue;
    received += c.statsReceived[i]!;
    lines.push(`cluster_stats_messages_${MSG_TYPE_NAMES[i]}_received:${c.statsReceived[i]}`);
  }
  lines.push(`cluster_stats_messages_received:${received}`);
  lines.push(`total_cluster_links_buffer_limit_exceeded:${c.linksBufferLimitExceeded}`);
  return lines.join('\r\n') + '\r\n';
}

/** ADDSLOTS/DELSLOTS(RANGE): validate every slot first, then apply; null on error (already replied). */
function collectSlots(ctx: CommandContext, mode: ClusterModeApi, ranges: Array<[string, string]>, del: boolean, isRange: boolean): Uint8Array | null {
  const st = mode.cluster.state;
  const seen = new Uint8Array(CLUSTER_SLOTS);
  const parsed: Array<[number, number]> = [];
  if (!isRange) {
    for (const [a] of ranges) if (slotOrReply(ctx.reply, a) === null) return null;
  }
  for (const [a, b] of ranges) {
    const start = slotOrReply(ctx.reply, a);
    if (start === null) return null;
    const end = slotOrReply(ctx.reply, b);
    if (end === null) return null;
    if (start > end) {
      ctx.reply.error(`ERR start slot number ${start} is greater than end slot number ${end}`);
      return null;
    }
    parsed.push([start, end]);
    for (let s = start; s <= end; s++) {
      if (del && st.slots[s] === null) {
        ctx.reply.error(`ERR Slot ${s} is already unassigned`);
        return null;
      } else if (!del && st.slots[s] !== null) {
        ctx.reply.error(`ERR Slot ${s} is already busy`);
        return null;
      }
      if (seen[s]++ === 1) {
        ctx.reply.error(`ERR Slot ${s} specified multiple times`);
        return null;
      }
    }
  }
  return seen;
}

function applySlots(mode: ClusterModeApi, slots: Uint8Array, del: boolean): void {
  const st = mode.cluster.state;
  for (let j = 0; j < CLUSTER_SLOTS; j++) {
    if (!slots[j]) continue;
    st.setImporting(j, null);
    if (del) st.delSlot(j);
    else st.addSlot(mode.cluster.myself, j);
  }
  mode.cluster.todoSaveAndUpdate();
}

function setslot(ctx: CommandContext, mode: ClusterModeApi, argv: string[]): void {
  const c = mode.cluster;
  const st = c.state;
  const me = c.myself;
  const r = ctx.reply;
  if (me.isReplica) return r.error('ERR Please use SETSLOT only with masters.');
  const slot = slotOrReply(r, argv[2]!);
  if (slot === null) return;
  const action = argv[3]!.toLowerCase();
  const lookup = (id: string): ClusterNode | undefined => st.lookup(id);
  if (action === 'migrating' && argv.length === 5) {
    if (st.slots[slot] !== me) return r.error(`ERR I'm not the owner of hash slot ${slot}`);
    const n = lookup(argv[4]!);
    if (!n) return r.error(`ERR I don't know about node ${argv[4]}`);
    if (n.isReplica) return r.error('ERR Target node is not a master');
    st.setMigrating(slot, n);
  } else if (action === 'importing' && argv.length === 5) {
    if (st.slots[slot] === me) return r.error(`ERR I'm already the owner of hash slot ${slot}`);
    const n = lookup(argv[4]!);
    if (!n) return r.error(`ERR I don't know about node ${argv[4]}`);
    if (n.isReplica) return r.error('ERR Target node is not a master');
    st.setImporting(slot, n);
  } else if (action === 'stable' && argv.length === 4) {
    st.setImporting(slot, null);
    st.setMigrating(slot, null);
  } else if (action === 'node' && argv.length === 5) {
    const n = lookup(argv[4]!);
    if (!n) return r.error(`ERR Unknown node ${argv[4]}`);
    if (n.isReplica) return r.error('ERR Target node is not a master');
    if (st.slots[slot] === me && n !== me && mode.countKeysInSlot(slot) !== 0) {
      return r.error(`ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`);
    }
    if (mode.countKeysInSlot(slot) === 0 && st.migratingTo[slot]) st.setMigrating(slot, null);
    const wasMine = st.slots[slot] === me;
    st.delSlot(slot);
    st.addSlot(n, slot);
    if (wasMine && n !== me && me.numSlots === 0 && ctx.server.config.getBool('cluster-allow-replica-migration')) {
      ctx.server.log('warning', `Configuration change detected. Reconfiguring myself as a replica of ${n.name}`);
      c.setMaster(n);
      c.todoSaveAndUpdate(true);
    }
    if (n === me && st.importingFrom[slot]) {
      if (c.bumpConfigEpochWithoutConsensus()) ctx.server.log('warning', `configEpoch updated after importing slot ${slot}`);
      st.setImporting(slot, null);
      c.broadcastPongAfterReplies();
    }
  } else {
    return r.error('ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
  }
  c.todoSaveAndUpdate();
  r.ok();
}

function reset(mode: ClusterModeApi, hard: boolean): void {
  const c = mode.cluster;
  const st = c.state;
  const me = c.myself;
  if (me.isReplica) {
    c.setNodeAsMaster(me);
    c.stopReplicating();
    mode.emptyData();
  }
  st.closeAllSlots();
  c.resetManualFailover();
  for (let j = 0; j < CLUSTER_SLOTS; j++) st.delSlot(j);
  for (const n of [...st.nodes.values()]) if (n !== me) c.deleteNode(n);
  if (hard) {
    st.currentEpoch = 0n;
    st.lastVoteEpoch = 0n;
    me.configEpoch = 0n;
    ctx_log(c, 'warning', 'configEpoch set to 0 via CLUSTER RESET HARD');
    st.renameNode(me, randomName());
    ctx_log(c, 'notice', `Node hard reset, now I'm ${me.name}`);
  }
  c.todoSaveAndUpdate(true);
}

function ctx_log(c: Cluster, level: 'warning' | 'notice', msg: string): void {
  c.log(level, msg);
}

function randomName(): string {
  const hex = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 40; i++) s += hex[Math.floor(Math.random() * 16)];
  return s;
}

function linksReply(ctx: CommandContext, mode: ClusterModeApi): void {
  const entries: Array<{ inbound: boolean; node: ClusterNode; ctime: number; used: number }> = [];
  for (const n of mode.cluster.state.nodes.values()) {
    for (const l of [n.link, n.inboundLink]) {
      if (!l) continue;
      const link = l as unknown as { inbound: boolean; ctime: number; sendBufferUsed: number };
      entries.push({ inbound: link.inbound, node: n, ctime: link.ctime, used: link.sendBufferUsed });
    }
  }
  ctx.reply.arrayHeader(entries.length);
  for (const e of entries) {
    ctx.reply.mapHeader(6);
    ctx.reply.bulk('direction');
    ctx.reply.bulk(e.inbound ? 'from' : 'to');
    ctx.reply.bulk('node');
    ctx.reply.bulk(e.node.name);
    ctx.reply.bulk('create-time');
    ctx.reply.integer(e.ctime);
    ctx.reply.bulk('events');
    ctx.reply.bulk(e.used > 0 ? 'rw' : 'r');
    ctx.reply.bulk('send-buffer-allocated');
    ctx.reply.integer(e.used);
    ctx.reply.bulk('send-buffer-used');
    ctx.reply.integer(e.used);
  }
}

function clusterCommand(ctx: CommandContext, argv: string[]): void {
  const mode = clusterModeOf(ctx.server);
  const r = ctx.reply;
  if (!mode) return r.error(DISABLED);
  const c = mode.cluster;
  const st = c.state;
  const me = c.myself;
  const sub = argv[1]!.toLowerCase();
  const argc = argv.length;
  if (sub === 'help' && argc === 2) {
    r.arrayHeader(HELP.length);
    for (const line of HELP) r.simple(line);
  } else if (sub === 'meet' && (argc === 4 || argc === 5)) {
    const port = parseLL(argv[3]!);
    if (port === null) return r.error(`ERR Invalid TCP base port specified: ${argv[3]}`);
    let cport = port + BigInt(CLUSTER_PORT_INCR);
    if (argc === 5) {
      const p = parseLL(argv[4]!);
      if (p === null) return r.error(`ERR Invalid TCP bus port specified: ${argv[4]}`);
      cport = p;
    }
    const inRange = (v: bigint): number => (v > 0n && v <= 65535n ? Number(v) : -1);
    const res = c.startHandshake(argv[2]!, inRange(port), inRange(cport));
    if (res === 'invalid') return r.error(`ERR Invalid node address specified: ${argv[2]}:${argv[3]}`);
    r.ok();
  } else if (sub === 'nodes' && argc === 2) {
    r.verbatim(st.describeNodes(), 'txt');
  } else if (sub === 'myid' && argc === 2) {
    r.bulk(me.name);
  } else if (sub === 'slots' && argc === 2) {
    slotsReply(ctx, mode);
  } else if (sub === 'shards' && argc === 2) {
    shardsReply(ctx, mode);
  } else if (sub === 'flushslots' && argc === 2) {
    if (mode.dbSize() !== 0) return r.error('ERR DB must be empty to perform CLUSTER FLUSHSLOTS.');
    st.delNodeSlots(me);
    c.todoSaveAndUpdate();
    r.ok();
  } else if ((sub === 'addslots' || sub === 'delslots') && argc >= 3) {
    const del = sub === 'delslots';
    const slots = collectSlots(ctx, mode, argv.slice(2).map((a) => [a, a]), del, false);
    if (!slots) return;
    applySlots(mode, slots, del);
    r.ok();
  } else if ((sub === 'addslotsrange' || sub === 'delslotsrange') && argc >= 4) {
    if (argc % 2 === 1) return r.error(`ERR wrong number of arguments for 'cluster|${sub}' command`);
    const ranges: Array<[string, string]> = [];
    for (let j = 2; j < argc; j += 2) ranges.push([argv[j]!, argv[j + 1]!]);
    const del = sub === 'delslotsrange';
    const slots = collectSlots(ctx, mode, ranges, del, true);
    if (!slots) return;
    applySlots(mode, slots, del);
    r.ok();
  } else if (sub === 'setslot' && argc >= 4) {
    setslot(ctx, mode, argv);
  } else if (sub === 'bumpepoch' && argc === 2) {
    const bumped = c.bumpConfigEpochWithoutConsensus();
    r.simple(`${bumped ? 'BUMPED' : 'STILL'} ${me.configEpoch}`);
  } else if (sub === 'info' && argc === 2) {
    r.verbatim(infoText(mode), 'txt');
  } else if (sub === 'saveconfig' && argc === 2) {
    if (c.save(true)) r.ok();
    else r.error('ERR error saving the cluster node config: Permission denied');
  } else if (sub === 'keyslot' && argc === 3) {
    r.integer(keyHashSlot(argv[2]!));
  } else if (sub === 'countkeysinslot' && argc === 3) {
    const slot = parseLL(argv[2]!);
    if (slot === null) return r.error('ERR value is not an integer or out of range');
    if (slot < 0n || slot >= BigInt(CLUSTER_SLOTS)) return r.error('ERR Invalid slot');
    r.integer(mode.countKeysInSlot(Number(slot)));
  } else if (sub === 'getkeysinslot' && argc === 4) {
    const slot = parseLL(argv[2]!);
    if (slot === null) return r.error('ERR value is not an integer or out of range');
    const max = parseLL(argv[3]!);
    if (max === null) return r.error('ERR value is not an integer or out of range');
    if (slot < 0n || slot >= BigInt(CLUSTER_SLOTS) || max < 0n) return r.error('ERR Invalid slot or number of keys');
    r.bulkArray(mode.keysInSlot(Number(slot), max > 1000000000n ? 1000000000 : Number(max)));
  } else if (sub === 'forget' && argc === 3) {
    const n = st.lookup(argv[2]!);
    if (!n) return r.error(`ERR Unknown node ${argv[2]}`);
    if (n === me) return r.error("ERR I tried hard but I can't forget myself...");
    if (me.isReplica && me.replicaOf === n) return r.error("ERR Can't forget my master!");
    c.blacklistAdd(n);
    c.deleteNode(n);
    c.todoSaveAndUpdate();
    r.ok();
  } else if (sub === 'replicate' && argc === 3) {
    const n = st.lookup(argv[2]!);
    if (!n) return r.error(`ERR Unknown node ${argv[2]}`);
    if (n === me) return r.error("ERR Can't replicate myself");
    if (n.isReplica) return r.error('ERR I can only replicate a master, not a replica.');
    if (me.isMaster && (me.numSlots !== 0 || mode.dbSize() !== 0)) {
      return r.error('ERR To set a master the node must be empty and without assigned slots.');
    }
    c.setMaster(n);
    c.todoSaveAndUpdate();
    r.ok();
  } else if ((sub === 'slaves' || sub === 'replicas') && argc === 3) {
    const n = st.lookup(argv[2]!);
    if (!n) return r.error(`ERR Unknown node ${argv[2]}`);
    if (n.isReplica) return r.error('ERR The specified node is not a master');
    r.bulkArray(n.replicas.map((x) => st.describeNode(x)));
  } else if (sub === 'count-failure-reports' && argc === 3) {
    const n = st.lookup(argv[2]!);
    if (!n) return r.error(`ERR Unknown node ${argv[2]}`);
    r.integer(n.failureReportCount(c.nodeTimeout * 2, Date.now()));
  } else if (sub === 'failover' && (argc === 2 || argc === 3)) {
    let force = false;
    let takeover = false;
    if (argc === 3) {
      const opt = argv[2]!.toLowerCase();
      if (opt === 'force') force = true;
      else if (opt === 'takeover') force = takeover = true;
      else return r.error('ERR syntax error');
    }
    if (me.isMaster) return r.error('ERR You should send CLUSTER FAILOVER to a replica');
    if (me.replicaOf === null) return r.error("ERR I'm a replica but my master is unknown to me");
    if (!force && (me.replicaOf.failed || me.replicaOf.link === null)) {
      return r.error('ERR Master is down or failed, please use CLUSTER FAILOVER FORCE');
    }
    c.resetManualFailover();
    c.mfEnd = Date.now() + 5000;
    if (takeover) {
      ctx.server.log('warning', 'Taking over the master (user request).');
      c.bumpConfigEpochWithoutConsensus();
      c.failoverReplaceMaster();
    } else if (force) {
      ctx.server.log('warning', 'Forced failover user request accepted.');
      c.mfCanStart = true;
    } else {
      ctx.server.log('warning', 'Manual failover user request accepted.');
      c.sendMfStart(me.replicaOf);
    }
    r.ok();
  } else if (sub === 'set-config-epoch' && argc === 3) {
    const epoch = parseLL(argv[2]!);
    if (epoch === null) return r.error('ERR value is not an integer or out of range');
    if (epoch < 0n) return r.error(`ERR Invalid config epoch specified: ${epoch}`);
    if (st.nodes.size > 1) return r.error('ERR The user can assign a config epoch only when the node does not know any other node.');
    if (me.configEpoch !== 0n) return r.error('ERR Node config epoch is already non-zero');
    me.configEpoch = epoch;
    ctx.server.log('warning', `configEpoch set to ${epoch} via CLUSTER SET-CONFIG-EPOCH`);
    if (st.currentEpoch < epoch) st.currentEpoch = epoch;
    c.todoSaveAndUpdate();
    r.ok();
  } else if (sub === 'reset' && (argc === 2 || argc === 3)) {
    let hard = false;
    if (argc === 3) {
      const opt = argv[2]!.toLowerCase();
      if (opt === 'hard') hard = true;
      else if (opt !== 'soft') return r.error('ERR syntax error');
    }
    if (me.isMaster && ctx.db.size() !== 0) return r.error("ERR CLUSTER RESET can't be called with master nodes containing keys");
    reset(mode, hard);
    r.ok();
  } else if (sub === 'links' && argc === 2) {
    linksReply(ctx, mode);
  } else {
    r.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try CLUSTER HELP.`);
  }
}

function sub(name: string, arity: number, flags: string, categories: string): CommandSpec {
  return def(`cluster|${name}`, arity, flags, NOKEYS, categories, clusterCommand);
}

const ADMIN = 'admin slow dangerous';

const clusterSubs: CommandSpec[] = [
  sub('addslots', -3, 'no_async_loading admin stale', ADMIN),
  sub('addslotsrange', -4, 'no_async_loading admin stale', ADMIN),
  sub('bumpepoch', 2, 'no_async_loading admin stale', ADMIN),
  sub('count-failure-reports', 3, 'admin stale', ADMIN),
  sub('countkeysinslot', 3, 'stale', 'slow'),
  sub('delslots', -3, 'no_async_loading admin stale', ADMIN),
  sub('delslotsrange', -4, 'no_async_loading admin stale', ADMIN),
  sub('failover', -2, 'no_async_loading admin stale', ADMIN),
  sub('flushslots', 2, 'no_async_loading admin stale', ADMIN),
  sub('forget', 3, 'no_async_loading admin stale', ADMIN),
  sub('getkeysinslot', 4, 'stale', 'slow'),
  sub('help', 2, 'loading stale', 'slow'),
  sub('info', 2, 'stale', 'slow'),
  sub('keyslot', 3, 'stale', 'slow'),
  sub('links', 2, 'stale', 'slow'),
  sub('meet', -4, 'no_async_loading admin stale', ADMIN),
  sub('myid', 2, 'stale', 'slow'),
  sub('nodes', 2, 'stale', 'slow'),
  sub('replicas', 3, 'admin stale', ADMIN),
  sub('replicate', 3, 'no_async_loading admin stale', ADMIN),
  sub('reset', -2, 'admin stale noscript', ADMIN),
  sub('saveconfig', 2, 'no_async_loading admin stale', ADMIN),
  sub('set-config-epoch', 3, 'no_async_loading admin stale', ADMIN),
  sub('setslot', -4, 'no_async_loading admin stale', ADMIN),
  sub('shards', 2, 'stale', 'slow'),
  sub('slaves', 3, 'admin stale', ADMIN),
  sub('slots', 2, 'stale', 'slow'),
];

function clientFlagCommand(apply: (mode: ClusterModeApi, client: ClientState) => void) {
  return (ctx: CommandContext): void => {
    const mode = clusterModeOf(ctx.server);
    if (!mode) return ctx.reply.error(DISABLED);
    apply(mode, ctx.client);
    ctx.reply.ok();
  };
}

export const commands: CommandSpec[] = [
  def('cluster', -2, '', NOKEYS, 'slow', (ctx, argv) => {
    ctx.reply.error(`ERR unknown subcommand '${argv[1] ?? ''}'. Try CLUSTER HELP.`);
  }, clusterSubs),
  def('asking', 1, 'fast', NOKEYS, 'fast connection', clientFlagCommand((m, c) => m.setAsking(c, true))),
  def('readonly', 1, 'fast loading stale', NOKEYS, 'fast connection', clientFlagCommand((m, c) => m.setReadonly(c, true))),
  def('readwrite', 1, 'fast loading stale', NOKEYS, 'fast connection', clientFlagCommand((m, c) => m.setReadonly(c, false))),
];

