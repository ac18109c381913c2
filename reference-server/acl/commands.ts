/** The ACL command and its subcommands (aclCommand of acl.c), answering from the server's Acl. */
import { randomBytes } from 'node:crypto';
import type { CommandContext, CommandSpec, ServerApi } from '../commands/command.js';
import { container, def, NOKEYS, parseIntArg } from '../commands/define.js';
import type { Acl } from './acl.js';
import { CATEGORIES } from './users.js';
import { loadAclFile, saveAclFile } from './file.js';

/** Each server's Acl; commands find it from their server. */
const acls = new WeakMap<object, Acl>();

export function attachAcl(server: ServerApi, acl: Acl): void {
  acls.set(server, acl);
}

function aclOf(ctx: CommandContext): Acl {
  const acl = acls.get(ctx.server);
  if (acl === undefined) throw new Error('ACL is not installed');
  return acl;
}

/** addReplySubcommandSyntaxError. */
function syntaxError(ctx: CommandContext, argv: string[]): void {
  ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try ${argv[0].toUpperCase()} HELP.`);
}

const ADMIN = 'admin noscript loading stale';
const ADMIN_CATS = 'admin slow dangerous';

const HELP = [
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'LOG [<count> | RESET]',
  '    Show the ACL log entries.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
];

const NO_ACLFILE = 'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

const subs: CommandSpec[] = [
  def('acl|cat', -2, 'noscript loading stale', NOKEYS, 'slow', (ctx, argv) => {
    if (argv.length > 3) {
      syntaxError(ctx, argv);
      return;
    }
    if (argv.length === 2) {
      ctx.reply.bulkArray(CATEGORIES);
      return;
    }
    const cat = argv[2].toLowerCase();
    if (!CATEGORIES.includes(cat)) {
      ctx.reply.error(`ERR Unknown category '${argv[2].slice(0, 128)}'`);
      return;
    }
    const names: string[] = [];
    const walk = (specs: readonly CommandSpec[]) => {
      for (const spec of specs) {
        if (spec.categories.includes(cat)) names.push(spec.name);
        if (spec.subcommands) walk(spec.subcommands);
      }
    };
    walk(aclOf(ctx).universe.top);
    ctx.reply.bulkArray(names);
  }),
  def('acl|deluser', -3, ADMIN, NOKEYS, ADMIN_CATS, (ctx, argv) => {
    const acl = aclOf(ctx);
    if (argv.slice(2).includes('default')) {
      ctx.reply.error("ERR The 'default' user cannot be removed");
      return;
    }
    let deleted = 0;
    for (const name of argv.slice(2)) if (acl.deleteUser(name)) deleted++;
    ctx.reply.integer(deleted);
  }),
  def('acl|dryrun', -4, ADMIN, NOKEYS, ADMIN_CATS, (ctx, argv) => {
    const acl = aclOf(ctx);
    const u = acl.users.get(argv[2]);
    if (u === undefined) {
      ctx.reply.error(`ERR User '${argv[2]}' not found`);
      return;
    }
    const cmdArgv = argv.slice(3);
    let spec = acl.universe.byName.get(cmdArgv[0].toLowerCase());
    if (spec?.subcommands && cmdArgv.length >= 2) spec = acl.universe.byName.get(`${spec.name}|${cmdArgv[1].toLowerCase()}`);
    if (spec === undefined) {
      ctx.reply.error(`ERR Command '${cmdArgv[0]}' not found`);
      return;
    }
    if ((spec.arity > 0 && spec.arity !== cmdArgv.length) || cmdArgv.length < -spec.arity) {
      ctx.reply.error(`ERR wrong number of arguments for '${spec.name}' command`);
      return;
    }
    const r = acl.checkUser(u, spec, cmdArgv);
    if (r === undefined) ctx.reply.ok();
    else if (r.reason === 'command') ctx.reply.bulk(`This user has no permissions to run the '${spec.name}' command`);
    else ctx.reply.bulk(`This user has no permissions to access the '${cmdArgv[r.index]}' ${r.reason}`);
  }),
  def('acl|genpass', -2, 'noscript loading stale', NOKEYS, 'slow', (ctx, argv) => {
    if (argv.length > 3) {
      syntaxError(ctx, argv);
      return;
    }
    let bits = 256;
    if (argv.length === 3) {
      const n = parseIntArg(argv[2]);
      if (n === null) {
        ctx.reply.error('ERR value is not an integer or out of range');
        return;
      }
      bits = n;
    }
    if (bits <= 0 || bits > 4096) {
      ctx.reply.error('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
      return;
    }
    const chars = Math.floor((bits + 3) / 4);
    ctx.reply.bulk(randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
  }),
  def('acl|getuser', 3, ADMIN, NOKEYS, ADMIN_CATS, (ctx, argv) => {
    const acl = aclOf(ctx);
    const u = acl.users.get(argv[2]);
    if (u === undefined) {
      ctx.reply.bulk(null);
      return;
    }
    const r = ctx.reply;
    const uni = acl.universe;
    const selectorFields = (sel: typeof u.root) => {
      r.bulk('commands');
      r.bulk(sel.describeCommands(uni));
      r.bulk('keys');
      r.bulk(sel.keysText());
      r.bulk('channels');
      r.bulk(sel.channelsText());
    };
    r.mapHeader(6);
    r.bulk('flags');
    const flags = u.flags();
    r.setHeader(flags.length);
    for (const f of flags) r.bulk(f);
    r.bulk('passwords');
    r.bulkArray(u.passwords);
    selectorFields(u.root);
    r.bulk('selectors');
    r.arrayHeader(u.selectors.length - 1);
    for (const sel of u.selectors.slice(1)) {
      r.mapHeader(3);
      selectorFields(sel);
    }
  }),
  def('acl|help', 2, 'loading stale', NOKEYS, 'slow', (ctx) => {
    const lines = ['ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', ...HELP, 'HELP', '    Prints this help.'];
    ctx.reply.arrayHeader(lines.length);
    for (const l of lines) ctx.reply.simple(l);
  }),
  def('acl|list', 2, ADMIN, NOKEYS, ADMIN_CATS, (ctx) => {
    const acl = aclOf(ctx);
    ctx.reply.bulkArray(acl.sortedUsers().map((u) => `user ${u.name} ${u.describe(acl.universe)}`));
  }),
  def('acl|load', 2, ADMIN, NOKEYS, ADMIN_CATS, (ctx) => {
    const file = ctx.server.config.get('aclfile') ?? '';
    if (file === '') {
      ctx.reply.error(NO_ACLFILE);
      return;
    }
    const err = loadAclFile(aclOf(ctx), file);
    if (err === undefined) ctx.reply.ok();
    else ctx.reply.error('ERR ' + err);
  }),
  def('acl|log', -2, ADMIN, NOKEYS, ADMIN_CATS, (ctx, argv) => {
    const acl = aclOf(ctx);
    if (argv.length > 3) {
      syntaxError(ctx, argv);
      return;
    }
    let count = 10;
    if (argv.length === 3) {
      if (argv[2].toLowerCase() === 'reset') {
        acl.log.length = 0;
        ctx.reply.ok();
        return;
      }
      const n = parseIntArg(argv[2]);
      if (n === null) {
        ctx.reply.error('ERR value is not an integer or out of range');
        return;
      }
      count = Math.max(0, n);
    }
    const entries = acl.log.slice(0, count);
    const r = ctx.reply;
    const now = Date.now();
    r.arrayHeader(entries.length);
    for (const e of entries) {
      r.mapHeader(7);
      r.bulk('count');
      r.integer(e.count);
      r.bulk('reason');
      r.bulk(e.reason);
      r.bulk('context');
      r.bulk(e.context);
      r.bulk('object');
      r.bulk(e.object);
      r.bulk('username');
      r.bulk(e.username);
      r.bulk('age-seconds');
      r.double((now - e.ctime) / 1000);
      r.bulk('client-info');
      r.bulk(e.cinfo);
    }
  }),
  def('acl|save', 2, ADMIN, NOKEYS, ADMIN_CATS, (ctx) => {
    const file = ctx.server.config.get('aclfile') ?? '';
    if (file === '') {
      ctx.reply.error(NO_ACLFILE);
      return;
    }
    const err = saveAclFile(aclOf(ctx), file);
    if (err === undefined) ctx.reply.ok();
    else {
      ctx.server.log('warning', err);
      ctx.reply.error('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
    }
  }),
  def('acl|setuser', -3, ADMIN, NOKEYS, ADMIN_CATS, (ctx, argv) => {
    const name = argv[2];
    for (let i = 0; i < name.length; i++) {
      if (name.charCodeAt(i) <= 32) {
        ctx.reply.error("ERR Usernames can't contain spaces or null characters");
        return;
      }
    }
    const err = aclOf(ctx).setUser(name, argv.slice(3));
    if (err === undefined) ctx.reply.ok();
    else ctx.reply.error('ERR ' + err);
  }),
  def('acl|users', 2, ADMIN, NOKEYS, ADMIN_CATS, (ctx) => {
    ctx.reply.bulkArray(aclOf(ctx).sortedUsers().map((u) => u.name));
  }),
  def('acl|whoami', 2, 'noscript loading stale', NOKEYS, 'slow', (ctx) => {
    ctx.reply.bulk(ctx.client.user);
  }),
];

export const aclCommand = container('acl', 'slow', subs);
