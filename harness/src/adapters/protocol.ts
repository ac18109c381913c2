/**
 * The client adapter protocol (version 1): JSON lines over the adapter's stdin/stdout. The harness writes a
 * hello (the topology's entry points), the adapter answers ready; then the harness sends requests with ids
 * and the adapter answers each one, in any order, with ok / fail / info and its own timestamps. Documented
 * with a complete example in the README ("Client adapters").
 */

export const PROTOCOL_VERSION = 1;

export interface HostPort {
  host: string;
  port: number;
}

/** Which entry point the harness wants the client to use. */
export type AdapterMode = 'direct' | 'haproxy' | 'sentinel' | 'cluster';

/** First line the harness writes. */
export interface Hello {
  type: 'hello';
  protocol: number;
  mode: AdapterMode;
  /** Data instances' password (undefined: none). */
  password?: string;
  /** mode direct / haproxy: the one address to connect to. */
  address?: HostPort;
  /** mode sentinel: every sentinel, and the monitored master's name. */
  sentinels?: HostPort[];
  masterName?: string;
  /** mode cluster: seed nodes. */
  seeds?: HostPort[];
  /** Announced "host:port" -> reachable address, when they differ (docker); usually absent. */
  addressMap?: Record<string, HostPort>;
  /** The timeouts the client should use for connecting and for one command. */
  timeouts: { connectMs: number; commandMs: number };
}

/** The adapter's answer to the hello. */
export interface Ready {
  type: 'ready';
  /** Client library and version, e.g. "ioredis 5.8.2". */
  client: string;
}

export type OpName = 'set' | 'get' | 'sadd' | 'smembers' | 'publish' | 'subscribe' | 'ping' | 'quit';

/** A request the harness sends; `ping` must be answered at once even while other requests are pending. */
export interface Request {
  id: number;
  op: OpName;
  key?: string;
  value?: string;
  channel?: string;
  message?: string;
}

/** ok: done; fail: certainly not applied; info: outcome unknown (timeout, connection lost after sending). */
export type ReplyType = 'ok' | 'fail' | 'info';

export interface Reply {
  id: number;
  type: ReplyType;
  value?: unknown;
  error?: string;
  /** Adapter's wall clock (ms since the epoch) when it handed the command to the client, and when it settled. */
  t0?: number;
  t1?: number;
  /** "host:port" of the server the command went to, when the client library can tell. */
  addr?: string;
}

/** A message a subscription delivered. */
export interface Message {
  type: 'message';
  channel: string;
  message: string;
  t?: number;
}

/** Free text the adapter wants in the run log (reconnects, topology refreshes). */
export interface Log {
  type: 'log';
  message: string;
}

export type AdapterLine = { kind: 'ready'; ready: Ready } | { kind: 'reply'; reply: Reply } | { kind: 'message'; message: Message } | { kind: 'log'; log: Log };

const REPLY_TYPES = new Set(['ok', 'fail', 'info']);

/** Parses one stdout line; throws an Error whose message says what is wrong with it (the caller adds who printed it). */
export function parseAdapterLine(line: string): AdapterLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  const o = v as Record<string, unknown>;
  const opt = (field: string, type: 'string' | 'number'): void => {
    if (o[field] !== undefined && typeof o[field] !== type) throw new Error(`field "${field}" must be a ${type}`);
  };
  if (typeof o['id'] === 'number') {
    if (typeof o['type'] !== 'string' || !REPLY_TYPES.has(o['type'])) throw new Error('a reply\'s "type" must be "ok", "fail" or "info"');
    opt('error', 'string');
    opt('t0', 'number');
    opt('t1', 'number');
    opt('addr', 'string');
    return { kind: 'reply', reply: o as unknown as Reply };
  }
  switch (o['type']) {
    case 'ready':
      if (typeof o['client'] !== 'string') throw new Error('"ready" needs a "client" string (library and version)');
      return { kind: 'ready', ready: o as unknown as Ready };
    case 'message':
      if (typeof o['channel'] !== 'string' || typeof o['message'] !== 'string') throw new Error('"message" needs "channel" and "message" strings');
      opt('t', 'number');
      return { kind: 'message', message: o as unknown as Message };
    case 'log':
      if (typeof o['message'] !== 'string') throw new Error('"log" needs a "message" string');
      return { kind: 'log', log: o as unknown as Log };
    default:
      throw new Error('neither a reply (numeric "id") nor a "ready", "message" or "log" line');
  }
}
