/** Plugs replication and persistence into a server as a mode (server/modes.ts; main.ts calls install()). */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { RedisServer } from '../server/server.js';
import { Replication } from './manager.js';
import { Persistence } from './persistence.js';

/** REPLICAOF, REPLCONF, PSYNC, WAIT, FAILOVER, ROLE ...: main.ts adds them to the table with this mode. */
export { commands } from './commands.js';

export function replicationOf(server: RedisServer): Replication | undefined {
  return server.replication instanceof Replication ? server.replication : undefined;
}

export function persistenceOf(server: RedisServer): Persistence | undefined {
  return server.persistence instanceof Persistence ? server.persistence : undefined;
}

/** Installs the hooks, loads dir/dbfilename, and starts following `replicaof` if configured. */
export function install(server: RedisServer): void {
  const repl = new Replication(server);
  const pers = new Persistence(server);
  repl.persistence = pers;
  server.install({
    name: 'replication',
    replication: repl,
    persistence: pers,
    refuseWrite: (client) => repl.writeRefusal(client),
    refuseStale: (client, spec) => repl.staleRefusal(client, spec),
    refuseLoading: (_client, spec) => repl.loadingRefusal(spec),
    propagate: (dbIndex, argv) => {
      // Every executed FLUSHALL is propagated: the point where Redis kills its RDB child (length first: this runs per write).
      if (argv[0]?.length === 8 && argv[0].toLowerCase() === 'flushall') pers.flushedAll();
      repl.propagate(dbIndex, argv);
    },
    cron: (now) => {
      repl.cron(now);
      pers.cron(now);
    },
    clientClosed: (client) => repl.clientClosed(client),
    shutdown: () => repl.shutdown(),
    afterListen: () => pers.startupLoad ?? undefined,
  });
  try {
    pers.load({ startup: true, asReplica: startsAsReplica(server) });
  } catch (e) {
    server.log('warning', `Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
    throw e;
  }
  const restored = pers.lastAux;
  const rid = restored.get('repl-id');
  const roff = restored.get('repl-offset');
  const replicaof = (server.config.get('replicaof') ?? '').trim();
  if (rid && roff !== undefined && /^[0-9a-f]{40}$/.test(rid) && /^\d+$/.test(roff)) {
    if (replicaof !== '') {
      // Like Redis: a replica restarted from its RDB may continue partially from the id/offset stored in it.
      repl.replid = rid;
      repl.offset = Number(roff);
      repl.restoredStreamDb = Number(restored.get('repl-stream-db') ?? '0') || 0;
    } else {
      // A master keeps the stored history as its secondary id, so its former replicas may continue partially.
      repl.restoreAsMaster(rid, Number(roff), Number(restored.get('repl-stream-db') ?? '0') || 0);
    }
  }
  server.config.onChange((name, value) => {
    if (name === 'repl-backlog-size') repl.backlog?.resize(server.config.getNumber('repl-backlog-size'));
    if (name === 'replicaof' && !repl.applyingConfig) applyReplicaof(repl, value);
  });
  if (replicaof !== '') applyReplicaof(repl, replicaof);
}

/**
 * Whether the server starts as a replica (iAmMaster() false when Redis loads its data): `replicaof` is configured, or
 * in cluster mode nodes.conf's myself line is a replica's (Redis reads nodes.conf before the data).
 */
function startsAsReplica(server: RedisServer): boolean {
  if ((server.config.get('replicaof') ?? '').trim() !== '') return true;
  if (!server.config.getBool('cluster-enabled')) return false;
  const file = server.config.get('cluster-config-file') ?? 'nodes.conf';
  const path = isAbsolute(file) ? file : join(server.config.get('dir') ?? '.', file);
  if (!existsSync(path)) return false;
  const myself = readFileSync(path, 'latin1').split('\n').map((l) => l.split(' ')).find((f) => (f[2] ?? '').split(',').includes('myself'));
  return myself !== undefined && myself[2]!.split(',').includes('slave');
}

function applyReplicaof(repl: Replication, value: string): void {
  const parts = value.trim().split(/\s+/);
  if (parts.length === 2 && parts[0]!.toLowerCase() === 'no' && parts[1]!.toLowerCase() === 'one') repl.unsetMaster('config');
  else if (parts.length === 2 && /^\d+$/.test(parts[1]!)) repl.setMaster(parts[0]!, Number(parts[1]));
}
