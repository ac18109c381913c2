/**
 * Protocol-level faults on demand: DEBUG REPLY-FAULT makes this server answer chosen commands or keys with an
 * error a real deployment only gives in a bad moment (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING, BUSY, MASTERDOWN,
 * READONLY), in Redis 7.0.15's exact text, so a client library's handling of each reply can be tested on purpose.
 * Not in Redis: this exists because the reference server can do what no real server does on request.
 *
 *   DEBUG REPLY-FAULT <kind> KEY|COMMAND <glob> [PROBABILITY p] [COUNT n] [SEED n] [TO host:port]
 *   DEBUG REPLY-FAULT OFF        removes every rule
 *   DEBUG REPLY-FAULT STATS      one line per rule: what it matches and how often it answered
 *
 * A rule answers a matching command in its place (the command does not run) before any other check after AUTH,
 * where a cluster node answers MOVED. DEBUG itself, the master's replication stream and commands without keys (for
 * KEY rules) never match. Decisions come from a per-rule seeded generator, so a seed replays the same sequence.
 */
import type { CommandContext } from '../commands/command.js';
import { commandKeys } from '../commands/server.js';
import { keyHashSlot } from '../cluster/keyslot.js';
import { globMatch } from '../server/glob.js';
import type { CommandCall, ServerMode } from '../server/modes.js';

/** The replies a rule can give, as Redis 7.0.15 words them (server.c shared objects, cluster.c clusterRedirectClient). */
const FIXED_REPLIES = {
  tryagain: 'TRYAGAIN Multiple keys request during rehashing of slot',
  clusterdown: 'CLUSTERDOWN The cluster is down',
  loading: 'LOADING Redis is loading the dataset in memory',
  busy: 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
  masterdown: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
  readonly: "READONLY You can't write against a read only replica.",
} as const;

export type ReplyFaultKind = 'moved' | 'ask' | keyof typeof FIXED_REPLIES;
export const REPLY_FAULT_KINDS: readonly ReplyFaultKind[] = ['moved', 'ask', ...(Object.keys(FIXED_REPLIES) as (keyof typeof FIXED_REPLIES)[])];

export interface ReplyFaultRule {
  kind: ReplyFaultKind;
  match: 'key' | 'command';
  pattern: string;
  probability: number;
  /** Answers left; Infinity when no COUNT was given. */
  remaining: number;
  seed: number;
  /** MOVED/ASK target; undefined: the address the client itself connected to. */
  to?: string;
  matched: number;
  injected: number;
  random: () => number;
}

/** A small seeded generator (32-bit state, xorshift-multiply mixing): enough to replay a sequence of coin flips. */
function seededCoin(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USAGE = 'DEBUG REPLY-FAULT <kind> KEY|COMMAND <pattern> [PROBABILITY p] [COUNT n] [SEED n] [TO host:port] | OFF | STATS';

/** Parses the arguments after REPLY-FAULT into a rule, or returns the error line to reply. */
export function parseReplyFault(args: readonly string[], defaultSeed: number): ReplyFaultRule | string {
  if (args.length < 3) return `ERR wrong number of arguments: ${USAGE}`;
  const kind = args[0].toLowerCase() as ReplyFaultKind;
  if (!REPLY_FAULT_KINDS.includes(kind)) return `ERR unknown reply fault '${args[0]}', expected one of ${REPLY_FAULT_KINDS.join(', ')}`;
  const match = args[1].toLowerCase();
  if (match !== 'key' && match !== 'command') return `ERR expected KEY or COMMAND, got '${args[1]}': ${USAGE}`;
  const rule: ReplyFaultRule = {
    kind, match, pattern: match === 'command' ? args[2].toLowerCase() : args[2], probability: 1, remaining: Infinity,
    seed: defaultSeed, matched: 0, injected: 0, random: Math.random,
  };
  for (let i = 3; i < args.length; i += 2) {
    const opt = args[i].toLowerCase();
    const value = args[i + 1];
    if (value === undefined) return `ERR ${args[i]} needs a value: ${USAGE}`;
    if (opt === 'probability') {
      const p = Number(value);
      if (!(p >= 0 && p <= 1) || value.trim() === '') return `ERR PROBABILITY must be a number from 0 to 1, got '${value}'`;
      rule.probability = p;
    } else if (opt === 'count') {
      if (!/^[1-9]\d*$/.test(value)) return `ERR COUNT must be a positive integer, got '${value}'`;
      rule.remaining = Number(value);
    } else if (opt === 'seed') {
      if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) return `ERR SEED must be an integer from 0 to 4294967295, got '${value}'`;
      rule.seed = Number(value);
    } else if (opt === 'to') {
      if (kind !== 'moved' && kind !== 'ask') return `ERR TO applies only to MOVED and ASK`;
      if (!/^[^\s:]+:\d{1,5}$/.test(value)) return `ERR TO must be host:port, got '${value}'`;
      rule.to = value;
    } else return `ERR unknown option '${args[i]}': ${USAGE}`;
  }
  rule.random = seededCoin(rule.seed);
  return rule;
}

