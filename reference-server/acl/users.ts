/**
 * ACL users as Redis 7.0's acl.c keeps them: flags, password hashes, and selectors (the root one plus any
 * "(...)" ones), each with allowed commands, key patterns and channel patterns. Rules are applied with ACLSetUser's
 * grammar and described back in ACL LIST / GETUSER form. The command table is passed in (CommandUniverse), so
 * Sentinel's table gives Sentinel's categories.
 */
import { createHash } from 'node:crypto';
import type { CommandSpec } from '../commands/command.js';
import { splitArgs } from '../resp/splitargs.js';

/** ACLCommandCategories, in Redis's order (ACL CAT, and the order categories are tried when describing rules). */
export const CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** The commands ACL rules refer to: every top-level command and subcommand, in table order, and name lookup. */
export interface CommandUniverse {
  /** Top-level commands in table order (their subcommands hang off them). */
  readonly top: readonly CommandSpec[];
  /** Lower-case full name ("config|get") -> spec. */
  readonly byName: ReadonlyMap<string, CommandSpec>;
}

export function buildUniverse(table: ReadonlyMap<string, CommandSpec>): CommandUniverse {
  const top: CommandSpec[] = [];
  const byName = new Map<string, CommandSpec>();
  for (const spec of table.values()) {
    if (byName.has(spec.name)) continue;
    top.push(spec);
    byName.set(spec.name, spec);
    for (const sub of spec.subcommands ?? []) byName.set(sub.name, sub);
  }
  return { top, byName };
}

/** SetUser error kinds, with ACLSetUserStringError's texts. */
const SETUSER_ERRORS = {
  ENOENT: 'Unknown command or category name in ACL',
  EINVAL: 'Syntax error',
  EEXIST: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  EISDIR: "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  ENODEV: 'The password you are trying to remove from the user does not exist',
  EBADMSG: 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters',
  ECHILD: 'Allowing first-arg of a subcommand is not supported',
} as const;
export type SetUserError = keyof typeof SETUSER_ERRORS;
export function setUserErrorText(e: SetUserError): string {
  return SETUSER_ERRORS[e];
}

export interface KeyPattern {
  pattern: string;
  read: boolean;
  write: boolean;
}

export class Selector {
  /** Commands (full names) whose bit is set. */
  allowed = new Set<string>();
  /** Redis's reserved command bit: set by +@all only, so the rules start from +@all when described. */
  future = false;
  /** SELECTOR_FLAG_ALLCOMMANDS: +@all and no command removed since. */
  allCommands = false;
  /** Allowed first arguments of otherwise blocked commands (+select|0). */
  firstArgs = new Map<string, string[]>();
  allKeys = false;
  keys: KeyPattern[] = [];
  allChannels = false;
  channels: string[] = [];

  constructor(allChannels: boolean) {
    this.allChannels = allChannels;
  }

  clone(): Selector {
    const s = new Selector(this.allChannels);
    s.allowed = new Set(this.allowed);
    s.future = this.future;
    s.allCommands = this.allCommands;
    s.firstArgs = new Map([...this.firstArgs].map(([k, v]) => [k, [...v]]));
    s.allKeys = this.allKeys;
    s.keys = this.keys.map((k) => ({ ...k }));
    s.channels = [...this.channels];
    return s;
  }

  /** ACLChangeSelectorPerm: a command's bit, and its subcommands' bits. */
  setPerm(spec: CommandSpec, allow: boolean): void {
    this.setBit(spec.name, allow);
    this.firstArgs.delete(spec.name);
    for (const sub of spec.subcommands ?? []) this.setBit(sub.name, allow);
  }

  private setBit(name: string, allow: boolean): void {
    if (allow) this.allowed.add(name);
    else {
      this.allowed.delete(name);
      this.allCommands = false;
    }
  }

