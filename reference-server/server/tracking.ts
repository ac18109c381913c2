/**
 * Client-side caching (CLIENT TRACKING) as Redis 7.0's tracking.c does it: a table from each key a tracking client
 * read to the ids of those clients, invalidated (and forgotten) when the key changes; broadcasting mode (BCAST) with
 * prefixes, whose changed keys are sent once per event-loop turn; OPTIN/OPTOUT with CLIENT CACHING; NOLOOP; REDIRECT
 * to another connection (RESP3 push, or a __redis__:invalidate message to a RESP2 subscriber).
 */
import type { ClientTracking, TrackingOptions } from '../commands/command.js';
import type { Client } from './connection.js';

export type { ClientTracking, TrackingOptions };



/** What tracking needs from the server. */
export interface TrackingHost {
  clientById(id: number): Client | undefined;
  /** The client whose command is running, or null (cron, replication). */
  readonly currentClient: Client | null;
  allClients(): Iterable<Client>;
}

interface PrefixState {
  clients: Set<Client>;
  /** Keys changed since the last broadcast, with the client that changed each last (null: expiry, eviction). */
  keys: Map<string, Client | null>;
}

const CHANNEL = '__redis__:invalidate';

export class Tracking {
  /** key -> ids of the clients that may have it cached. */
  private readonly table = new Map<string, Set<number>>();
  private readonly prefixTable = new Map<string, PrefixState>();
  private items = 0;
  /** tracking_clients. */
  clients = 0;
  /** Tracking was enabled at least once: from then on every key change consults the table (Redis's TrackingTable). */
  inUse = false;
  /** tracking-table-max-keys, 0 = unlimited. */
  maxKeys = 1_000_000;
  /** Invalidations for the running client, sent after its reply; null stands for a flush. */
  private pending: (string | null)[] = [];
  /** A flush was signalled in this execution unit (FLUSHALL empties every db, Redis signals once). */
  private flushedInUnit = false;
  private broadcastScheduled = false;

  constructor(private readonly host: TrackingHost) {}

  get totalKeys(): number {
    return this.table.size;
  }
  get totalItems(): number {
    return this.items;
  }
  get totalPrefixes(): number {
    return this.prefixTable.size;
  }

