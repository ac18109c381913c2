/**
 * Propagation of changes to replicas (and any mode with a propagate hook), as Redis 7.0's
 * propagatePendingCommands does it: what one execution unit (a client's top-level command, EXEC with its queue, a
 * served blocked command) propagates is collected and sent at its end, wrapped in MULTI/EXEC when it is more than
 * one command (never for SCAN and RANDOMKEY); MULTI takes the first command's db and EXEC the last's.
 */
import type { ModeHooks } from './modes.js';

export class Propagation {
  /** Open execution units; while > 0, propagation is collected (first command kept apart: most units have one). */
  private depth = 0;
  private pendDb = 0;
  private pendArgv: string[] | null = null;
  private pendMore: { db: number; argv: string[] }[] | null = null;

  constructor(private readonly hooks: ModeHooks) {}

  beginUnit(): void {
    this.depth++;
  }

  /** Queues one change: sent at once outside a unit, else when the outermost unit ends. */
  queue(db: number, argv: string[]): void {
    if (this.depth === 0) this.send(db, argv);
    else if (this.pendArgv === null) {
      this.pendDb = db;
      this.pendArgv = argv;
    } else (this.pendMore ??= []).push({ db, argv });
  }

  /** Closes an execution unit; the outermost one sends what was collected. */
  endUnit(command: string): void {
    if (--this.depth > 0 || this.pendArgv === null) return;
    const first = this.pendArgv;
    const more = this.pendMore;
    this.pendArgv = null;
    this.pendMore = null;
    if (more === null) {
      this.send(this.pendDb, first);
      return;
    }
    // SCAN and RANDOMKEY touch arbitrary keys: the DELs of what they found expired go out unwrapped, as Redis does.
    const wrap = command !== 'scan' && command !== 'randomkey';
    if (wrap) this.send(this.pendDb, ['MULTI']);
    this.send(this.pendDb, first);
    for (const op of more) this.send(op.db, op.argv);
    if (wrap) this.send(more[more.length - 1]!.db, ['EXEC']);
  }

  private send(db: number, argv: string[]): void {
    const targets = this.hooks.propagate;
    for (let i = 0; i < targets.length; i++) targets[i](db, argv);
  }
}
