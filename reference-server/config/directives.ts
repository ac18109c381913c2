import { statSync } from 'node:fs';
import { keyspaceEventsToFlags, keyspaceEventsToString } from './keyspace-events.js';
/**
 * The directive registry. The server's own directives are defined here; replication, persistence,
 * cluster and sentinel modules add theirs with registerDirective() at import time, before a config is loaded.
 */

export type DirectiveType = 'string' | 'int' | 'memory' | 'bool' | 'enum' | 'multi';

export interface DirectiveDef {
  name: string;
  type: DirectiveType;
  /** Default value as CONFIG GET shows it. */
  default: string;
  /** CONFIG SET refuses it ("can't set immutable config"). */
  immutable?: boolean;
  min?: number;
  max?: number;
  enumValues?: string[];
  /** Other names accepted for it (slaveof for replicaof ...). */
  aliases?: string[];
  /** 'multi' directives given several times in a file accumulate (save) instead of replacing. */
  accumulate?: boolean;
  /** Hidden from CONFIG GET (directives Redis accepts in files only, like include). */
  hidden?: boolean;
  /** Redis's HIDDEN_CONFIG: settable, and CONFIG GET finds it by its exact name only, never by a pattern. */
  exactOnly?: boolean;
  /** Redis's PERCENT_CONFIG: a memory directive that also takes "N%" (N <= 100). */
  percent?: boolean;
  /** Extra check after the type check; returns Redis's error text or undefined. */
  validate?(value: string): string | undefined;
  /** Rewrites a valid value into the form CONFIG GET shows (after validate). */
  normalize?(value: string): string;
}

const registry = new Map<string, DirectiveDef>();
const aliasOf = new Map<string, string>();

/** Adds or replaces a directive definition (last registration wins, so owners may refine a default one). */
export function registerDirective(def: DirectiveDef): void {
  const name = def.name.toLowerCase();
  registry.set(name, { ...def, name });
  for (const a of def.aliases ?? []) aliasOf.set(a.toLowerCase(), name);
}

/** The directive for a name or alias, or undefined. */
export function lookupDirective(name: string): DirectiveDef | undefined {
  const n = name.toLowerCase();
  return registry.get(n) ?? registry.get(aliasOf.get(n) ?? '');
}

export function allDirectives(): Iterable<DirectiveDef> {
  return registry.values();
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3,
};

/** Redis's memtoull: "1gb", "100mb", "512" -> bytes, or null. */
export function parseMemory(v: string): number | null {
  const m = /^(-?\d+)([a-zA-Z]*)$/.exec(v);
  if (!m) return null;
  const unit = MEMORY_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  return parseInt(m[1], 10) * unit;
}

/** Checks a value against a definition; returns the normalised value or an error message (Redis 7.0 texts). */
export function checkValue(def: DirectiveDef, value: string): { value: string } | { error: string } {
  switch (def.type) {
    case 'bool': {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: "argument must be 'yes' or 'no'" };
      value = v;
      break;
    }
    case 'int': {
      if (!/^-?\d+$/.test(value)) return { error: "argument couldn't be parsed into an integer" };
      const n = parseInt(value, 10);
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
        return { error: `argument must be between ${def.min ?? -Number.MAX_SAFE_INTEGER} and ${def.max ?? Number.MAX_SAFE_INTEGER} inclusive` };
      }
      value = String(n);
      break;
    }
    case 'memory': {
      const n = parseMemory(value);
      const pct = def.percent && n === null ? /^(0|[1-9][0-9]*)%$/.exec(value) : null;
      if (pct) {
        if (Number(pct[1]) > 100) return { error: 'percentage argument must be less or equal to 100' };
        value = `${Number(pct[1])}%`;
        break;
      }
      if (n === null) return { error: def.percent ? 'argument must be a memory or percent value' : 'argument must be a memory value' };
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
        return { error: `argument must be between ${def.min ?? 0} and ${def.max ?? Number.MAX_SAFE_INTEGER} inclusive` };
      }
      value = String(n);
      break;
    }
    case 'enum': {
      const v = value.toLowerCase();
      if (!(def.enumValues ?? []).includes(v)) {
        return { error: `argument(s) must be one of the following: ${(def.enumValues ?? []).join(', ')}` };
      }
      value = v;
      break;
    }
    default:
      break;
  }
  if (def.validate) {
    const err = def.validate(value);
    if (err !== undefined) return { error: err };
  }
  if (def.normalize) value = def.normalize(value);
  return { value };
}

