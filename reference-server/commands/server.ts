/** Server family: INFO CONFIG COMMAND TIME LASTSAVE DBSIZE SHUTDOWN DEBUG MONITOR SLOWLOG. */
import os from 'node:os';
import type { CommandContext, CommandSpec, Reply, ServerApi, Value } from './command.js';
import { typeOf } from '../store/types.js';
import { KeyspaceDb } from '../store/db.js';
import { container, def, NOKEYS, parseIntArg } from './define.js';
import { REDIS_VERSION } from '../config/config.js';
import { globMatch } from '../server/glob.js';
import { replyHelp } from './help.js';
import { keyFlags } from './key-specs.js';
import { parseMemory } from '../config/directives.js';
import { formatDouble17g } from '../resp/writer.js';
import { createDumpPayload } from '../persistence/dump.js';
import { sha1Into } from '../store/sha1.js';

// ---- INFO ----

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace'];
const ALL_SECTIONS = [...DEFAULT_SECTIONS.slice(0, 8), 'commandstats', 'errorstats', 'latencystats', 'cluster', 'keyspace'];

function title(s: string): string {
  if (s === 'cpu') return 'CPU';
  return s[0].toUpperCase() + s.slice(1);
}

function sectionLines(s: ServerApi, name: string): string[] | undefined {
  const now = Date.now();
  const uptime = Math.floor((now - s.startedAt) / 1000);
  switch (name) {
    case 'server':
      return [
        `redis_version:${REDIS_VERSION}`, 'redis_git_sha1:00000000', 'redis_git_dirty:0', 'redis_build_id:0000000000000000',
        `redis_mode:${s.mode}`, `os:${os.type()} ${os.release()} ${os.arch() === 'x64' ? 'x86_64' : os.arch()}`, 'arch_bits:64',
        'monotonic_clock:POSIX clock_gettime', 'multiplexing_api:epoll', 'atomicvar_api:c11-builtin', 'gcc_version:0.0.0',
        `process_id:${process.pid}`, 'process_supervised:no', `run_id:${s.runId}`, `tcp_port:${s.tcpPort}`,
        `server_time_usec:${now * 1000}`, `uptime_in_seconds:${uptime}`, `uptime_in_days:${Math.floor(uptime / 86400)}`,
        `hz:${s.config.get('hz')}`, `configured_hz:${s.config.get('hz')}`, `lru_clock:${Math.floor(now / 1000) & 0xffffff}`,
        `executable:${process.argv[1] ?? ''}`, `config_file:${s.config.configFile}`, 'io_threads_active:0',
      ];
    case 'clients': {
      // As in Redis 7.0, a client held by CLIENT PAUSE is blocked (BLOCKED_POSTPONE), without a timeout.
      let blocked = 0;
      let timed = 0;
      for (const c of s.clients.values()) {
        if (c.blocked || c.paused) blocked++;
        if (c.blocked && c.blocked.deadline > 0) timed++;
      }
      return [
        `connected_clients:${[...s.clients.values()].filter((c) => c.kind !== 'replica').length}`, 'cluster_connections:0',
        `maxclients:${s.config.get('maxclients')}`, 'client_recent_max_input_buffer:0', 'client_recent_max_output_buffer:0',
        `blocked_clients:${blocked}`, `tracking_clients:${s.tracking.clients}`, `clients_in_timeout_table:${timed}`,
      ];
    }
    case 'memory': {
      const m = process.memoryUsage();
      const human = (n: number) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)}G` : n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)}M` : n >= 1024 ? `${(n / 1024).toFixed(2)}K` : `${n}B`);
      const used = s.usedMemory();
      const peak = Math.max(used, s.memoryPeak);
      s.memoryPeak = peak;
      const maxmem = Number(s.config.get('maxmemory'));
      return [
        `used_memory:${used}`, `used_memory_human:${human(used)}`, `used_memory_rss:${m.rss}`, `used_memory_rss_human:${human(m.rss)}`,
        `used_memory_peak:${peak}`, `used_memory_peak_human:${human(peak)}`, `used_memory_peak_perc:${((used / peak) * 100).toFixed(2)}%`,
        'used_memory_overhead:0', 'used_memory_startup:0', `used_memory_dataset:${used}`, 'used_memory_dataset_perc:100.00%',
        `allocator_allocated:${m.heapUsed}`, `allocator_active:${m.heapTotal}`, `allocator_resident:${m.rss}`,
        `total_system_memory:${os.totalmem()}`, `total_system_memory_human:${human(os.totalmem())}`,
        'used_memory_lua:0', 'used_memory_vm_eval:0', 'used_memory_lua_human:0B', 'used_memory_scripts_eval:0', 'number_of_cached_scripts:0',
        'number_of_functions:0', 'number_of_libraries:0', 'used_memory_vm_functions:0', 'used_memory_vm_total:0', 'used_memory_vm_total_human:0B',
        'used_memory_functions:0', 'used_memory_scripts:0', 'used_memory_scripts_human:0B',
        `maxmemory:${maxmem}`, `maxmemory_human:${human(maxmem)}`, `maxmemory_policy:${s.config.get('maxmemory-policy')}`,
        `allocator_frag_ratio:${(m.heapTotal / Math.max(1, m.heapUsed)).toFixed(2)}`, `allocator_frag_bytes:${m.heapTotal - m.heapUsed}`,
        `allocator_rss_ratio:${(m.rss / Math.max(1, m.heapTotal)).toFixed(2)}`, `allocator_rss_bytes:${m.rss - m.heapTotal}`,
        'rss_overhead_ratio:1.00', 'rss_overhead_bytes:0', `mem_fragmentation_ratio:${(m.rss / Math.max(1, used)).toFixed(2)}`,
        `mem_fragmentation_bytes:${m.rss - used}`, 'mem_not_counted_for_evict:0', 'mem_replication_backlog:0', 'mem_total_replication_buffers:0',
        'mem_clients_slaves:0', 'mem_clients_normal:0', 'mem_cluster_links:0', 'mem_aof_buffer:0', 'mem_allocator:v8',
        'active_defrag_running:0', 'lazyfree_pending_objects:0', 'lazyfreed_objects:0',
      ];
    }
    case 'persistence':
      return s.persistence.infoLines();
    case 'stats': {
      const st = s.stats;
      return [
        `total_connections_received:${st.total_connections_received}`, `total_commands_processed:${st.total_commands_processed}`,
        'instantaneous_ops_per_sec:0', `total_net_input_bytes:${s.net.in}`, `total_net_output_bytes:${s.net.out}`,
        'total_net_repl_input_bytes:0', 'total_net_repl_output_bytes:0', 'instantaneous_input_kbps:0.00', 'instantaneous_output_kbps:0.00',
        'instantaneous_input_repl_kbps:0.00', 'instantaneous_output_repl_kbps:0.00', `rejected_connections:${st.rejected_connections}`,
        `sync_full:${st.sync_full}`, `sync_partial_ok:${st.sync_partial_ok}`, `sync_partial_err:${st.sync_partial_err}`,
        `expired_keys:${st.expired_keys}`, `expired_stale_perc:0.00`, 'expired_time_cap_reached_count:0', 'expire_cycle_cpu_milliseconds:0',
        `evicted_keys:${st.evicted_keys}`, 'evicted_clients:0', 'total_eviction_exceeded_time:0', 'current_eviction_exceeded_time:0',
        `keyspace_hits:${st.keyspace_hits}`, `keyspace_misses:${st.keyspace_misses}`, `pubsub_channels:${s.channels.size}`,
        `pubsub_patterns:${s.patterns.size}`, `pubsubshard_channels:${s.shardChannels.size}`, 'latest_fork_usec:0', 'total_forks:0', `migrate_cached_sockets:${st.migrate_cached_sockets ?? 0}`,
        'slave_expires_tracked_keys:0', 'active_defrag_hits:0', 'active_defrag_misses:0', 'active_defrag_key_hits:0',
        'active_defrag_key_misses:0', 'total_active_defrag_time:0', 'current_active_defrag_time:0', `tracking_total_keys:${s.tracking.totalKeys}`,
        `tracking_total_items:${s.tracking.totalItems}`, `tracking_total_prefixes:${s.tracking.totalPrefixes}`, `unexpected_error_replies:${st.unexpected_error_replies}`,
        `total_error_replies:${st.total_error_replies}`, 'dump_payload_sanitizations:0', `total_reads_processed:${st.total_reads_processed}`,
        `total_writes_processed:${st.total_reads_processed}`, 'io_threaded_reads_processed:0', 'io_threaded_writes_processed:0',
        'reply_buffer_shrinks:0', 'reply_buffer_expands:0',
      ];
    }
    case 'replication':
      return s.replication.infoLines();
    case 'cpu': {
      const u = process.cpuUsage();
      return [
        `used_cpu_sys:${(u.system / 1e6).toFixed(6)}`, `used_cpu_user:${(u.user / 1e6).toFixed(6)}`,
        'used_cpu_sys_children:0.000000', 'used_cpu_user_children:0.000000',
        'used_cpu_sys_main_thread:' + (u.system / 1e6).toFixed(6), 'used_cpu_user_main_thread:' + (u.user / 1e6).toFixed(6),
      ];
    }
    case 'modules':
      return [];
    case 'commandstats': {
      const out: string[] = [];
      for (const [n, st] of s.commandStats) {
        if (st.calls === 0 && st.rejected === 0 && st.failed === 0) continue;
        out.push(`cmdstat_${n}:calls=${st.calls},usec=${st.usec},usec_per_call=${(st.calls ? st.usec / st.calls : 0).toFixed(2)},rejected_calls=${st.rejected},failed_calls=${st.failed}`);
      }
      return out;
    }
    case 'latencystats': {
      const pcts = (s.config.get('latency-tracking-info-percentiles') ?? '').split(/\s+/).filter((p) => p !== '').map(Number);
      const out: string[] = [];
      for (const [n, st] of s.commandStats) {
        const hist = st.hist;
        if (hist === null || hist.total === 0) continue;
        const parts = pcts.map((p) => `p${String(p)}=${(hist.valueAtPercentile(p) / 1000).toFixed(3)}`);
        out.push(`latency_percentiles_usec_${n}:${parts.join(',')}`);
      }
      return out;
    }
    case 'errorstats':
      return [...s.errorStats].map(([p, n]) => `errorstat_${p}:count=${n}`);
    case 'cluster': {
      const extra = s.extraInfo.get('cluster');
      return extra ? extra() : [`cluster_enabled:${s.mode === 'cluster' ? 1 : 0}`];
    }
    case 'keyspace': {
      const out: string[] = [];
      for (const db of s.dbs) {
        const n = db.size();
        if (n === 0) continue;
        const exp = db.expiresCount();
        out.push(`db${db.index}:keys=${n},expires=${exp},avg_ttl=${Math.max(0, Math.round(db.avgTtl()))}`);
      }
      return out;
    }
    default: {
      const extra = s.extraInfo.get(name);
      return extra ? extra() : undefined;
    }
  }
}

