/**
 * Cluster mode plugged into the server (cluster-enabled yes): the engine with its bus listener, redirection before
 * each command, INFO's cluster section, the key-per-slot index fed by the keyspace hooks, the cron, and the
 * CLUSTER / ASKING / READONLY / READWRITE commands (exported for every server; without cluster mode they refuse), and
 * MIGRATE / RESTORE-ASKING (for every server, as in Redis).
 */
import { isAbsolute, join } from 'node:path';
import type { ClientState, CommandSpec } from '../commands/command.js';
import { commandKeys } from '../commands/server.js';
import { F_ASKING, F_MOVABLE, F_WRITE, flagBits } from '../server/flags.js';
import type { Client } from '../server/connection.js';
import type { ClientSlot, CommandCall, InfoSection, ServerMode } from '../server/modes.js';
import type { RedisServer } from '../server/server.js';
import { replicationOf } from '../replication/install.js';
import { Cluster, type ClusterHost, type LogLevel } from './cluster.js';
import { commands as clusterCommands, registerClusterMode, type ClusterModeApi } from './commands.js';
import { ClusterConfigError } from './config-file.js';
import { closeMigrateSockets, commands as migrateCommands } from './migrate.js';
import { getNodeByQuery, redirectError } from './redirect.js';
import { SlotIndex } from './slot-index.js';
import { keyHashSlot } from './keyslot.js';
import type { ClusterLink } from './bus.js';
import { parseSafeInt } from '../store/numbers.js';
import type { Db } from '../store/types.js';

export const commands: CommandSpec[] = [...clusterCommands, ...migrateCommands];

interface ClientFlags {
  asking: boolean;
  readonly: boolean;
}

const SHARD_PUBSUB = new Set(['ssubscribe', 'sunsubscribe', 'spublish']);

export class ClusterMode implements ServerMode, ClusterModeApi, ClusterHost {
  readonly name = 'cluster';
  readonly cluster: Cluster;
  readonly index = new SlotIndex();
  readonly infoSections: readonly InfoSection[];
  readonly debugSubcommands: ServerMode['debugSubcommands'];
  private readonly flags: ClientSlot<ClientFlags>;

