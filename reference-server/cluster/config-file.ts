/**
 * nodes.conf as Redis 7.0.15 writes and reads it (clusterSaveConfig / clusterLoadConfig): the CLUSTER NODES lines
 * without handshake nodes, then `vars currentEpoch N lastVoteEpoch N`. A file Redis would refuse makes the same log
 * line and the same way of dying.
 */
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { splitArgs } from '../resp/splitargs.js';
import { CLUSTER_SLOTS } from './keyslot.js';
import { CLUSTER_PORT_INCR, ClusterNode, ClusterState, NodeFlag, isValidNodeName } from './nodes.js';

/** Why loading stopped, and how Redis would end: exit(1) or abort() after a panic/assertion report. */
export class ClusterConfigError extends Error {
  constructor(
    readonly logLines: string[],
    readonly ending: 'exit1' | 'abort',
  ) {
    super(logLines[logLines.length - 1]);
  }
}

const CORRUPT = 'Unrecoverable error: corrupted cluster config file.';

function corrupt(): ClusterConfigError {
  return new ClusterConfigError([CORRUPT], 'exit1');
}

/** C's atoi: optional blanks and sign, then digits; anything else ends the number (0 if none). */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const n = Number.parseInt(m[1]!, 10);
  // atoi's int overflow is undefined; wrap like a 32-bit store so nothing here exceeds the C range.
  return n | 0;
}

/** C's strtoull base 10: leading digits (a minus sign wraps modulo 2^64), 0 if none. */
export function strtoull(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (!m) return 0n;
  let v = BigInt(m[2]!);
  if (v > 0xffffffffffffffffn) v = 0xffffffffffffffffn;
  return m[1] === '-' ? (0x10000000000000000n - v) & 0xffffffffffffffffn : v;
}

/** The file's text: what CLUSTER NODES shows minus handshake nodes, then the vars line. */
export function serializeConfig(state: ClusterState): string {
  return (
    state.describeNodes(NodeFlag.HANDSHAKE) +
    `vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`
  );
}

/**
 * Writes the file in place with one write, padding with newlines when the old file was longer and truncating
 * afterwards, as Redis does so a crash mid-save leaves either version readable. Throws on I/O errors.
 */