/** Builds INFO's text for the requested section names (Redis 7.0 rules for default/all/everything). */
export function buildInfo(s: ServerApi, args: string[]): string {
  let names: string[] = [];
  const lower = args.map((a) => a.toLowerCase());
  if (lower.length === 0) names = DEFAULT_SECTIONS;
  for (const a of lower) {
    if (a === 'default') names.push(...DEFAULT_SECTIONS);
    else if (a === 'all' || a === 'everything') names.push(...ALL_SECTIONS, ...s.extraInfo.keys());
    else names.push(a);
  }
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const n of names) {
    if (seen.has(n)) continue;
    seen.add(n);
    const lines = sectionLines(s, n);
    if (lines === undefined) continue;
    parts.push(`# ${title(n)}\r\n` + lines.map((l) => l + '\r\n').join(''));
  }
  return parts.join('\r\n');
}

const info = def('info', -1, 'loading stale sentinel', NOKEYS, 'slow dangerous', (ctx, argv) => {
  ctx.reply.verbatim(buildInfo(ctx.server, argv.slice(1)));
});

// ---- CONFIG ----

const configSubs: CommandSpec[] = [
  def('config|get', -3, 'admin noscript loading stale', NOKEYS, 'admin slow dangerous', (ctx, argv) => {
    const pairs = ctx.server.config.getMatching(argv.slice(2));
    ctx.reply.mapHeader(pairs.length);
    for (const [k, v] of pairs) {
      ctx.reply.bulk(k);
      ctx.reply.bulk(v);
    }
  }),
  def('config|set', -4, 'admin noscript loading stale', NOKEYS, 'admin slow dangerous', (ctx, argv) => {
    if (argv.length % 2 !== 0) {
      ctx.reply.error('ERR syntax error');
      return;
    }
    const pairs: [string, string][] = [];
    for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i], argv[i + 1]]);
    const err = ctx.server.config.setMany(pairs);
    if (err) ctx.reply.error(err);
    else ctx.reply.ok();
  }),
  def('config|resetstat', 2, 'admin noscript loading stale', NOKEYS, 'admin slow dangerous', (ctx) => {
    const s = ctx.server;
    for (const k of Object.keys(s.stats)) if (k !== 'dirty') s.stats[k] = 0;
    s.commandStats.clear();
    s.errorStats.clear();
    ctx.reply.ok();
  }),
  def('config|rewrite', 2, 'admin noscript loading stale', NOKEYS, 'admin slow dangerous', (ctx) => {
    const s = ctx.server;
    const err = s.config.rewrite();
    if (err) {
      s.log('warning', `CONFIG REWRITE failed: ${err}`);
      ctx.reply.error(err);
    } else {
      s.log('notice', 'CONFIG REWRITE executed with success.');
      ctx.reply.ok();
    }
  }),
  def('config|help', 2, 'loading stale', NOKEYS, 'slow', (ctx) => replyHelp(ctx.reply, 'CONFIG')),
];