  /** ACLSetSelectorCommandBitsForCategory. */
  setCategory(u: CommandUniverse, category: string, allow: boolean): void {
    const walk = (specs: readonly CommandSpec[]) => {
      for (const spec of specs) {
        if (spec.categories.includes(category)) this.setPerm(spec, allow);
        if (spec.subcommands) walk(spec.subcommands);
      }
    };
    walk(u.top);
  }

  setAll(allow: boolean, u: CommandUniverse): void {
    this.allowed = new Set();
    if (allow) for (const name of u.byName.keys()) this.allowed.add(name);
    this.future = allow;
    this.allCommands = allow;
    this.firstArgs.clear();
  }

  /** ACLSetSelector: one selector rule; an error kind when it is refused. */
  apply(op: string, u: CommandUniverse, log: (msg: string) => void): SetUserError | undefined {
    const lop = op.toLowerCase();
    if (lop === 'allkeys' || op === '~*') {
      this.allKeys = true;
      this.keys = [];
    } else if (lop === 'resetkeys') {
      this.allKeys = false;
      this.keys = [];
    } else if (lop === 'allchannels' || op === '&*') {
      this.allChannels = true;
      this.channels = [];
    } else if (lop === 'resetchannels') {
      this.allChannels = false;
      this.channels = [];
    } else if (lop === 'allcommands' || lop === '+@all') {
      this.setAll(true, u);
    } else if (lop === 'nocommands' || lop === '-@all') {
      this.setAll(false, u);
    } else if (op[0] === '~' || op[0] === '%') {
      if (this.allKeys) return 'EEXIST';
      let read = false;
      let write = false;
      let offset = 1;
      if (op[0] === '%') {
        for (; offset < op.length; offset++) {
          const ch = op[offset].toUpperCase();
          if (ch === 'R' && !read) read = true;
          else if (ch === 'W' && !write) write = true;
          else if (op[offset] === '~') {
            offset++;
            break;
          } else return 'EINVAL';
        }
      } else {
        read = write = true;
      }
      const pattern = op.slice(offset);
      if (hasSpaces(pattern)) return 'EINVAL';
      const same = this.keys.find((k) => k.pattern === pattern);
      if (same) {
        same.read ||= read;
        same.write ||= write;
      } else this.keys.push({ pattern, read, write });
      this.allKeys = false;
    } else if (op[0] === '&') {
      if (this.allChannels) return 'EISDIR';
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) return 'EINVAL';
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.allChannels = false;
    } else if (op[0] === '+' && op[1] !== '@') {
      const name = op.slice(1);
      const bar = name.lastIndexOf('|');
      if (bar < 0) {
        const spec = u.byName.get(name.toLowerCase());
        if (!spec) return 'ENOENT';
        this.setPerm(spec, true);
      } else {
        const parent = u.byName.get(name.slice(0, bar).toLowerCase());
        if (!parent) return 'ENOENT';
        if (parent.name.includes('|')) return 'ECHILD';
        const sub = name.slice(bar + 1);
        if (sub === '') return 'EINVAL';
        if (parent.subcommands) {
          const spec = u.byName.get(name.toLowerCase());
          if (!spec) return 'ENOENT';
          this.setPerm(spec, true);
        } else {
          log(`Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +${name})`);
          const list = this.firstArgs.get(parent.name) ?? [];
          if (!list.some((a) => a.toLowerCase() === sub.toLowerCase())) list.push(sub);
          this.firstArgs.set(parent.name, list);
        }
      }
    } else if (op[0] === '-' && op[1] !== '@') {
      const spec = u.byName.get(op.slice(1).toLowerCase());
      if (!spec) return 'ENOENT';
      this.setPerm(spec, false);
    } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
      const cat = op.slice(2).toLowerCase();
      if (!CATEGORIES.includes(cat)) return 'ENOENT';
      this.setCategory(u, cat, op[0] === '+');
    } else return 'EINVAL';
    return undefined;
  }

  /** ACLDescribeSelectorCommandRules: +@all / -@all, the best-fitting categories, then single commands. */
  describeCommands(u: CommandUniverse): string {
    const additive = !this.future;
    let rules = additive ? '-@all ' : '+@all ';
    const fake = new Selector(false);
    fake.setAll(!additive, u);
    const temp = new Selector(false);
    temp.allowed = new Set(this.allowed);
    const applied = new Set<string>();
    for (;;) {
      let best: string | undefined;
      let mindiff = Number.MAX_SAFE_INTEGER;
      let maxsame = 0;
      for (const cat of CATEGORIES) {
        if (applied.has(cat)) continue;
        let on = 0;
        let off = 0;
        for (const spec of u.byName.values()) {
          if (!spec.categories.includes(cat)) continue;
          if (temp.allowed.has(spec.name)) on++;
          else off++;
        }
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < mindiff || (diff === mindiff && same > maxsame))) {
          best = cat;
          mindiff = diff;
          maxsame = same;
        }
      }
      if (best === undefined) break;
      fake.setCategory(u, best, additive);
      temp.setCategory(u, best, !additive);
      rules += `${additive ? '+' : '-'}@${best} `;
      applied.add(best);
    }
    const singles = (specs: readonly CommandSpec[]) => {
      for (const spec of specs) {
        const mine = this.allowed.has(spec.name);
        if (mine !== fake.allowed.has(spec.name)) {
          rules += `${mine ? '+' : '-'}${spec.name} `;
          fake.setPerm(spec, mine);
        }
        if (spec.subcommands) singles(spec.subcommands);
        const firsts = this.firstArgs.get(spec.name);
        if (!mine && firsts) for (const a of firsts) rules += `+${spec.name}|${a} `;
      }
    };
    singles(u.top);
    return rules.slice(0, -1);
  }

  keysText(): string {
    if (this.allKeys) return '~*';
    return this.keys.map(patternText).join(' ');
  }

  channelsText(): string {
    if (this.allChannels) return '&*';
    return this.channels.map((c) => '&' + c).join(' ');
  }

  /** ACLDescribeSelector. */
  describe(u: CommandUniverse): string {
    let res = '';
    if (this.allKeys) res += '~* ';
    else for (const k of this.keys) res += patternText(k) + ' ';
    if (this.allChannels) res += '&* ';
    else {
      res += 'resetchannels ';
      for (const c of this.channels) res += '&' + c + ' ';
    }
    return res + this.describeCommands(u);
  }
}

