/**
 * ACL as a server mode (server/modes.ts): the ACL command, and the server's AccessHooks (users, AUTH, the permission
 * check) replaced by acl.ts's. Users come from `user` lines of the config file, or from aclfile; requirepass stays
 * the default user's password, as Redis maps it.
 */
import { readFileSync } from 'node:fs';
import type { CommandSpec } from '../commands/command.js';
import type { RedisServer } from '../server/server.js';
import { splitArgs } from '../resp/splitargs.js';
import { Acl } from './acl.js';
import { aclCommand, attachAcl } from './commands.js';
import { loadAclFile } from './file.js';

export const commands: CommandSpec[] = [aclCommand];

/** The `user ...` lines of the config file, in order (the core config keeps only the last of a repeated directive). */
function configUserLines(path: string): string[][] {
  if (path === '') return [];
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return [];
  }
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const argv = splitArgs(raw.trim());
    if (argv !== null && argv.length >= 2 && argv[0].toLowerCase() === 'user') out.push(argv.slice(1));
  }
  return out;
}

/** Logs a startup error as Redis does and ends the start the way Redis does (exit 1; see bin/redis-ref-server.ts). */
function fatal(server: RedisServer, msg: string): never {
  server.log('warning', msg);
  throw Object.assign(new Error(msg), { ending: 'exit1' });
}

/** Creates the server's Acl and plugs it in; Sentinel mode calls it after its command table is in place. */
export function installAcl(server: RedisServer): Acl {
  const acl = new Acl(server);
  attachAcl(server, acl);
  const file = server.config.get('aclfile') ?? '';
  const configured = configUserLines(server.config.configFile);
  // ACLLoadUsersAtStartup: users in both places is refused; a bad aclfile stops the start (exit 1).
  if (file !== '' && configured.length > 0) {
    fatal(server, 'Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.');
  }
  // ACLLoadConfiguredUsers: a new user starts empty, the default user from "reset"; then each rule in turn.
  for (const [name, ...rules] of configured) {
    const err = acl.loadConfiguredUser(name, rules);
    if (err !== undefined) {
      server.log('warning', err);
      fatal(server, 'Critical error while loading ACLs. Exiting.');
    }
  }
  if (file !== '') {
    const err = loadAclFile(acl, file);
    if (err !== undefined) fatal(server, `Aborting Redis startup because of ACL errors: ${err}`);
  }
  // rewriteConfigUserOption: users go to the config file unless an aclfile holds them.
  server.config.setRewriter('user', () => (
    (server.config.get('aclfile') ?? '') !== '' ? [] : acl.sortedUsers().map((u) => `user ${u.name} ${u.describe(acl.universe)}`)
  ));
  server.config.onChange((name, value) => {
    if (name === 'requirepass') acl.setRequirepass(value);
  });
  server.install({ name: 'acl', access: acl });
  return acl;
}

export function install(server: RedisServer): void {
  installAcl(server);
}
