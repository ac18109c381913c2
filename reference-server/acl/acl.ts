/**
 * The ACL state of one server (acl.c): the users, the default user with requirepass mapped onto it, AUTH, the
 * permission check processCommand and EXEC make (ACLCheckAllPerm), and the ACL LOG. It is the server's
 * AccessHooks once acl/install.ts installs it.
 */
import type { AccessHooks, ClientState, CommandSpec, ServerApi } from '../commands/command.js';
import { commandKeys } from '../commands/server.js';
import { clientInfoLine } from '../commands/connection.js';
import { globMatch } from '../server/glob.js';
import { keyFlags } from '../commands/key-specs.js';
import { buildUniverse, mergeSelectorArgs, setUserErrorText, User, type CommandUniverse, type Selector } from './users.js';

export type Denial = 'command' | 'key' | 'channel' | 'auth';

export interface LogEntry {
  count: number;
  reason: Denial;
  context: 'toplevel' | 'multi';
  object: string;
  username: string;
  /** Unix ms of the last occurrence. */
  ctime: number;
  cinfo: string;
}

/** Entries this close in time (and otherwise equal) are counted as one, as ACL_LOG_GROUPING_MAX_TIME_DELTA. */
const LOG_GROUPING_MS = 60000;

/** Why a check failed and the argument it failed on (argv index), as ACLCheckAllUserCommandPerm reports. */
export interface CheckResult {
  reason: Exclude<Denial, 'auth'>;
  index: number;
}

const CHANNEL_KINDS: Record<string, { from: number; pattern: boolean; all: boolean }> = {
  publish: { from: 1, pattern: false, all: false },
  spublish: { from: 1, pattern: false, all: false },
  subscribe: { from: 1, pattern: false, all: true },
  ssubscribe: { from: 1, pattern: false, all: true },
  psubscribe: { from: 1, pattern: true, all: true },
};

export class Acl implements AccessHooks {
  readonly users = new Map<string, User>();
  readonly log: LogEntry[] = [];
  private universeOf: ReadonlyMap<string, CommandSpec> | null = null;
  private universeCache: CommandUniverse | null = null;

  constructor(private readonly server: ServerApi) {
    const def = new User('default', false);
    const u = this.universe;
    for (const op of ['+@all', '~*', '&*', 'on', 'nopass']) def.apply(op, u, false, () => {});
    this.users.set('default', def);
    this.setRequirepass(server.config.get('requirepass') ?? '');
  }

  /**
   * The commands rules refer to: the server's current table (Sentinel's own in Sentinel mode), rebuilt when modes
   * added commands. A command new to the table is allowed to selectors whose last +@all / -@all was +@all, as Redis's
   * all-ones bitmap covers command ids assigned later.
   */
  get universe(): CommandUniverse {
    const fresh = buildUniverse(this.server.commands);
    const cached = this.universeCache;
    if (cached === null || cached.byName.size !== fresh.byName.size || this.universeOf !== this.server.commands) {
      if (cached !== null) {
        for (const user of this.users.values()) {
          for (const sel of user.selectors) {
            if (!sel.future) continue;
            for (const name of fresh.byName.keys()) if (!cached.byName.has(name)) sel.allowed.add(name);
          }
        }
      }
      this.universeOf = this.server.commands;
      this.universeCache = fresh;
    }
    return this.universeCache as CommandUniverse;
  }

  get defaultUser(): User {
    return this.users.get('default') as User;
  }

  /** acl-pubsub-default: whether new users start with allchannels. */
  pubsubDefaultAll(): boolean {
    return this.server.config.get('acl-pubsub-default') === 'allchannels';
  }

  /** ACLUpdateDefaultUserPassword: requirepass is the default user's one password ('' = nopass). */
  setRequirepass(pass: string): void {
    const def = this.defaultUser;
    const u = this.universe;
    def.apply('resetpass', u, false, () => {});
    def.apply(pass === '' ? 'nopass' : '>' + pass, u, false, () => {});
    this.defaultChanged();
  }

  /** A default user that needs no password lets unauthenticated connections in (authRequired turns false). */
  private defaultChanged(): void {
    if (this.authRequired()) return;
    for (const c of this.server.clients.values()) if (!c.authenticated && c.user === 'default') c.authenticated = true;
  }

  // ---- AccessHooks ----

  authRequired(): boolean {
    const def = this.defaultUser;
    return !def.nopass || !def.enabled;
  }

  defaultNoPass(): boolean {
    return this.defaultUser.nopass;
  }

  userExists(name: string): boolean {
    return this.users.has(name);
  }