  constructor(private readonly server: RedisServer) {
    const dir = server.config.get('dir') ?? '.';
    const file = server.config.get('cluster-config-file') ?? 'nodes.conf';
    this.cluster = new Cluster(this, isAbsolute(file) ? file : join(dir, file));
    this.flags = server.clientSlot<ClientFlags>(() => ({ asking: false, readonly: false }));
    this.infoSections = [{ name: 'cluster', lines: () => ['cluster_enabled:1'] }];
    this.debugSubcommands = {
      // DEBUG DROP-CLUSTER-PACKET-FILTER <type>: bus messages of that type are dropped on arrival (-1: none).
      'drop-cluster-packet-filter': (ctx, argv) => {
        const type = argv.length === 3 ? parseSafeInt(argv[2]!) : null;
        if (argv.length !== 3) ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`);
        else if (type === null) ctx.reply.error('ERR value is not an integer or out of range');
        else {
          this.cluster.dropPacketFilter = type;
          ctx.reply.ok();
        }
      },
      // DEBUG CLUSTERLINK KILL <to|from|all> <node-id>: frees the node's outbound, inbound or both bus links.
      clusterlink: (ctx, argv) => {
        if (argv.length !== 5 || argv[2]!.toLowerCase() !== 'kill') {
          ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`);
          return;
        }
        const node = this.cluster.state.lookup(argv[4]!);
        if (!node) {
          ctx.reply.error(`ERR Unknown node ${argv[4]}`);
          return;
        }
        const direction = argv[3]!.toLowerCase();
        if (direction !== 'from' && direction !== 'to' && direction !== 'all') {
          // Redis 7.0.15 sends this error and then OK as well (debug.c); one reply keeps the connection in step.
          ctx.reply.error(`ERR Unknown direction ${argv[3]}`);
          return;
        }
        if (direction !== 'to') (node.inboundLink as ClusterLink | null)?.close();
        if (direction !== 'from') (node.link as ClusterLink | null)?.close();
        ctx.reply.ok();
      },
    };
  }

  // ---- ClusterHost ----
  log(level: LogLevel, msg: string): void { this.server.log(level, msg); }
  configNumber(name: string): number { return this.server.config.getNumber(name); }
  configBool(name: string): boolean { return this.server.config.getBool(name); }
  configString(name: string): string { return this.server.config.get(name) ?? ''; }
  /**
   * A master's offset; a replica's is replicationGetSlaveOffset's: the linked master's, else the cached one's, else 0
   * (during a full sync), so a loading replica pings offset 0 and CLUSTER SLOTS elsewhere hides it.
   */
  replicationOffset(): bigint {
    const r = replicationOf(this.server);
    if (!r) return 0n;
    if (r.masterHost === null || r.masterClient) return BigInt(r.offset);
    return BigInt(r.psyncBasis()?.offset ?? 0);
  }
  replicateFrom(ip: string, port: number): void { replicationOf(this.server)?.setMaster(ip, port); }
  stopReplicating(): void {
    replicationOf(this.server)?.unsetMaster('cluster');
  }
  hasMasterHost(): boolean { return (replicationOf(this.server)?.masterHost ?? null) !== null; }
  /**
   * Redis's data_age: since the master's last interaction while linked, else since the link went down (replication
   * sets downSince when a link that was up drops, as replicationHandleMasterDisconnection does); a replica whose link
   * never came up counts as down since the epoch (repl_down_since 0), so it never starts an election. Read from
   * replication itself, not sampled by the cron: a link up for a few milliseconds before its master died counts.
   */
  masterDataAgeMs(): number {
    const r = replicationOf(this.server);
    if (!r) return 0;
    const now = Date.now();
    if (r.linkState === 'connected') return Math.max(0, now - r.lastIo);
    return Math.max(0, now - r.downSince);
  }
  countKeysInSlot(slot: number): number { return this.index.count(slot); }
  delKeysInSlot(slot: number): number {
    const db = this.server.dbs[0]!;
    const keys = this.index.keys(slot, Number.MAX_SAFE_INTEGER);
    for (const k of keys) db.delete(k);
    return keys.length;
  }
  deliverPublish(channel: string, message: string, sharded: boolean): void {
    if (sharded) this.server.publishShard(channel, message);
    else this.server.publish(channel, message);
  }
  pauseWrites(until: number): void {
    if (until === 0) this.server.unpause();
    else {
      this.server.pauseUntil = until;
      this.server.pauseWritesOnly = true;
    }
  }

  // ---- ClusterModeApi ----
  keysInSlot(slot: number, max: number): string[] { return this.index.keys(slot, max); }
  dbSize(): number { return this.server.dbs[0]!.size(); }
  emptyData(): void { for (const db of this.server.dbs) db.flush(); }
  setAsking(client: ClientState, on: boolean): void { this.flags.get(client as Client).asking = on; }
  setReadonly(client: ClientState, on: boolean): void { this.flags.get(client as Client).readonly = on; }

  // ---- ServerMode ----
  beforeCommand(call: CommandCall): string | undefined {
    const { client, spec, argv } = call;
    const f = this.flags.get(client);
    const asking = f.asking;
    if (spec.name !== 'asking') f.asking = false;
    if (client.kind === 'master') return undefined;
    const isExec = spec.name === 'exec';
    const fb = flagBits(spec);
    if (!isExec && (fb & F_MOVABLE) === 0) {
      if (spec.firstKey <= 0) return undefined;
      // The usual case, answered without building the query: every key in one slot that this master serves, stable.
      if (this.servedHere(spec, argv)) return undefined;
    }
    let queue: Array<{ spec: CommandSpec; argv: string[] }>;
    if (isExec) {
      if (!client.inMulti) return undefined;
      queue = client.multiQueue;
    } else {
      queue = [{ spec, argv }];
    }
    const db0 = this.server.dbs[0]!;
    const r = getNodeByQuery(this.cluster, {
      commands: queue.map((q) => ({ keys: commandKeys(q.spec, q.argv), isWrite: (flagBits(q.spec) & F_WRITE) !== 0 })),
      askingCommand: (fb & F_ASKING) !== 0,
      isMigrate: spec.name === 'migrate',
      isPubsubShard: SHARD_PUBSUB.has(spec.name),
      clientAsking: asking,
      clientReadonly: f.readonly,
      keyExists: (k) => db0.has(k),
      allowReadsWhenDown: this.configBool('cluster-allow-reads-when-down'),
      allowPubsubshardWhenDown: this.configBool('cluster-allow-pubsubshard-when-down'),
    });
    if (r.code === 'none') return undefined;
    return redirectError(r.code, r.node, r.slot, this.configString('cluster-preferred-endpoint-type'));
  }

  /**
   * True when getNodeByQuery would answer "this node, no redirect" for a command with fixed key positions: the
   * cluster is ok, its keys hash to one slot, myself serves it and it is neither migrating nor importing (where the
   * answer depends on which keys exist, ASKING and the command). Anything else goes through getNodeByQuery.
   */
  private servedHere(spec: CommandSpec, argv: string[]): boolean {
    const st = this.cluster.state;
    if (st.state !== 'ok') return false;
    const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
    const step = spec.step || 1;
    let slot = -1;
    for (let i = spec.firstKey; i <= last && i < argv.length; i += step) {
      const s = keyHashSlot(argv[i]!);
      if (slot === -1) slot = s;
      else if (s !== slot) return false;
    }
    // No key at all (optional keys absent): getNodeByQuery serves it here too.
    if (slot === -1) return true;
    return st.slots[slot] === this.cluster.myself && st.migratingTo[slot] === null && st.importingFrom[slot] === null;
  }

  cron(): void {
    this.cluster.cron();
  }

  keyAdded(db: Db, key: string): void {
    if (db.index === 0) this.index.add(key);
  }

  keyRemoved(db: Db, key: string): void {
    if (db.index === 0) this.index.remove(key);
  }

  shutdown(): void {
    this.cluster.save(true);
    this.cluster.close();
    closeMigrateSockets(this.server);
  }

  async start(): Promise<void> {
    this.cluster.init();
    if (this.cluster.myself.isReplica) replicationOf(this.server)?.adoptRestoredHistoryAsReplica();
    // removeChannelsInSlot: a slot leaving this shard takes its shard channels' subscribers along (sunsubscribe).
    this.cluster.state.onSlotDeleted = (slot) => {
      for (const channel of [...this.server.pubsub.shardChannels.keys()]) {
        if (keyHashSlot(channel) === slot) this.server.pubsub.dropShardChannel(channel);
      }
    };
    const binds = (this.server.config.get('bind') ?? '* -::*').split(/\s+/).filter((b) => b !== '');
    const addrs = binds.map((b) => (b.startsWith('-') ? b.slice(1) : b)).map((a) => (a === '*' ? '0.0.0.0' : a === '::*' ? '::' : a));
    await this.cluster.listen(addrs.filter((a, i) => !(binds[i]!.startsWith('-') && a === '::')));
  }
}