export function saveConfig(path: string, state: ClusterState, doFsync: boolean): void {
  const content = Buffer.from(serializeConfig(state), 'latin1');
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
  try {
    const size = fstatSync(fd).size;
    const payload = size > content.length ? Buffer.concat([content, Buffer.alloc(size - content.length, 0x0a)]) : content;
    let off = 0;
    while (off < payload.length) off += writeSync(fd, payload, off, payload.length - off, off);
    if (doFsync) fsyncSync(fd);
    if (payload.length !== content.length) {
      try {
        ftruncateSync(fd, content.length);
      } catch {
        // As in Redis: a failed truncate leaves harmless trailing newlines.
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads the file; null when it does not exist or is empty (the caller creates a fresh myself and saves). */
export function readConfigFile(path: string): string | null {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return null;
    throw new ClusterConfigError([`Loading the cluster node config from ${path}: ${errnoText(err)}`], 'exit1');
  }
  if (text.length === 0) return null;
  return text.toString('latin1');
}

function errnoText(e: NodeJS.ErrnoException): string {
  const known: Record<string, string> = { EACCES: 'Permission denied', EISDIR: 'Is a directory', ENOTDIR: 'Not a directory', EIO: 'Input/output error' };
  return known[e.code ?? ''] ?? e.message;
}

/** What loading learned besides the table itself. */
export interface LoadResult {
  /** "Skipping unknown cluster config variable" lines for the log. */
  warnings: string[];
}

function getOrCreate(state: ClusterState, name: string, now: number): ClusterNode {
  let node = state.lookup(name);
  if (!node) {
    node = new ClusterNode(name, 0, now);
    state.addNode(node);
  }
  return node;
}

/**
 * Fills an empty state from the file's text (clusterLoadConfig). Throws ClusterConfigError where Redis exits or
 * panics. The caller logs "Node configuration loaded, I'm <id>".
 */
export function loadConfig(state: ClusterState, text: string, now = Date.now()): LoadResult {
  const warnings: string[] = [];
  let myself: ClusterNode | null = null;
  // fgets splits at '\n' and keeps it; sdssplitargs then treats it as a separator.
  for (const raw of text.split(/(?<=\n)/)) {
    if (raw === '' || raw[0] === '\n' || raw[0] === '\0') continue;
    const argv = splitArgs(raw);
    if (argv === null) throw corrupt();
    if (argv.length === 0) throw corrupt();
    if (argv[0]!.toLowerCase() === 'vars') {
      if (argv.length % 2 === 0) throw corrupt();
      for (let j = 1; j < argv.length; j += 2) {
        const name = argv[j]!.toLowerCase();
        if (name === 'currentepoch') state.currentEpoch = strtoull(argv[j + 1]!);
        else if (name === 'lastvoteepoch') state.lastVoteEpoch = strtoull(argv[j + 1]!);
        else warnings.push(`Skipping unknown cluster config variable '${argv[j]}'`);
      }
      continue;
    }
    if (argv.length < 8) throw corrupt();
    if (!isValidNodeName(argv[0]!)) throw corrupt();
    const node = getOrCreate(state, argv[0]!, now);

    // ip:port[@cport][,hostname]
    let addr = argv[1]!;
    const comma = addr.indexOf(',');
    if (comma !== -1) {
      node.hostname = addr.slice(comma + 1);
      addr = addr.slice(0, comma);
    } else {
      node.hostname = '';
    }
    const colon = addr.lastIndexOf(':');
    if (colon === -1) throw corrupt();
    node.ip = addr.slice(0, colon);
    const portPart = addr.slice(colon + 1);
    const at = portPart.indexOf('@');
    node.port = atoi(at === -1 ? portPart : portPart.slice(0, at));
    node.cport = at === -1 ? node.port + CLUSTER_PORT_INCR : atoi(portPart.slice(at + 1));

    for (const flag of argv[2]!.split(',')) {
      switch (flag.toLowerCase()) {
        case 'myself':
          if (myself !== null) throw new ClusterConfigError(["=== ASSERTION FAILED ===", "==> cluster.c:271 'server.cluster->myself == NULL' is not true"], 'abort');
          myself = node;
          node.flags |= NodeFlag.MYSELF;
          break;
        case 'master': node.flags |= NodeFlag.MASTER; break;
        case 'slave': node.flags |= NodeFlag.SLAVE; break;
        case 'fail?': node.flags |= NodeFlag.PFAIL; break;
        case 'fail':
          node.flags |= NodeFlag.FAIL;
          node.failTime = now;
          break;
        case 'handshake': node.flags |= NodeFlag.HANDSHAKE; break;
        case 'noaddr': node.flags |= NodeFlag.NOADDR; break;
        case 'nofailover': node.flags |= NodeFlag.NOFAILOVER; break;
        case 'noflags': break;
        default:
          throw new ClusterConfigError(
            ['------------------------------------------------', '!!! Software Failure. Press left mouse button to continue', 'Guru Meditation: Unknown flag in redis cluster config file #cluster.c:292'],
            'abort',
          );
      }
    }

    if (argv[3]![0] !== '-') {
      if (!isValidNodeName(argv[3]!)) throw corrupt();
      const master = getOrCreate(state, argv[3]!, now);
      node.replicaOf = master;
      master.addReplica(node);
    }
    if (atoi(argv[4]!)) node.pingSent = now;
    if (atoi(argv[5]!)) node.pongReceived = now;
    node.configEpoch = node.isReplica && node.replicaOf ? 0n : strtoull(argv[6]!);

    for (let j = 8; j < argv.length; j++) {
      const arg = argv[j]!;
      let start: number;
      let stop: number;
      if (arg[0] === '[') {
        const dash = arg.indexOf('-');
        if (dash === -1) throw new ClusterConfigError(['=== ASSERTION FAILED ===', "==> cluster.c:333 'p != NULL' is not true"], 'abort');
        const direction = arg[dash + 1];
        const slot = atoi(arg.slice(1, dash));
        if (slot < 0 || slot >= CLUSTER_SLOTS) throw corrupt();
        const idStart = dash + 3;
        const close = arg.indexOf(']', idStart);
        if (close === -1 || !isValidNodeName(arg.slice(idStart, close))) throw corrupt();
        const other = getOrCreate(state, arg.slice(idStart, close), now);
        if (direction === '>') state.setMigrating(slot, other);
        else state.setImporting(slot, other);
        continue;
      }
      const dash = arg.indexOf('-');
      if (dash !== -1) {
        start = atoi(arg.slice(0, dash));
        stop = atoi(arg.slice(dash + 1));
      } else {
        start = stop = atoi(arg);
      }
      if (start < 0 || start >= CLUSTER_SLOTS || stop < 0 || stop >= CLUSTER_SLOTS) throw corrupt();
      while (start <= stop) state.addSlot(node, start++);
    }
  }
  if (myself === null) throw corrupt();
  state.myself = myself;
  // Guards against hand edits: currentEpoch is never below an epoch the file itself records.
  const max = state.maxEpoch();
  if (max > state.currentEpoch) state.currentEpoch = max;
  return { warnings };
}