function patternText(k: KeyPattern): string {
  return (k.read && k.write ? '~' : k.read ? '%R~' : '%W~') + k.pattern;
}

function hasSpaces(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) <= 32 || s[i] === '\0') return true;
  return false;
}

export function hashPassword(pass: string): string {
  return createHash('sha256').update(Buffer.from(pass, 'latin1')).digest('hex');
}

const HASH_RE = /^[0-9a-f]{64}$/;

export class User {
  enabled = false;
  nopass = false;
  /** sanitize-payload / skip-sanitize-payload, unset until a rule names one (ACLCreateUser sets neither). */
  sanitize: 'sanitize-payload' | 'skip-sanitize-payload' | null = null;
  passwords: string[] = [];
  /** The root selector first, then "(...)" selectors. */
  selectors: Selector[];

  constructor(readonly name: string, allChannels: boolean) {
    this.selectors = [new Selector(allChannels)];
  }

  get root(): Selector {
    return this.selectors[0];
  }

  clone(name = this.name): User {
    const u = new User(name, false);
    u.enabled = this.enabled;
    u.nopass = this.nopass;
    u.sanitize = this.sanitize;
    u.passwords = [...this.passwords];
    u.selectors = this.selectors.map((s) => s.clone());
    return u;
  }

  /** Takes over another user's rules (ACLCopyUser), keeping the name. */
  copyFrom(o: User): void {
    this.enabled = o.enabled;
    this.nopass = o.nopass;
    this.sanitize = o.sanitize;
    this.passwords = [...o.passwords];
    this.selectors = o.selectors.map((s) => s.clone());
  }