// ---- COMMAND ----

function allSpecs(s: ServerApi): CommandSpec[] {
  const seen = new Set<CommandSpec>();
  for (const spec of s.commands.values()) seen.add(spec);
  return [...seen];
}

/** Command tips as Redis 7.0 reports them (COMMAND INFO / DOCS), for this family's commands. */
const TIPS: Record<string, string[]> = {
  ping: ['request_policy:all_shards', 'response_policy:all_succeeded'],
  info: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'],
  command: ['nondeterministic_output_order'],
  'command|info': ['nondeterministic_output_order'],
  'command|docs': ['nondeterministic_output_order'],
  'command|list': ['nondeterministic_output_order'],
  time: ['nondeterministic_output'],
  lastsave: ['nondeterministic_output'],
  dbsize: ['request_policy:all_shards', 'response_policy:agg_sum'],
  'client|info': ['nondeterministic_output'],
  'client|list': ['nondeterministic_output'],
  'config|set': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
  'slowlog|len': ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'],
  'slowlog|get': ['request_policy:all_nodes', 'nondeterministic_output'],
  'slowlog|reset': ['request_policy:all_nodes', 'response_policy:all_succeeded'],
};

function writeCommandInfo(r: Reply, spec: CommandSpec): void {
  r.arrayHeader(10);
  r.bulk(spec.name);
  r.integer(spec.arity);
  // Redis does not list these in COMMAND replies.
  const shown = spec.flags.filter((f) => f !== 'sentinel' && f !== 'only_sentinel' && f !== 'protected');
  r.setHeader(shown.length);
  for (const f of shown) r.simple(f);
  r.integer(spec.firstKey);
  r.integer(spec.lastKey);
  r.integer(spec.step);
  r.setHeader(spec.categories.length);
  for (const c of spec.categories) r.simple('@' + c);
  const tips = TIPS[spec.name] ?? [];
  r.setHeader(tips.length);
  for (const t of tips) r.bulk(t);
  if (spec.firstKey > 0) {
    r.setHeader(1);
    r.mapHeader(3);
    r.bulk('flags');
    // Approximates Redis's key-spec flags from the command flags (exact per-command specs are not modelled).
    const ks = spec.flags.includes('write') ? ['RW', 'update'] : spec.flags.includes('readonly') ? ['RO', 'access'] : [];
    r.setHeader(ks.length);
    for (const f of ks) r.simple(f);
    r.bulk('begin_search');
    r.mapHeader(2);
    r.bulk('type');
    r.bulk('index');
    r.bulk('spec');
    r.mapHeader(1);
    r.bulk('index');
    r.integer(spec.firstKey);
    r.bulk('find_keys');
    r.mapHeader(2);
    r.bulk('type');
    r.bulk('range');
    r.bulk('spec');
    r.mapHeader(3);
    r.bulk('lastkey');
    r.integer(spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey);
    r.bulk('keystep');
    r.integer(spec.step);
    r.bulk('limit');
    r.integer(0);
  } else {
    r.setHeader(0);
  }
  const subs = spec.subcommands ?? [];
  r.setHeader(subs.length);
  for (const sub of subs) writeCommandInfo(r, sub);
}