export async function install(server: RedisServer): Promise<void> {
  if (!server.config.getBool('cluster-enabled')) return;
  const mode = new ClusterMode(server);
  try {
    await mode.start();
  } catch (e) {
    if (e instanceof ClusterConfigError) {
      for (const line of e.logLines) server.log('warning', line);
    }
    throw e;
  }
  registerClusterMode(server, mode);
  // Keys loaded before the mode's hooks existed (the RDB read at start) are indexed now, in the same turn as the hooks.
  for (const key of server.dbs[0]!.keys()) mode.index.add(key);
  server.install(mode);
  // CONFIG SET applies at once, as config.c's apply functions do: cluster-announce-hostname (updateClusterHostname:
  // CLUSTER SLOTS right after shows it), cluster-replica-no-failover (updateClusterFlags: the nofailover flag).
  server.config.onChange((name) => {
    if (name === 'cluster-announce-hostname') mode.cluster.myself.hostname = server.config.get(name) ?? '';
    if (name === 'cluster-replica-no-failover') mode.cluster.updateMyselfFlags();
  });
  // In cluster mode PUBLISH reaches the other nodes (SPUBLISH: the shard's) over the bus instead of the replication stream.
  for (const name of ['publish', 'spublish']) {
    const publish = server.commands.get(name);
    if (!publish) continue;
    server.registerCommands([{
      ...publish,
      execute: (ctx, argv) => {
        publish.execute(ctx, argv);
        ctx.noPropagate();
        mode.cluster.propagatePublish(argv[1]!, argv[2]!, name === 'spublish');
      },
    }]);
  }
}