  authenticate(c: ClientState, user: string, pass: string, cmdName: string): string | undefined {
    const u = this.users.get(user);
    if (u !== undefined && u.enabled && u.checkPassword(pass)) {
      c.authenticated = true;
      c.user = u.name;
      return undefined;
    }
    this.addLog(c, 'auth', c.inMulti ? 'multi' : 'toplevel', cmdName, user);
    return 'WRONGPASS invalid username-password pair or user is disabled.';
  }

  check(c: ClientState, spec: CommandSpec, argv: string[], inExec: boolean): string | undefined {
    // The master link runs as no user (c->user NULL): anything goes.
    if (c.kind === 'master') return undefined;
    const u = this.users.get(c.user);
    if (u === undefined) return undefined;
    const root = u.selectors[0];
    if (u.selectors.length === 1 && root.allCommands && root.allKeys && root.allChannels) return undefined;
    const denied = this.checkUser(u, spec, argv);
    if (denied === undefined) return undefined;
    // Redis set the client's last command at lookup, so the log's client info names the refused one.
    c.lastCommand = spec.name;
    const object = denied.reason === 'command' ? spec.name : argv[denied.index];
    this.addLog(c, denied.reason, inExec || c.inMulti ? 'multi' : 'toplevel', object, u.name);
    if (inExec) {
      const why = denied.reason === 'command' ? 'no permission to execute the command or subcommand'
        : denied.reason === 'key' ? 'no permission to touch the specified keys'
          : 'no permission to access one of the channels used as arguments';
      return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${why}`;
    }
    if (denied.reason === 'command') return `NOPERM this user has no permissions to run the '${spec.name}' command`;
    if (denied.reason === 'key') return 'NOPERM this user has no permissions to access one of the keys used as arguments';
    return 'NOPERM this user has no permissions to access one of the channels used as arguments';
  }

  /** ACLCheckAllUserCommandPerm: OK if any selector allows it, else the most relevant denial. */
  checkUser(u: User, spec: CommandSpec, argv: string[]): CheckResult | undefined {
    let worst: CheckResult = { reason: 'command', index: 0 };
    const rank = { command: 0, key: 1, channel: 2 };
    for (const sel of u.selectors) {
      const r = this.checkSelector(sel, spec, argv);
      if (r === undefined) return undefined;
      if (rank[r.reason] > rank[worst.reason] || (r.reason === worst.reason && r.index > worst.index)) worst = r;
    }
    return worst;
  }

  /** ACLSelectorCheckCmd: the command bit (or an allowed first argument), then keys, then channels. */
  private checkSelector(sel: Selector, spec: CommandSpec, argv: string[]): CheckResult | undefined {
    if (!sel.allCommands && !spec.flags.includes('no_auth') && !sel.allowed.has(spec.name)) {
      const firsts = sel.firstArgs.get(spec.name);
      const argIndex = spec.name.includes('|') ? 2 : 1;
      if (firsts === undefined || argv.length < 2 || !firsts.some((a) => a.toLowerCase() === (argv[argIndex] ?? '').toLowerCase())) {
        return { reason: 'command', index: 0 };
      }
    }
    if (!sel.allKeys) {
      const keys = keyPositions(spec, argv);
      const flags = keyFlags(spec.name, argv, keys.length);
      for (let i = 0; i < keys.length; i++) {
        // ACLSelectorCheckKey: access needs a read pattern; insert, delete and update need a write one.
        const f = flags[i];
        const needRead = f.includes('access');
        const needWrite = f.includes('update') || f.includes('insert') || f.includes('delete');
        const key = argv[keys[i]];
        const ok = sel.keys.some((k) => (!needRead || k.read) && (!needWrite || k.write) &&
          globMatch(k.pattern, key));
        if (!ok) return { reason: 'key', index: keys[i] };
      }
    }
    const kind = CHANNEL_KINDS[spec.name];
    if (!sel.allChannels && kind !== undefined) {
      const last = kind.all ? argv.length - 1 : kind.from;
      for (let i = kind.from; i <= last && i < argv.length; i++) {
        const ch = argv[i];
        const ok = sel.channels.some((p) => (kind.pattern ? p === ch : globMatch(p, ch)));
        if (!ok) return { reason: 'channel', index: i };
      }
    }
    return undefined;
  }

  // ---- ACL LOG ----

  addLog(c: ClientState, reason: Denial, context: 'toplevel' | 'multi', object: string, username: string): void {
    const now = Date.now();
    const cinfo = clientInfoLine(c);
    for (let i = 0; i < this.log.length && i < 10; i++) {
      const e = this.log[i];
      if (e.reason === reason && e.context === context && Math.abs(e.ctime - now) <= LOG_GROUPING_MS &&
        e.object === object && e.username === username) {
        e.count++;
        e.ctime = now;
        e.cinfo = cinfo;
        this.log.splice(i, 1);
        this.log.unshift(e);
        return;
      }
    }
    this.log.unshift({ count: 1, reason, context, object, username, ctime: now, cinfo });
    const max = this.server.config.getNumber('acllog-max-len');
    if (this.log.length > max) this.log.length = max;
  }

  // ---- users ----

  /** ACLStringSetUser: every rule applied to a copy, then all at once; the error text (without ERR) or undefined. */
  setUser(name: string, rules: readonly string[]): string | undefined {
    const m = mergeSelectorArgs(rules);
    if ('unmatched' in m) return `Unmatched parenthesis in acl selector starting at '${rules[m.unmatched]}'.`;
    const existing = this.users.get(name);
    const temp = existing ? existing.clone() : new User(name, this.pubsubDefaultAll());
    const u = this.universe;
    for (const op of m.merged) {
      const err = temp.apply(op, u, this.pubsubDefaultAll(), (msg) => this.server.log('warning', msg));
      if (err) return `Error in ACL SETUSER modifier '${op}': ${setUserErrorText(err)}`;
    }
    if (existing) {
      this.killPubsubClientsIfNeeded(temp, existing);
      existing.copyFrom(temp);
    }
    else this.users.set(name, temp);
    if (name === 'default') this.defaultChanged();
    return undefined;
  }

  /**
   * ACLKillPubsubClientsIfNeeded: when the new rules no longer cover every channel pattern the user had, its
   * subscribed connections holding a channel or pattern the new patterns do not allow are closed.
   */
  private killPubsubClientsIfNeeded(next: User, original: User): void {
    if (next.selectors.some((s) => s.allChannels)) return;
    const upcoming = next.selectors.flatMap((s) => s.channels);
    const covered = original.selectors.every((s) => !s.allChannels && s.channels.every((p) => upcoming.includes(p)));
    if (covered) return;
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== original.name || c.kind !== 'pubsub') continue;
      const bad = [...c.patterns].some((p) => !upcoming.includes(p)) ||
        [...c.channels].some((ch) => !upcoming.some((p) => globMatch(p, ch)));
      if (!bad) continue;
      if (c === this.server.currentClient) c.close(true);
      else c.destroy();
    }
  }

  /** A `user` line of the config file (ACLLoadConfiguredUsers): the log line of the first rule refused, or undefined. */
  loadConfiguredUser(name: string, rules: readonly string[]): string | undefined {
    if (/[\s\0]/.test(name)) return 'Spaces not allowed in ACL usernames';
    let u = this.users.get(name);
    const uni = this.universe;
    const log = (msg: string) => this.server.log('warning', msg);
    if (u === undefined) {
      u = new User(name, this.pubsubDefaultAll());
      this.users.set(name, u);
    } else u.apply('reset', uni, this.pubsubDefaultAll(), log);
    const m = mergeSelectorArgs(rules);
    for (const op of 'merged' in m ? m.merged : rules) {
      const err = u.apply(op, uni, this.pubsubDefaultAll(), log);
      if (err) return `Error loading ACL rule '${op}' for the user named '${name}': ${setUserErrorText(err)}`;
    }
    if (!u.enabled) this.server.log('notice', `The user '${name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`);
    if (name === 'default') this.defaultChanged();
    return undefined;
  }

  /** ACLFreeUserAndKillClients: the user's connections become unauthenticated default ones and are closed. */
  deleteUser(name: string): boolean {
    if (!this.users.delete(name)) return false;
    for (const c of [...this.server.clients.values()]) {
      if (c.user !== name || c.kind === 'master') continue;
      c.user = 'default';
      c.authenticated = false;
      if (c === this.server.currentClient) c.close(true);
      else c.destroy();
    }
    return true;
  }

  /** ACL LOAD: the file's users replace all others (their connections are closed); the default user keeps its object. */
  replaceUsers(users: Map<string, User>): void {
    const def = users.get('default');
    const fresh = new User('default', false);
    if (def === undefined) for (const op of ['+@all', '~*', '&*', 'on', 'nopass']) fresh.apply(op, this.universe, false, () => {});
    this.defaultUser.copyFrom(def ?? fresh);
    for (const name of [...this.users.keys()]) if (name !== 'default') this.deleteUser(name);
    for (const [name, u] of users) if (name !== 'default') this.users.set(name, u);
    this.defaultChanged();
  }

  /** Users sorted by name, as the rax iterates them. */
  sortedUsers(): User[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** The argv indexes of a command's keys (commandKeys gives names; repeated names map to successive positions). */
function keyPositions(spec: CommandSpec, argv: string[]): number[] {
  const names = commandKeys(spec, argv);
  if (names.length === 0) return [];
  const out: number[] = [];
  let from = 1;
  for (const name of names) {
    let at = argv.indexOf(name, from);
    if (at < 0) at = argv.indexOf(name, 1);
    out.push(at);
    if (at >= from) from = at + 1;
  }
  return out;
}