function str(name: string, def: string, extra: Partial<DirectiveDef> = {}): void {
  registerDirective({ name, type: 'string', default: def, ...extra });
}
function int(name: string, def: number, min: number, max: number, extra: Partial<DirectiveDef> = {}): void {
  registerDirective({ name, type: 'int', default: String(def), min, max, ...extra });
}
function bool(name: string, def: boolean, extra: Partial<DirectiveDef> = {}): void {
  registerDirective({ name, type: 'bool', default: def ? 'yes' : 'no', ...extra });
}
function mem(name: string, def: number, extra: Partial<DirectiveDef> = {}): void {
  registerDirective({ name, type: 'memory', default: String(def), min: 0, ...extra });
}
function en(name: string, def: string, values: string[], extra: Partial<DirectiveDef> = {}): void {
  registerDirective({ name, type: 'enum', default: def, enumValues: values, ...extra });
}
function multi(name: string, def: string, extra: Partial<DirectiveDef> = {}): void {
  registerDirective({ name, type: 'multi', default: def, ...extra });
}

const INT_MAX = 2147483647;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

// The server's own directives.
int('port', 6379, 0, 65535);
multi('bind', '* -::*');
str('requirepass', '');
str('dir', '', {
  validate: (v) => {
    try {
      return statSync(v).isDirectory() ? undefined : 'Not a directory';
    } catch {
      return 'No such file or directory';
    }
  },
});
str('logfile', '', { immutable: true });
bool('daemonize', false, { immutable: true });
str('pidfile', '', { immutable: true });
bool('protected-mode', true);
int('databases', 16, 1, INT_MAX, { immutable: true });
mem('proto-max-bulk-len', 512 * 1024 * 1024, { min: 1024 * 1024 });
mem('client-query-buffer-limit', 1024 * 1024 * 1024, { min: 1024 * 1024 });
int('maxclients', 10000, 1, INT_MAX);
int('timeout', 0, 0, INT_MAX);
en('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning']);
int('hz', 10, 0, INT_MAX);
int('tcp-backlog', 511, 0, INT_MAX, { immutable: true });
int('tcp-keepalive', 300, 0, INT_MAX);
str('unixsocket', '', { immutable: true });
str('unixsocketperm', '0', { immutable: true });
int('slowlog-log-slower-than', 10000, -1, LONG_MAX);
int('slowlog-max-len', 128, 0, LONG_MAX);
int('latency-monitor-threshold', 0, 0, LONG_MAX);
mem('maxmemory', 0);
en('maxmemory-policy', 'noeviction', ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction']);
int('maxmemory-samples', 5, 1, INT_MAX);
str('syslog-ident', 'redis', { immutable: true });
bool('syslog-enabled', false, { immutable: true });
bool('always-show-logo', false, { immutable: true });
bool('set-proc-title', true, { immutable: true });
str('proc-title-template', '{title} {listen-addr} {server-mode}');
en('supervised', 'no', ['upstart', 'systemd', 'auto', 'no'], { immutable: true });
str('bind-source-addr', '');
int('active-expire-effort', 1, 1, 10);
bool('lazyfree-lazy-eviction', false);
bool('lazyfree-lazy-expire', false);
bool('lazyfree-lazy-server-del', false);
bool('lazyfree-lazy-user-del', false);
bool('lazyfree-lazy-user-flush', false);
bool('activerehashing', true);
bool('activedefrag', false);
bool('jemalloc-bg-thread', true);
bool('crash-log-enabled', true);
bool('crash-memcheck-enabled', true);
bool('io-threads-do-reads', false, { immutable: true });
int('io-threads', 1, 1, 128, { immutable: true });
multi('client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
int('hash-max-listpack-entries', 512, 0, LONG_MAX, { aliases: ['hash-max-ziplist-entries'] });
int('hash-max-listpack-value', 64, 0, LONG_MAX, { aliases: ['hash-max-ziplist-value'] });
int('list-max-listpack-size', -2, -5, INT_MAX, { aliases: ['list-max-ziplist-size'] });
int('list-compress-depth', 0, 0, INT_MAX);
int('set-max-intset-entries', 512, 0, LONG_MAX);
int('zset-max-listpack-entries', 128, 0, LONG_MAX, { aliases: ['zset-max-ziplist-entries'] });
int('zset-max-listpack-value', 64, 0, LONG_MAX, { aliases: ['zset-max-ziplist-value'] });
int('hll-sparse-max-bytes', 3000, 0, LONG_MAX);
int('stream-node-max-bytes', 4096, 0, LONG_MAX);
int('stream-node-max-entries', 100, 0, LONG_MAX);
str('notify-keyspace-events', '', {
  validate: (v) => (keyspaceEventsToFlags(v) === -1 ? "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." : undefined),
  normalize: (v) => keyspaceEventsToString(keyspaceEventsToFlags(v)),
});
int('busy-reply-threshold', 5000, 0, LONG_MAX, { aliases: ['lua-time-limit'] });
bool('dynamic-hz', true);
int('oom-score-adj-values', 0, 0, 0, { type: 'multi', default: '0 200 800' });
en('oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute']);
bool('disable-thp', true, { immutable: true });
en('enable-protected-configs', 'no', ['no', 'yes', 'local'], { immutable: true });
en('enable-debug-command', 'no', ['no', 'yes', 'local'], { immutable: true });
en('enable-module-command', 'no', ['no', 'yes', 'local'], { immutable: true });
str('aclfile', '', { immutable: true });
int('acllog-max-len', 128, 0, LONG_MAX);
en('acl-pubsub-default', 'resetchannels', ['allchannels', 'resetchannels']);
str('masteruser', '');
str('masterauth', '');
str('user', '', { hidden: true, type: 'multi' });
str('include', '', { hidden: true, type: 'multi' });
str('rename-command', '', { hidden: true, type: 'multi' });
str('loadmodule', '', { hidden: true, type: 'multi' });
str('ignore-warnings', '');
int('tracking-table-max-keys', 1000000, 0, LONG_MAX);
bool('tls-replication', false);
bool('tls-cluster', false);
int('tls-port', 0, 0, 65535);
str('tls-cert-file', '');
str('tls-key-file', '');
str('tls-ca-cert-file', '');
bool('tls-auth-clients', true, { type: 'string', default: 'yes' });
bool('aof-disable-auto-gc', false);
str('aof_rewrite_cpulist', '', { immutable: true });
str('bgsave_cpulist', '', { immutable: true });
str('bio_cpulist', '', { immutable: true });
str('server_cpulist', '', { immutable: true });
bool('latency-tracking', true);
multi('latency-tracking-info-percentiles', '50 99 99.9');
en('propagation-error-behavior', 'ignore', ['ignore', 'panic', 'panic-on-replicas']);
bool('replica-ignore-disk-write-errors', false);
en('shutdown-on-sigint', 'default', ['default', 'save', 'nosave', 'now', 'force']);
en('shutdown-on-sigterm', 'default', ['default', 'save', 'nosave', 'now', 'force']);
int('shutdown-timeout', 10, 0, INT_MAX);
int('socket-mark-id', 0, 0, INT_MAX);
en('syslog-facility', 'local0', ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'], { immutable: true });
str('tls-ca-cert-dir', '');
str('tls-ciphers', '');
str('tls-ciphersuites', '');
str('tls-client-cert-file', '');
str('tls-client-key-file', '');
str('tls-client-key-file-pass', '');
str('tls-dh-params-file', '');
str('tls-key-file-pass', '');
bool('tls-prefer-server-ciphers', false);
str('tls-protocols', '');
int('tls-session-cache-size', 20480, 0, INT_MAX);
int('tls-session-cache-timeout', 300, 0, INT_MAX);
bool('tls-session-caching', true);
int('active-defrag-cycle-min', 1, 1, 99);
int('active-defrag-cycle-max', 25, 1, 99);
int('active-defrag-threshold-lower', 10, 0, 1000);
int('active-defrag-threshold-upper', 100, 0, 1000);
mem('active-defrag-ignore-bytes', 100 * 1024 * 1024);
int('active-defrag-max-scan-fields', 1000, 1, LONG_MAX);
int('lfu-log-factor', 10, 0, INT_MAX);
int('lfu-decay-time', 1, 0, INT_MAX);
int('maxmemory-eviction-tenacity', 10, 0, 100);
mem('maxmemory-clients', 0, { percent: true });
// Redis's hidden configs (debugging and test knobs): accepted and reported by exact name, no effect here.
int('key-load-delay', 0, -2147483648, 2147483647, { exactOnly: true });
int('rdb-key-save-delay', 0, -2147483648, 2147483647, { exactOnly: true });
int('watchdog-period', 0, 0, 2147483647, { exactOnly: true });
bool('use-exit-on-panic', false, { exactOnly: true });
int('loading-process-events-interval-bytes', 2097152, 1024, 2147483647, { exactOnly: true });
bool('replica-lazy-flush', false, { aliases: ['slave-lazy-flush'] });
bool('cluster-enabled', false, { immutable: true });
str('cluster-config-file', 'nodes.conf', { immutable: true });
int('cluster-node-timeout', 15000, 0, LONG_MAX);
int('cluster-port', 0, 0, 65535, { immutable: true });
int('cluster-replica-validity-factor', 10, 0, INT_MAX, { aliases: ['cluster-slave-validity-factor'] });
int('cluster-migration-barrier', 1, 0, INT_MAX);
bool('cluster-allow-replica-migration', true);
bool('cluster-require-full-coverage', true);
bool('cluster-replica-no-failover', false, { aliases: ['cluster-slave-no-failover'] });
bool('cluster-allow-reads-when-down', false);
bool('cluster-allow-pubsubshard-when-down', true);
str('cluster-announce-ip', '');
str('cluster-announce-hostname', '', {
  // isValidAnnouncedHostname: shorter than NET_HOST_STR_LEN (256), letters, digits, '-' and '.' only.
  validate: (v) => v.length >= 256 ? 'Hostnames must be less than 256 characters'
    : /^[A-Za-z0-9.-]*$/.test(v) ? undefined : 'Hostnames may only contain alphanumeric characters, hyphens or dots',
});
int('cluster-announce-port', 0, 0, 65535);
int('cluster-announce-bus-port', 0, 0, 65535);
int('cluster-announce-tls-port', 0, 0, 65535);
en('cluster-preferred-endpoint-type', 'ip', ['ip', 'hostname', 'unknown-endpoint']);
int('cluster-link-sendbuf-limit', 0, 0, LONG_MAX);
// Persistence and replication defaults, so files using them load before their owners refine them.
multi('save', '3600 1 300 100 60 10000', { accumulate: true });
bool('stop-writes-on-bgsave-error', true);
bool('rdbcompression', true);
bool('rdbchecksum', true);
str('dbfilename', 'dump.rdb');
bool('rdb-del-sync-files', false);
bool('rdb-save-incremental-fsync', true);
bool('appendonly', false);
str('appendfilename', 'appendonly.aof', { immutable: true });
str('appenddirname', 'appendonlydir', { immutable: true });
en('appendfsync', 'everysec', ['always', 'everysec', 'no']);
bool('no-appendfsync-on-rewrite', false);
int('auto-aof-rewrite-percentage', 100, 0, INT_MAX);
mem('auto-aof-rewrite-min-size', 64 * 1024 * 1024);
bool('aof-load-truncated', true);
bool('aof-use-rdb-preamble', true);
bool('aof-rewrite-incremental-fsync', true);
bool('aof-timestamp-enabled', false);
en('sanitize-dump-payload', 'no', ['no', 'yes', 'clients']);
multi('replicaof', '', { aliases: ['slaveof'], immutable: true });
bool('replica-serve-stale-data', true, { aliases: ['slave-serve-stale-data'] });
bool('replica-read-only', true, { aliases: ['slave-read-only'] });
bool('replica-ignore-maxmemory', true, { aliases: ['slave-ignore-maxmemory'] });
bool('replica-announced', true);
int('replica-priority', 100, 0, INT_MAX, { aliases: ['slave-priority'] });
str('replica-announce-ip', '', { aliases: ['slave-announce-ip'] });
int('replica-announce-port', 0, 0, 65535, { aliases: ['slave-announce-port'] });
bool('repl-diskless-sync', true);
int('repl-diskless-sync-delay', 5, 0, INT_MAX);
int('repl-diskless-sync-max-replicas', 0, 0, INT_MAX);
en('repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb']);
int('repl-ping-replica-period', 10, 1, INT_MAX, { aliases: ['repl-ping-slave-period'] });
int('repl-timeout', 60, 1, INT_MAX);
bool('repl-disable-tcp-nodelay', false);
mem('repl-backlog-size', 1024 * 1024, { min: 1 });
int('repl-backlog-ttl', 3600, 0, INT_MAX);
int('min-replicas-to-write', 0, 0, INT_MAX, { aliases: ['min-slaves-to-write'] });
int('min-replicas-max-lag', 10, 0, INT_MAX, { aliases: ['min-slaves-max-lag'] });
