/**
 * Clients blocked on keys (Redis's blocked.c): wait lists per key, keys signalled ready by writes, and serving the
 * waiters FIFO per key in the same tick as the write; timeouts are handled by the cron.
 */
import type { BlockRequest, CommandSpec, Db } from '../commands/command.js';
import type { BlockedState, Client } from './connection.js';
import type { RedisServer } from './server.js';

export class BlockedClients {
  /** "db\0key" -> clients waiting on it, in arrival order. */
  private readonly blockingKeys = new Map<string, Client[]>();
  private readyKeys: string[] = [];
  private readonly readyKeySet = new Set<string>();

  constructor(private readonly server: RedisServer) {}

  /** Some key was signalled ready and its waiters are not served yet. */
  get hasReady(): boolean {
    return this.readyKeys.length > 0;
  }

  block(c: Client, spec: CommandSpec, argv: string[], req: BlockRequest): void {
    c.blocked = { req, spec, argv, dbIndex: c.dbIndex, deadline: req.timeoutMs > 0 ? Date.now() + req.timeoutMs : 0 };
    for (const key of req.keys) {
      const k = c.dbIndex + '\0' + key;
      let list = this.blockingKeys.get(k);
      if (!list) {
        list = [];
        this.blockingKeys.set(k, list);
      }
      list.push(c);
    }
  }

  /** Removes the client from every wait list (served, timed out, killed or disconnected). */
  unblock(c: Client): void {
    const b = c.blocked;
    if (!b) return;
    c.blocked = null;
    for (const key of b.req.keys) {
      const k = b.dbIndex + '\0' + key;
      const list = this.blockingKeys.get(k);
      if (!list) continue;
      const i = list.indexOf(c);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.blockingKeys.delete(k);
    }
  }

  /** A key some client may wait on now has data (Redis's signalKeyAsReady). */
  signalKeyReady(dbIndex: number, key: string): void {
    // Nobody blocked: no "db\0key" string to build and hash for every push.
    if (this.blockingKeys.size === 0) return;
    const k = dbIndex + '\0' + key;
    if (!this.blockingKeys.has(k) || this.readyKeySet.has(k)) return;
    this.readyKeySet.add(k);
    this.readyKeys.push(k);
  }

  signalBlockedKeysIn(db: Db): void {
    const prefix = db.index + '\0';
    // A waiter on a key that is absent stays blocked; one that expired is deleted (and DEL propagated) by the retry, as in Redis.
    for (const k of this.blockingKeys.keys()) if (k.startsWith(prefix)) this.signalKeyReady(db.index, k.slice(prefix.length));
  }

  /** Serves clients blocked on keys signalled ready, FIFO per key, in the same tick as the write. */
  handleReadyKeys(): void {
    if (this.readyKeys.length === 0) return;
    const resumed: Client[] = [];
    while (this.readyKeys.length > 0) {
      const k = this.readyKeys.shift() as string;
      this.readyKeySet.delete(k);
      const list = this.blockingKeys.get(k);
      if (!list) continue;
      for (const cl of [...list]) {
        const b = cl.blocked;
        if (!b) continue;
        // The key that became ready goes first, as Redis serves a multi-key waiter from the pushed key.
        if (this.server.dispatcher.serveBlocked(cl, b, k.slice(k.indexOf('\0') + 1))) resumed.push(cl);
      }
    }
    for (const cl of resumed) {
      cl.flush();
      // Pipelined commands behind the blocking one run now, on a later turn so writers are not starved.
      setImmediate(() => this.server.resumeClient(cl));
    }
  }

  /** Answers a waiter whose timeout passed (the cron calls it), then lets its pipelined input run. */
  timeOut(c: Client, b: BlockedState): void {
    this.unblock(c);
    try {
      b.req.onTimeout(c.reply);
    } catch (e) {
      c.reply.error(`ERR ${(e as Error).message}`);
    }
    c.flush();
    setImmediate(() => this.server.resumeClient(c));
  }
}