  /** CLIENT TRACKING ON's checks that depend on state; an error line, or null when the options can be applied. */
  refusal(c: Client, o: TrackingOptions): string | null {
    if (!o.bcast && o.prefixes.length > 0) return 'ERR PREFIX option requires BCAST mode to be enabled';
    const t = c.tracking;
    if (t !== null && t.bcast !== o.bcast) {
      return 'ERR You can\'t switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.';
    }
    if (o.bcast && (o.optin || o.optout)) return 'ERR OPTIN and OPTOUT are not compatible with BCAST';
    if (o.optin && o.optout) return 'ERR You can\'t specify both OPTIN mode and OPTOUT mode';
    if (t !== null && ((o.optin && t.optout) || (o.optout && t.optin))) {
      return 'ERR You can\'t switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.';
    }
    if (o.bcast) {
      const overlaps = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);
      for (let i = 0; i < o.prefixes.length; i++) {
        const p = o.prefixes[i]!;
        const existing = t?.prefixes.find((q) => overlaps(q, p));
        if (existing !== undefined) {
          return `ERR Prefix '${p}' overlaps with an existing prefix '${existing}'. Prefixes for a single client must not overlap.`;
        }
        for (let j = i + 1; j < o.prefixes.length; j++) {
          if (overlaps(p, o.prefixes[j]!)) {
            return `ERR Prefix '${p}' overlaps with another provided prefix '${o.prefixes[j]}'. Prefixes for a single client must not overlap.`;
          }
        }
      }
    }
    return null;
  }

  /** enableTracking: flags are replaced, BCAST prefixes are added to the ones the client has. */
  enable(c: Client, o: TrackingOptions): void {
    if (c.tracking === null) this.clients++;
    const prefixes = c.tracking?.prefixes ?? [];
    c.tracking = { redirect: o.redirect, bcast: o.bcast, optin: o.optin, optout: o.optout, noloop: o.noloop, caching: false, brokenRedirect: false, prefixes };
    this.inUse = true;
    if (o.bcast) {
      for (const p of o.prefixes.length === 0 ? [''] : o.prefixes) {
        let st = this.prefixTable.get(p);
        if (st === undefined) {
          st = { clients: new Set(), keys: new Map() };
          this.prefixTable.set(p, st);
        }
        if (!st.clients.has(c)) {
          st.clients.add(c);
          prefixes.push(p);
        }
      }
      prefixes.sort(byteOrder);
    }
  }

  /** disableTracking (CLIENT TRACKING OFF, RESET, a closed connection). The keys it read stay in the table. */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === null) return;
    for (const p of t.prefixes) {
      const st = this.prefixTable.get(p);
      if (st === undefined) continue;
      st.clients.delete(c);
      if (st.clients.size === 0) this.prefixTable.delete(p);
    }
    c.tracking = null;
    this.clients--;
  }

  /** trackingRememberKeys, after a read-only command of a tracking (non-BCAST) client. */
  remember(c: Client, keys: readonly string[]): void {
    const t = c.tracking;
    if (t === null || t.bcast || (t.optin && !t.caching) || (t.optout && t.caching)) return;
    for (const key of keys) {
      let ids = this.table.get(key);
      if (ids === undefined) {
        ids = new Set();
        this.table.set(key, ids);
      }
      if (!ids.has(c.id)) {
        ids.add(c.id);
        this.items++;
      }
    }
  }

  /** trackingInvalidateKey: the key changed; modifier is who changed it (NOLOOP, BCAST bookkeeping). */
  invalidate(key: string, modifier: Client | null): void {
    if (this.prefixTable.size > 0) {
      for (const [prefix, st] of this.prefixTable) {
        if (key.startsWith(prefix)) st.keys.set(key, modifier);
      }
      this.scheduleBroadcast();
    }
    const ids = this.table.get(key);
    if (ids === undefined) return;
    const current = this.host.currentClient;
    for (const id of ids) {
      const target = this.host.clientById(id);
      const t = target?.tracking;
      if (target === undefined || t === null || t === undefined || t.bcast) continue;
      if (t.noloop && target === current) continue;
      // The running client's own invalidations follow its reply, not interleave with it.
      if (target === current) this.pending.push(key);
      else this.send(target, key);
    }
    this.items -= ids.size;
    this.table.delete(key);
  }

  /** trackingInvalidateKeysOnFlush: every tracking client is told to drop everything (a null), the table is emptied. */
  flushed(): void {
    if (this.flushedInUnit) return;
    this.flushedInUnit = true;
    const current = this.host.currentClient;
    if (this.clients > 0) {
      for (const c of this.host.allClients()) {
        if (c.tracking === null) continue;
        if (c === current) this.pending.push(null);
        else this.send(c, null);
      }
    }
    this.table.clear();
    this.items = 0;
  }

  /**
   * After a client's top-level command (Redis's afterCommand and resetClient): its pending invalidations go out,
   * and CLIENT CACHING applies to one command only (CLIENT itself and commands queued in MULTI keep it).
   */
  afterCommand(c: Client, wasClientCommand: boolean): void {
    this.flushedInUnit = false;
    if (this.pending.length > 0) {
      const keys = this.pending;
      this.pending = [];
      for (const k of keys) this.send(c, k);
    }
    if (c.tracking !== null && !c.inMulti && !wasClientCommand) c.tracking.caching = false;
  }

  /** trackingLimitUsedSlots: over tracking-table-max-keys, keys are dropped (with their invalidation) until within. */
  limit(): void {
    if (this.maxKeys === 0) return;
    for (const key of this.table.keys()) {
      if (this.table.size <= this.maxKeys) return;
      this.invalidate(key, null);
    }
  }

  /** sendTrackingMessage: to the client, or to its redirection (RESP3 push, or pub/sub message in RESP2). */
  private send(c: Client, key: string | null, bcastKeys?: string[]): void {
    const origin = c;
    const t = c.tracking;
    let target = c;
    let redirected = false;
    if (t !== null && t.redirect !== 0) {
      const r = this.host.clientById(t.redirect);
      if (r === undefined) {
        t.brokenRedirect = true;
        if (c.resp === 3) {
          c.reply.pushHeader(2);
          c.reply.bulk('tracking-redir-broken');
          c.reply.integer(t.redirect);
          c.scheduleFlush();
        }
        return;
      }
      target = r;
      redirected = true;
    }
    if (target.resp === 3) {
      target.reply.pushHeader(2);
      target.reply.bulk('invalidate');
    } else if (redirected && target.kind === 'pubsub') {
      target.reply.arrayHeader(3);
      target.reply.bulk('message');
      target.reply.bulk(CHANNEL);
    } else {
      // RESP2 without a redirection has no way to carry a push.
      return;
    }
    if (bcastKeys !== undefined) target.reply.bulkArray(bcastKeys);
    else if (key === null) target.reply.raw(origin.resp === 3 ? '_\r\n' : '$-1\r\n');
    else {
      target.reply.arrayHeader(1);
      target.reply.bulk(key);
    }
    target.scheduleFlush();
  }

  private scheduleBroadcast(): void {
    if (this.broadcastScheduled) return;
    this.broadcastScheduled = true;
    setImmediate(() => this.broadcast());
  }

  /** trackingBroadcastInvalidationMessages (Redis's beforeSleep): each prefix's changed keys to its clients. */
  broadcast(): void {
    this.broadcastScheduled = false;
    if (this.clients === 0) return;
    for (const prefix of [...this.prefixTable.keys()].sort(byteOrder)) {
      const st = this.prefixTable.get(prefix)!;
      if (st.keys.size === 0) continue;
      const all = [...st.keys.keys()].sort(byteOrder);
      for (const c of st.clients) {
        if (c.tracking?.noloop) {
          // A NOLOOP client is not told about the keys it changed itself.
          const own = all.filter((k) => st.keys.get(k) !== c);
          if (own.length > 0) this.send(c, null, own);
        } else this.send(c, null, all);
      }
      st.keys = new Map();
    }
  }
}

/** Byte order of latin1 strings (memcmp), as radix-tree iteration yields keys and prefixes. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