/** The address a client reached this server at ("127.0.0.1:6379"), for a MOVED or ASK that points back here. */
function addressOf(call: CommandCall, port: number): string {
  const laddr = call.client.laddr;
  const colon = laddr.lastIndexOf(':');
  return colon > 0 ? laddr : `${laddr || '127.0.0.1'}:${port}`;
}

/** The rules of one server and the hook that applies them. */
export class ReplyFaults implements ServerMode {
  readonly name = 'reply-faults';
  readonly rules: ReplyFaultRule[] = [];

  constructor(private readonly port: () => number) {}

  beforeCommand(call: CommandCall): string | undefined {
    if (this.rules.length === 0 || call.client.kind === 'master' || call.spec.name === 'debug') return undefined;
    for (const rule of this.rules) {
      if (rule.remaining <= 0) continue;
      let key: string | undefined;
      if (rule.match === 'command') {
        const name = call.spec.name.includes('|') ? call.spec.name.slice(0, call.spec.name.indexOf('|')) : call.spec.name;
        if (!globMatch(rule.pattern, name)) continue;
        key = commandKeys(call.spec, call.argv)[0];
      } else {
        key = commandKeys(call.spec, call.argv).find((k) => globMatch(rule.pattern, k));
        if (key === undefined) continue;
      }
      rule.matched++;
      if (rule.probability < 1 && rule.random() >= rule.probability) continue;
      rule.remaining--;
      rule.injected++;
      return this.reply(rule, call, key);
    }
    return undefined;
  }

  private reply(rule: ReplyFaultRule, call: CommandCall, key: string | undefined): string {
    if (rule.kind === 'moved' || rule.kind === 'ask') {
      const slot = key === undefined ? 0 : keyHashSlot(key);
      return `${rule.kind.toUpperCase()} ${slot} ${rule.to ?? addressOf(call, this.port())}`;
    }
    return FIXED_REPLIES[rule.kind];
  }

  /** DEBUG REPLY-FAULT ... */
  command(ctx: CommandContext, argv: string[]): void {
    const sub = (argv[2] ?? '').toLowerCase();
    if (sub === 'off' && argv.length === 3) {
      this.rules.length = 0;
      ctx.reply.ok();
      return;
    }
    if (sub === 'stats' && argv.length === 3) {
      ctx.reply.arrayHeader(this.rules.length);
      for (const r of this.rules) {
        const left = r.remaining === Infinity ? 'unlimited' : String(r.remaining);
        ctx.reply.bulk(`kind=${r.kind} match=${r.match} pattern=${r.pattern} probability=${r.probability} seed=${r.seed} matched=${r.matched} injected=${r.injected} remaining=${left}${r.to ? ` to=${r.to}` : ''}`);
      }
      return;
    }
    const rule = parseReplyFault(argv.slice(2), Math.floor(Math.random() * 0xffffffff));
    if (typeof rule === 'string') {
      ctx.reply.error(rule);
      return;
    }
    this.rules.push(rule);
    ctx.server.log('notice', `DEBUG REPLY-FAULT: ${rule.kind.toUpperCase()} for ${rule.match} ${rule.pattern} (probability ${rule.probability}, seed ${rule.seed})`);
    ctx.reply.ok();
  }
}