function findSpec(s: ServerApi, name: string): CommandSpec | undefined {
  const bar = name.indexOf('|');
  if (bar < 0) return s.lookup(name);
  const parent = s.lookup(name.slice(0, bar));
  return parent?.subcommands?.find((x) => x.name === name.toLowerCase());
}

/** Keys of a command line from its spec (first/last/step or getKeys), for COMMAND GETKEYS and cluster routing. */
export function commandKeys(spec: CommandSpec, argv: string[]): string[] {
  if (spec.getKeys) return spec.getKeys(argv);
  if (spec.firstKey <= 0) return [];
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
  const keys: string[] = [];
  for (let i = spec.firstKey; i <= last && i < argv.length; i += spec.step || 1) keys.push(argv[i]);
  return keys;
}

/** COMMAND GETKEYS / GETKEYSANDFLAGS (getKeysSubcommandImpl): the keys of a full command, with their key-spec flags. */
function getKeysReply(ctx: CommandContext, argv: string[], withFlags: boolean): void {
  const s = ctx.server;
  let spec = s.lookup(argv[2]);
  if (spec?.subcommands && argv.length > 3) spec = spec.subcommands.find((x) => x.name.endsWith('|' + argv[3].toLowerCase())) ?? spec;
  const sub = argv.slice(2);
  if (!spec) {
    ctx.reply.error('ERR Invalid command specified');
    return;
  }
  if ((spec.arity > 0 && spec.arity !== sub.length) || sub.length < -spec.arity) {
    ctx.reply.error('ERR Invalid number of arguments specified for command');
    return;
  }
  const keys = commandKeys(spec, sub);
  if (keys.length === 0) {
    ctx.reply.error('ERR The command has no key arguments');
    return;
  }
  if (!withFlags) {
    ctx.reply.bulkArray(keys);
    return;
  }
  const flags = keyFlags(spec.name, sub, keys.length);
  ctx.reply.arrayHeader(keys.length);
  keys.forEach((k, i) => {
    ctx.reply.arrayHeader(2);
    ctx.reply.bulk(k);
    ctx.reply.setHeader(flags[i].length);
    for (const f of flags[i]) ctx.reply.simple(f);
  });
}

