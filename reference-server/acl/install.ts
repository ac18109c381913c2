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

/** Creates the server's Acl and plugs it in; Sentinel mode calls it after its command table is in place. */
export function installAcl(server: RedisServer): Acl {
  const acl = new Acl(server);
  attachAcl(server, acl);
  // ACLLoadConfiguredUsers: each configured user starts from "reset", then its rules.
  for (const [name, ...rules] of configUserLines(server.config.configFile)) {
    const err = acl.setUser(name, ['reset', ...rules]);
    if (err !== undefined) server.log('warning', `Error in user declaration '${name}': ${err}`);
  }
  const file = server.config.get('aclfile') ?? '';
  if (file !== '') {
    const err = loadAclFile(acl, file);
    if (err !== undefined) server.log('warning', `Aborting Redis startup because of ACL errors: ${err}`);
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
