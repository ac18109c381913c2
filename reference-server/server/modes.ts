/**
 * How a mode (replication, cluster, sentinel) plugs into the server: it exports `install(server)`, which calls
 * server.install(mode) with the hooks below. The core calls each hook at one fixed point; it never knows the mode.
 * See reference-server/README.md ("Modes and hook points") for where each point sits in Redis's processCommand.
 */
import type { AccessHooks, ClientState, CommandContext, CommandSpec, Db, PersistenceHooks, ReplicationHooks } from '../commands/command.js';
import type { Client } from './connection.js';

/** A command about to run (or be queued by MULTI), as hooks see it. */
export interface CommandCall {
  readonly client: Client;
  /** The resolved spec: a subcommand's own spec ("cluster|info") when the command has subcommands. */
  readonly spec: CommandSpec;
  readonly argv: string[];
}

/** One INFO section a mode adds, e.g. "cluster" (shown as "# Cluster"); a name INFO already knows replaces its lines. */
export interface InfoSection {
  name: string;
  lines(): string[];
}

export interface ServerMode {
  /** Shown in logs; also the key under which client slots and sections are grouped. */
  readonly name: string;
  /** What the server calls itself in its log ("Sentinel is now ready to exit"), when not "Redis". */
  readonly logName?: string;
  /** The server's replication role and INFO replication lines, when this mode provides them (replication/). */
  readonly replication?: ReplicationHooks;
  /** SAVE, LASTSAVE and INFO persistence, when this mode provides them. */
  readonly persistence?: PersistenceHooks;
  /** Users, AUTH and the permission check, when this mode provides them (acl/). */
  readonly access?: AccessHooks;
  /**
   * Before a command runs or is queued, after lookup, arity, AUTH and no_multi, before maxmemory and the write and
   * stale checks: where Redis's processCommand calls cluster.c's getNodeByQuery. An error line (without '-')
   * refuses the command: inside MULTI it flags the transaction; for EXEC (whose queue is call.client.multiQueue)
   * the transaction is discarded and the line is the reply.
   */
  beforeCommand?(call: CommandCall): string | undefined;
  /** Before a write (or an EXEC holding one) from a client other than the master link: READONLY, NOREPLICAS, ... */
  refuseWrite?(client: ClientState): string | undefined;
  /** Before a command that may not run on a stale replica (no 'stale' flag): MASTERDOWN, ... */
  refuseStale?(client: ClientState, spec: CommandSpec): string | undefined;
  /** Before a command that may not run while the dataset loads (no 'loading' flag): LOADING. */
  refuseLoading?(client: ClientState, spec: CommandSpec): string | undefined;
  /** After a command ran (also each command of EXEC and a served blocked command), with its duration. */
  afterCommand?(call: CommandCall, micros: number): void;
  /**
   * Every change to replicate, in order, once its execution unit ends (MULTI/EXEC wrapped when the unit made
   * several); SELECT is never included: dbIndex tells the db.
   */
  propagate?(dbIndex: number, argv: string[]): void;
  /** INFO sections this mode adds. */
  readonly infoSections?: readonly InfoSection[];
  /** Every server cron tick (100 ms). */
  cron?(now: number): void;
  /** A client connection closed (or was taken over by replication). */
  clientClosed?(client: Client): void;
  /** A key now exists in db that did not (set, add, rename's target, RDB load, RESTORE ...). */
  keyAdded?(db: Db, key: string): void;
  /** A key no longer exists in db (delete, expiry, eviction, flush, move's source ...). */
  keyRemoved?(db: Db, key: string): void;
  /** The server shuts down (SHUTDOWN, a signal, close()). */
  shutdown?(): void;
  /** The server listens; start-up logs "Ready to accept connections" once this settles (Redis loads its data between). */
  afterListen?(): Promise<void> | undefined;
  /** DEBUG subcommands this mode adds, by lower-case name (DEBUG REPLY-FAULT); DEBUG's own come first. */
  readonly debugSubcommands?: Readonly<Record<string, (ctx: CommandContext, argv: string[]) => void>>;
}

/** A per-client value a mode keeps (Cluster's ASKING and READONLY flags): server.clientSlot(init) allocates one. */
export interface ClientSlot<T> {
  get(c: Client): T;
  set(c: Client, value: T): void;
}

/** The installed modes' hooks, gathered per point so the hot path loops over what exists (usually nothing). */
export class ModeHooks {
  readonly modes: ServerMode[] = [];
  beforeCommand: NonNullable<ServerMode['beforeCommand']>[] = [];
  refuseWrite: NonNullable<ServerMode['refuseWrite']>[] = [];
  refuseStale: NonNullable<ServerMode['refuseStale']>[] = [];
  refuseLoading: NonNullable<ServerMode['refuseLoading']>[] = [];
  afterCommand: NonNullable<ServerMode['afterCommand']>[] = [];
  propagate: NonNullable<ServerMode['propagate']>[] = [];
  cron: NonNullable<ServerMode['cron']>[] = [];
  clientClosed: NonNullable<ServerMode['clientClosed']>[] = [];
  keyAdded: NonNullable<ServerMode['keyAdded']>[] = [];
  keyRemoved: NonNullable<ServerMode['keyRemoved']>[] = [];
  shutdown: NonNullable<ServerMode['shutdown']>[] = [];
  readonly debugSubcommands = new Map<string, (ctx: CommandContext, argv: string[]) => void>();

  add(mode: ServerMode): void {
    this.modes.push(mode);
    // Bound once here, so each point is a plain call.
    if (mode.beforeCommand) this.beforeCommand.push(mode.beforeCommand.bind(mode));
    if (mode.refuseWrite) this.refuseWrite.push(mode.refuseWrite.bind(mode));
    if (mode.refuseStale) this.refuseStale.push(mode.refuseStale.bind(mode));
    if (mode.refuseLoading) this.refuseLoading.push(mode.refuseLoading.bind(mode));
    if (mode.afterCommand) this.afterCommand.push(mode.afterCommand.bind(mode));
    if (mode.propagate) this.propagate.push(mode.propagate.bind(mode));
    if (mode.cron) this.cron.push(mode.cron.bind(mode));
    if (mode.clientClosed) this.clientClosed.push(mode.clientClosed.bind(mode));
    if (mode.keyAdded) this.keyAdded.push(mode.keyAdded.bind(mode));
    if (mode.keyRemoved) this.keyRemoved.push(mode.keyRemoved.bind(mode));
    if (mode.shutdown) this.shutdown.push(mode.shutdown.bind(mode));
    for (const [name, run] of Object.entries(mode.debugSubcommands ?? {})) this.debugSubcommands.set(name, run);
  }
}