const commandSubs: CommandSpec[] = [
  def('command|help', 2, 'loading stale', NOKEYS, 'slow connection', (ctx) => replyHelp(ctx.reply, 'COMMAND')),
  def('command|count', 2, 'loading stale', NOKEYS, 'slow connection', (ctx) => {
    ctx.reply.integer(allSpecs(ctx.server).length);
  }),
  def('command|info', -2, 'loading stale', NOKEYS, 'slow connection', (ctx, argv) => {
    const s = ctx.server;
    const specs = argv.length === 2 ? allSpecs(s) : argv.slice(2).map((n) => findSpec(s, n));
    ctx.reply.arrayHeader(specs.length);
    for (const sp of specs) {
      if (sp) writeCommandInfo(ctx.reply, sp);
      else ctx.reply.bulk(null);
    }
  }),
  def('command|docs', -2, 'loading stale', NOKEYS, 'slow connection', (ctx, argv) => {
    const s = ctx.server;
    const specs = (argv.length === 2 ? allSpecs(s) : argv.slice(2).map((n) => findSpec(s, n))).filter((x): x is CommandSpec => !!x);
    ctx.reply.mapHeader(specs.length);
    for (const sp of specs) {
      ctx.reply.bulk(sp.name);
      ctx.reply.mapHeader(2);
      ctx.reply.bulk('summary');
      ctx.reply.bulk(`The ${sp.name.toUpperCase()} command`);
      ctx.reply.bulk('group');
      ctx.reply.bulk(sp.categories.find((c) => !['read', 'write', 'fast', 'slow', 'keyspace', 'dangerous', 'admin', 'blocking'].includes(c)) ?? 'generic');
    }
  }),
  def('command|getkeys', -4, 'loading stale', NOKEYS, 'slow connection', (ctx, argv) => getKeysReply(ctx, argv, false)),
  def('command|getkeysandflags', -4, 'loading stale', NOKEYS, 'slow connection', (ctx, argv) => getKeysReply(ctx, argv, true)),
  def('command|list', -2, 'loading stale', NOKEYS, 'slow connection', (ctx, argv) => {
    const s = ctx.server;
    // Like commandListWithoutFilter, each command is followed by its subcommands ("client|list").
    let specs = allSpecs(s).flatMap((x) => [x, ...(x.subcommands ?? [])]);
    if (argv.length > 2) {
      if (argv.length !== 5 || argv[2].toLowerCase() !== 'filterby') {
        ctx.reply.error('ERR syntax error');
        return;
      }
      const kind = argv[3].toLowerCase();
      const val = argv[4];
      if (kind === 'module') specs = [];
      else if (kind === 'aclcat') specs = specs.filter((x) => x.categories.includes(val.toLowerCase()));
      else if (kind === 'pattern') specs = specs.filter((x) => globMatch(val, x.name, true));
      else {
        ctx.reply.error('ERR syntax error');
        return;
      }
    }
    ctx.reply.bulkArray(specs.map((x) => x.name));
  }),
];

const commandCmd = def('command', -1, 'loading stale', NOKEYS, 'slow connection', (ctx) => {
  const specs = allSpecs(ctx.server);
  ctx.reply.arrayHeader(specs.length);
  for (const sp of specs) writeCommandInfo(ctx.reply, sp);
}, commandSubs);

// ---- misc ----

const time = def('time', 1, 'loading stale fast', NOKEYS, 'fast', (ctx) => {
  const us = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  ctx.reply.bulkArray([String(us / 1000000n), String(us % 1000000n)]);
});

const lastsave = def('lastsave', 1, 'loading stale fast', NOKEYS, 'admin fast dangerous', (ctx) => {
  ctx.reply.integer(ctx.server.persistence.lastSave());
});

const dbsize = def('dbsize', 1, 'readonly fast', NOKEYS, 'keyspace read fast', (ctx) => ctx.reply.integer(ctx.db.size()));

const shutdown = def('shutdown', -1, 'admin noscript loading stale no_multi sentinel allow_busy', NOKEYS, 'admin slow dangerous', (ctx, argv) => {
  let save = false;
  let nosave = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === 'save') save = true;
    else if (a === 'nosave') nosave = true;
    else if (a === 'now' || a === 'force') continue;
    else if (a === 'abort') {
      ctx.reply.error('ERR No shutdown in progress.');
      return;
    } else {
      ctx.reply.error('ERR syntax error');
      return;
    }
  }
  if (save && nosave) {
    ctx.reply.error('ERR syntax error');
    return;
  }
  const err = ctx.server.shutdown({ save, nosave });
  if (err) ctx.reply.error(err);
});

const monitor = def('monitor', 1, 'admin noscript loading stale', NOKEYS, 'admin slow dangerous', (ctx) => {
  const c = ctx.client;
  if (c.monitor) return;
  c.monitor = true;
  ctx.server.monitors.add(c);
  ctx.reply.ok();
});