  /** ACLSetUser: one rule. */
  apply(op: string, u: CommandUniverse, pubsubAll: boolean, log: (msg: string) => void): SetUserError | undefined {
    if (op === '') return undefined;
    const lop = op.toLowerCase();
    if (lop === 'on') this.enabled = true;
    else if (lop === 'off') this.enabled = false;
    else if (lop === 'skip-sanitize-payload' || lop === 'sanitize-payload') this.sanitize = lop;
    else if (lop === 'nopass') {
      this.nopass = true;
      this.passwords = [];
    } else if (lop === 'resetpass') {
      this.nopass = false;
      this.passwords = [];
    } else if (op[0] === '>' || op[0] === '#') {
      let hash: string;
      if (op[0] === '>') hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!HASH_RE.test(hash)) return 'EBADMSG';
      }
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.nopass = false;
    } else if (op[0] === '<' || op[0] === '!') {
      let hash: string;
      if (op[0] === '<') hash = hashPassword(op.slice(1));
      else {
        hash = op.slice(1);
        if (!HASH_RE.test(hash)) return 'EBADMSG';
      }
      const at = this.passwords.indexOf(hash);
      if (at < 0) return 'ENODEV';
      this.passwords.splice(at, 1);
    } else if (op[0] === '(' && op[op.length - 1] === ')') {
      const sel = new Selector(pubsubAll);
      for (const inner of splitArgs(op.slice(1, -1)) ?? []) {
        const err = sel.apply(inner, u, log);
        if (err) return err;
      }
      this.selectors.push(sel);
    } else if (lop === 'clearselectors') {
      this.selectors = [this.root];
    } else if (lop === 'reset') {
      this.nopass = false;
      this.passwords = [];
      this.root.apply('resetkeys', u, log);
      this.root.apply('resetchannels', u, log);
      if (pubsubAll) this.root.apply('allchannels', u, log);
      this.enabled = false;
      this.sanitize = 'sanitize-payload';
      this.selectors = [this.root];
      this.root.apply('-@all', u, log);
    } else return this.root.apply(op, u, log);
    return undefined;
  }

  /** The user's flags in ACLUserFlags order (ACL GETUSER's flags). */
  flags(): string[] {
    const f = [this.enabled ? 'on' : 'off'];
    if (this.nopass) f.push('nopass');
    if (this.sanitize !== null) f.push(this.sanitize);
    return f;
  }

  /** ACLDescribeUser: flags, #hashes, then each selector (non-root ones in parentheses). */
  describe(u: CommandUniverse): string {
    let res = '';
    for (const f of this.flags()) res += f + ' ';
    for (const p of this.passwords) res += '#' + p + ' ';
    this.selectors.forEach((s, i) => {
      res += i === 0 ? s.describe(u) : ` (${s.describe(u)})`;
    });
    return res;
  }

  checkPassword(pass: string): boolean {
    if (this.nopass) return true;
    return this.passwords.includes(hashPassword(pass));
  }
}

/**
 * ACLMergeSelectorArguments: arguments from one starting with "(" to one ending with ")" become one "(...)" rule;
 * the index of an unmatched "(" argument when there is one.
 */
export function mergeSelectorArgs(args: readonly string[]): { merged: string[] } | { unmatched: number } {
  const merged: string[] = [];
  let open: string | null = null;
  let openAt = 0;
  args.forEach((a, i) => {
    if (open !== null) {
      open += ' ' + a;
      if (a.endsWith(')')) {
        merged.push(open);
        open = null;
      }
    } else if (a.startsWith('(') && !a.endsWith(')')) {
      open = a;
      openAt = i;
    } else merged.push(a);
  });
  if (open !== null) return { unmatched: openAt };
  return { merged };
}
