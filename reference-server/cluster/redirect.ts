/**
 * Where a command's keys live (getNodeByQuery in cluster.c) and the error a client gets when it is not here:
 * CROSSSLOT, CLUSTERDOWN (three texts), TRYAGAIN, ASK, MOVED, with Redis 7.0.15's exact wording.
 */
import type { Cluster } from './cluster.js';
import { keyHashSlot } from './keyslot.js';
import type { ClusterNode } from './nodes.js';

export type RedirectCode = 'none' | 'crossslot' | 'unbound' | 'unstable' | 'down' | 'down-ro' | 'ask' | 'moved';

/** One command of the query (EXEC brings its whole queue). */
export interface QueriedCommand {
  keys: readonly string[];
  /** The command's flags contain 'write'. */
  isWrite: boolean;
}

export interface QueryContext {
  commands: readonly QueriedCommand[];
  /** The command as called carries the 'asking' flag (RESTORE-ASKING). */
  askingCommand: boolean;
  isMigrate: boolean;
  /** SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH. */
  isPubsubShard: boolean;
  /** The client sent ASKING before this command. */
  clientAsking: boolean;
  /** The client sent READONLY. */
  clientReadonly: boolean;
  /** Whether a key exists in db 0 (no expiry, no stats: LOOKUP_NOTOUCH|NOSTATS|NONOTIFY|NOEXPIRE). */
  keyExists(key: string): boolean;
  allowReadsWhenDown: boolean;
  allowPubsubshardWhenDown: boolean;
}

export interface QueryResult {
  /** The node to serve the query; null with an error code. */
  node: ClusterNode | null;
  slot: number;
  code: RedirectCode;
}

export function getNodeByQuery(cluster: Cluster, q: QueryContext): QueryResult {
  const st = cluster.state;
  const me = cluster.myself;
  let firstKey: string | null = null;
  let slot = 0;
  let n: ClusterNode | null = null;
  let multipleKeys = false;
  let migrating = false;
  let importing = false;
  let missing = 0;
  let existing = 0;
  for (const cmd of q.commands) {
    for (const key of cmd.keys) {
      const thisSlot = keyHashSlot(key);
      if (firstKey === null) {
        firstKey = key;
        slot = thisSlot;
        n = st.slots[slot]!;
        if (n === null) return { node: null, slot, code: 'unbound' };
        if (n === me && st.migratingTo[slot] !== null) migrating = true;
        else if (st.importingFrom[slot] !== null) importing = true;
      } else if (firstKey !== key) {
        if (slot !== thisSlot) return { node: null, slot, code: 'crossslot' };
        multipleKeys = true;
      }
      if ((migrating || importing) && !q.isPubsubShard) {
        if (q.keyExists(key)) existing++;
        else missing++;
      }
    }
  }
  if (n === null) return { node: me, slot, code: 'none' };
  const isWrite = q.commands.some((c) => c.isWrite);
  if (st.state !== 'ok') {
    if (q.isPubsubShard) {
      if (!q.allowPubsubshardWhenDown) return { node: null, slot, code: 'down' };
    } else if (!q.allowReadsWhenDown) {
      return { node: null, slot, code: 'down' };
    } else if (isWrite) {
      return { node: null, slot, code: 'down-ro' };
    }
  }
  if ((migrating || importing) && q.isMigrate) return { node: me, slot, code: 'none' };
  if (migrating && missing) {
    if (existing) return { node: null, slot, code: 'unstable' };
    return { node: st.migratingTo[slot], slot, code: 'ask' };
  }
  if (importing && (q.clientAsking || q.askingCommand)) {
    if (multipleKeys && missing) return { node: null, slot, code: 'unstable' };
    return { node: me, slot, code: 'none' };
  }
  if ((q.clientReadonly || q.isPubsubShard) && !isWrite && me.isReplica && me.replicaOf === n) {
    return { node: me, slot, code: 'none' };
  }
  return { node: n, slot, code: n !== me ? 'moved' : 'none' };
}

/** The error line (without '-') for a redirect, as clusterRedirectClient writes it. */
export function redirectError(code: RedirectCode, node: ClusterNode | null, slot: number, endpointType: string): string {
  switch (code) {
    case 'crossslot':
      return "CROSSSLOT Keys in request don't hash to the same slot";
    case 'unstable':
      return 'TRYAGAIN Multiple keys request during rehashing of slot';
    case 'down':
      return 'CLUSTERDOWN The cluster is down';
    case 'down-ro':
      return 'CLUSTERDOWN The cluster is down and only accepts read commands';
    case 'unbound':
      return 'CLUSTERDOWN Hash slot not served';
    case 'moved':
    case 'ask': {
      const n = node!;
      const endpoint = endpointType === 'hostname' ? (n.hostname !== '' ? n.hostname : '?') : endpointType === 'unknown-endpoint' ? '' : n.ip;
      return `${code === 'ask' ? 'ASK' : 'MOVED'} ${slot} ${endpoint}:${n.port}`;
    }
    default:
      throw new Error(`no redirect error for ${code}`);
  }
}