const slowlogSubs: CommandSpec[] = [
  def('slowlog|get', -2, 'admin loading stale', NOKEYS, 'admin slow dangerous', (ctx, argv) => {
    const s = ctx.server;
    let n = 10;
    if (argv.length > 3) {
      ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try SLOWLOG HELP.`);
      return;
    }
    if (argv.length === 3) {
      const v = parseIntArg(argv[2]);
      if (v === null || v < -1) {
        ctx.reply.error('ERR count should be greater than or equal to -1');
        return;
      }
      n = v === -1 ? s.slowlog.length : v;
    }
    const entries = s.slowlog.slice(0, n);
    ctx.reply.arrayHeader(entries.length);
    for (const e of entries) {
      ctx.reply.arrayHeader(6);
      ctx.reply.integer(e.id);
      ctx.reply.integer(e.time);
      ctx.reply.integer(e.micros);
      ctx.reply.bulkArray(e.argv);
      ctx.reply.bulk(e.addr);
      ctx.reply.bulk(e.name);
    }
  }),
  def('slowlog|len', 2, 'admin loading stale', NOKEYS, 'admin slow dangerous', (ctx) => ctx.reply.integer(ctx.server.slowlog.length)),
  def('slowlog|reset', 2, 'admin loading stale', NOKEYS, 'admin slow dangerous', (ctx) => {
    ctx.server.slowlog.length = 0;
    ctx.reply.ok();
  }),
  def('slowlog|help', 2, 'loading stale', NOKEYS, 'slow', (ctx) => replyHelp(ctx.reply, 'SLOWLOG')),
];

// ---- DEBUG ----

// DEBUG DIGEST / DIGEST-VALUE follow Redis's debug.c scheme (SHA1 mixing, XOR across unordered parts),
// so digests can be compared with a real redis-server holding the same data.
const hashed = new Uint8Array(20);

function xorDigest(digest: Buffer, data: Buffer | string): void {
  sha1Into(data, hashed);
  for (let i = 0; i < 20; i++) digest[i] ^= hashed[i];
}

function mixDigest(digest: Buffer, data: Buffer | string): void {
  xorDigest(digest, data);
  sha1Into(digest, digest);
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Scratch digests of one zset or hash element, and of one key (each is folded into its parent before reuse). */
const element = Buffer.alloc(20);
const keyDigest = Buffer.alloc(20);

const TYPE_CODE: Record<string, number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4 };

/** Redis's xorObjectDigest: type, content, and whether the key has a TTL. */
function objectDigest(digest: Buffer, v: Value, hasExpire: boolean): void {
  const t = typeOf(v);
  mixDigest(digest, u32be(TYPE_CODE[t]));
  if (typeof v === 'string') mixDigest(digest, v);
  else if (t === 'list') for (const e of v as Iterable<string>) mixDigest(digest, e);
  else if (t === 'set') for (const e of v as Set<string>) xorDigest(digest, e);
  else if (t === 'zset') {
    for (const [m, sc] of (v as { entries(): IterableIterator<[string, number]> }).entries()) {
      const ele = element.fill(0);
      mixDigest(ele, m);
      mixDigest(ele, formatDouble17g(sc));
      xorDigest(digest, ele);
    }
  } else {
    for (const [f, x] of v as Map<string, string>) {
      const ele = element.fill(0);
      mixDigest(ele, f);
      mixDigest(ele, x);
      xorDigest(digest, ele);
    }
  }
  if (hasExpire) xorDigest(digest, '!!expire!!');
}

/** DEBUG DIGEST-VALUE of one value. */
function valueDigest(v: Value, hasExpire = false): Buffer {
  const d = Buffer.alloc(20);
  objectDigest(d, v, hasExpire);
  return d;
}

/** DEBUG DIGEST: every db (id mixed in), every key (order independent); 40 zeros when empty. */
export function datasetDigest(s: ServerApi): string {
  const final = Buffer.alloc(20);
  for (const db of s.dbs) {
    if (db.size() === 0) continue;
    mixDigest(final, u32be(db.index));
    for (const k of db.keys()) {
      const v = db.get(k);
      if (v === undefined) continue;
      const d = keyDigest.fill(0);
      mixDigest(d, k);
      objectDigest(d, v, db.getExpire(k) !== undefined);
      xorDigest(final, d);
    }
  }
  return final.toString('hex');
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

const debug = def('debug', -2, 'admin noscript loading stale protected', NOKEYS, 'admin slow dangerous', (ctx: CommandContext, argv) => {
  const s = ctx.server;
  const sub = argv[1].toLowerCase();
  switch (sub) {
    case 'sleep': {
      const secs = Number(argv[2] ?? '0');
      // Blocks the whole server like Redis's DEBUG SLEEP (used to simulate a stuck server).
      if (secs > 0) Atomics.wait(sleepCell, 0, 0, secs * 1000);
      ctx.reply.ok();
      return;
    }
    case 'quicklist-packed-threshold': {
      if (argv.length !== 3) break;
      // Lists here have no plain/packed nodes, so the threshold is validated as Redis does and has nothing to change.
      const sz = parseMemory(argv[2]);
      if (sz === null || sz < 0 || sz > 2 ** 32 - 2 ** 20) ctx.reply.error('ERR argument must be a memory value bigger than 1 and smaller than 4gb');
      else ctx.reply.ok();
      return;
    }
    case 'populate': {
      if (argv.length > 5) break;
      const positive = (a: string): number | null => {
        // Redis gives its one message for a non-number too.
        const n = parseIntArg(a);
        if (n === null || n < 0) ctx.reply.error('ERR value is out of range, must be positive');
        return n === null || n < 0 ? null : n;
      };
      const count = positive(argv[2]);
      if (count === null) return;
      const size = argv.length === 5 ? positive(argv[4]) : 0;
      if (size === null) return;
      const prefix = argv.length === 3 ? 'key' : argv[3];
      for (let j = 0; j < count; j++) {
        const key = `${prefix}:${j}`;
        if (ctx.db.has(key)) continue;
        const text = `value:${j}`;
        // With a size, the value is that many bytes: "value:N" cut or padded with zero bytes.
        ctx.db.add(key, size === 0 ? text : size <= text.length ? text.slice(0, size) : text + '\0'.repeat(size - text.length));
      }
      ctx.reply.ok();
      return;
    }
    case 'replicate': {
      if (argv.length < 3) break;
      // Into the replication stream as if this command had propagated it (tests feed replicas junk this way).
      ctx.propagateAs([argv.slice(2)]);
      ctx.reply.ok();
      return;
    }
    case 'set-active-expire': {
      if (argv.length !== 3) break;
      s.activeExpire = (parseInt(argv[2], 10) || 0) !== 0;
      ctx.reply.ok();
      return;
    }
    case 'object': {
      if (argv.length !== 3) break;
      // Redis looks the key up without expiring it: a replica still shows a logically expired key.
      const v = ctx.db instanceof KeyspaceDb ? ctx.db.storedValue(argv[2]) : ctx.db.get(argv[2]);
      if (v === undefined) {
        ctx.reply.error('ERR no such key');
        return;
      }
      const idle = Math.floor((Date.now() - (ctx.db.lastAccess(argv[2]) ?? Date.now())) / 1000);
      const serialized = serializedLength(s, v);
      const enc = encodingOf(s, v);
      const extra = enc === 'quicklist' ? quicklistStats(s, v as Iterable<string>) : '';
      ctx.reply.simple(`Value at:0x7f0000000000 refcount:1 encoding:${enc} serializedlength:${serialized} lru:${Math.floor(Date.now() / 1000) & 0xffffff} lru_seconds_idle:${idle}${extra}`);
      return;
    }
    case 'digest':
      ctx.reply.simple(datasetDigest(s));
      return;
    case 'digest-value': {
      ctx.reply.arrayHeader(argv.length - 2);
      for (let i = 2; i < argv.length; i++) {
        const v = ctx.db.get(argv[i]);
        ctx.reply.simple(v === undefined ? '0'.repeat(40) : valueDigest(v, ctx.db.getExpire(argv[i]) !== undefined).toString('hex'));
      }
      return;
    }
    case 'reload': {
      try {
        s.persistence.save();
      } catch (e) {
        ctx.reply.error(`ERR Error trying to save the DB: ${(e as Error).message}`);
        return;
      }
      const loader = (s.persistence as { reload?: () => void }).reload;
      if (loader) loader();
      ctx.reply.ok();
      return;
    }
    case 'log': {
      if (argv.length !== 3) break;
      s.log('warning', `DEBUG LOG: ${argv[2]}`);
      ctx.reply.ok();
      return;
    }
    case 'protocol': {
      if (argv.length !== 3) break;
      debugProtocol(ctx, argv[2].toLowerCase());
      return;
    }
    case 'help': {
      const lines = ['DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'DIGEST', 'DIGEST-VALUE <key> [<key> ...]',
        'LOG <message>', 'OBJECT <key>', 'PROTOCOL <type>', 'RELOAD', 'SET-ACTIVE-EXPIRE <0|1>', 'SLEEP <seconds>', 'HELP'];
      ctx.reply.arrayHeader(lines.length);
      for (const l of lines) ctx.reply.simple(l);
      return;
    }
    default: {
      const added = s.debugSubcommand(sub);
      if (added) {
        added(ctx, argv);
        return;
      }
      break;
    }
  }
  ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`);
});

/** The encoding Redis 7.0 would use for a value under the current *-max-* limits. */
function encodingOf(s: ServerApi, v: Value): string {
  const isInt = (x: string) => /^-?[1-9]\d{0,18}$|^0$/.test(x) && Number.isSafeInteger(Number(x));
  const n = (name: string) => s.config.getNumber(name);
  if (typeof v === 'string') return isInt(v) ? 'int' : v.length <= 44 ? 'embstr' : 'raw';
  const t = typeOf(v);
  if (t === 'list') return 'quicklist';
  if (t === 'set') {
    const set = v as Set<string>;
    if (set.size <= n('set-max-intset-entries') && [...set].every(isInt)) return 'intset';
    return 'hashtable';
  }
  if (t === 'hash') {
    const h = v as Map<string, string>;
    const max = n('hash-max-listpack-value');
    if (h.size <= n('hash-max-listpack-entries') && [...h].every(([f, x]) => f.length <= max && x.length <= max)) return 'listpack';
    return 'hashtable';
  }
  const z = v as { size: number; entries(): IterableIterator<[string, number]> };
  const max = n('zset-max-listpack-value');
  if (z.size <= n('zset-max-listpack-entries') && [...z.entries()].every(([m]) => m.length <= max)) return 'listpack';
  return 'skiplist';
}

/** Bytes one element takes in a listpack (encoding + data + back-length), as Redis 7.0 lays it out. */
function listpackEntrySize(e: string): number {
  let body: number;
  if (/^-?(0|[1-9]\d{0,18})$/.test(e) && BigInt(e) >= -(2n ** 63n) && BigInt(e) < 2n ** 63n) {
    const n = BigInt(e);
    body = n >= 0n && n <= 127n ? 1 : n >= -4096n && n < 4096n ? 2 : n >= -32768n && n < 32768n ? 3 : n >= -8388608n && n < 8388608n ? 4 : n >= -2147483648n && n < 2147483648n ? 5 : 9;
  } else {
    body = e.length + (e.length < 64 ? 1 : e.length < 4096 ? 2 : 5);
  }
  const back = body < 128 ? 1 : body < 16384 ? 2 : body < 2097152 ? 3 : body < 268435456 ? 4 : 5;
  return body + back;
}

/** The quicklist fields DEBUG OBJECT adds for lists: nodes filled up to list-max-listpack-size. */
function quicklistStats(s: ServerApi, list: Iterable<string>): string {
  const fill = s.config.getNumber('list-max-listpack-size');
  const maxBytes = fill < 0 ? [4096, 8192, 16384, 32768, 65536][Math.min(5, -fill) - 1] : Infinity;
  const maxCount = fill > 0 ? fill : Infinity;
  let nodes = 0;
  let count = 0;
  let bytes = 0;
  let total = 0;
  let elements = 0;
  for (const e of list) {
    const sz = listpackEntrySize(e);
    if (nodes === 0 || count + 1 > maxCount || bytes + sz > maxBytes) {
      total += bytes;
      nodes++;
      count = 0;
      bytes = 7;
    }
    count++;
    bytes += sz;
    elements++;
  }
  total += bytes;
  return ` ql_nodes:${nodes} ql_avg_node:${(nodes ? elements / nodes : 0).toFixed(2)} ql_listpack_max:${fill} ql_compressed:0 ql_uncompressed_size:${total}`;
}

/** DEBUG OBJECT's serializedlength: the value's RDB encoding size (the DUMP payload minus type byte, version and CRC). */
function serializedLength(s: ServerApi, v: Value): number {
  try {
    return createDumpPayload(v, s.encodingLimits).length - 11;
  } catch {
    return typeof v === 'string' ? rdbStringLen(v) : 1;
  }
}

/** Bytes an uncompressed RDB string takes (length prefix + payload, or the integer encoding). */
function rdbStringLen(v: string): number {
  if (/^-?[1-9]\d{0,9}$|^0$/.test(v)) {
    const n = Number(v);
    if (n >= -128 && n <= 127) return 2;
    if (n >= -32768 && n <= 32767) return 3;
    if (n >= -2147483648 && n <= 2147483647) return 5;
  }
  const len = v.length;
  return len + (len < 64 ? 1 : len < 16384 ? 2 : 5);
}

/** DEBUG PROTOCOL: one sample reply of each RESP type, exactly as Redis 7.0 sends them (RESP2 falls back like Redis). */
function debugProtocol(ctx: CommandContext, type: string): void {
  const r = ctx.reply;
  const resp3 = r.resp === 3;
  switch (type) {
    case 'string': r.bulk('Hello World'); return;
    case 'integer': r.integer(12345); return;
    case 'double': r.double(3.141); return;
    case 'bignum': {
      const n = '1234567999999999999999999999999999999';
      if (resp3) r.raw('(' + n + '\r\n');
      else r.bulk(n);
      return;
    }
    case 'null': r.bulk(null); return;
    case 'array': r.arrayHeader(3); for (let i = 0; i < 3; i++) r.integer(i); return;
    case 'set': r.setHeader(3); for (let i = 0; i < 3; i++) r.integer(i); return;
    case 'map': r.mapHeader(3); for (let i = 0; i < 3; i++) { r.integer(i); r.bool(i === 1); } return;
    case 'attrib':
      if (resp3) r.raw('|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n');
      r.bulk('Some real reply following the attribute');
      return;
    case 'push':
      if (!resp3) {
        r.error('ERR RESP2 is not supported by this command');
        return;
      }
      r.pushHeader(2);
      r.bulk('server-cpu-usage');
      r.integer(42);
      r.bulk('Some real reply following the push reply');
      return;
    case 'verbatim': r.verbatim('This is a verbatim\nstring'); return;
    case 'true': r.bool(true); return;
    case 'false': r.bool(false); return;
    default:
      r.error('ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false');
  }
}

export const commands: CommandSpec[] = [
  info, container('config', 'slow', configSubs), commandCmd, time, lastsave, dbsize, shutdown, monitor,
  container('slowlog', 'slow', slowlogSubs), debug,
];
