/** aclfile: ACL LOAD (ACLLoadFromFile, all or nothing) and ACL SAVE (one `user` line per user, written atomically). */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Acl } from './acl.js';
import { mergeSelectorArgs, setUserErrorText, User } from './users.js';

/** Loads the file in place of every user; the error text (Redis's, without ERR) when nothing was changed. */
export function loadAclFile(acl: Acl, path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `Error loading ACLs, opening file '${path}': ${code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`;
  }
  const users = new Map<string, User>();
  let errors = '';
  const uni = acl.universe;
  const pubsubAll = acl.pubsubDefaultAll();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    const n = i + 1;
    if (line === '') return;
    const argv = line.split(' ').filter((a) => a !== '');
    if (argv.length === 0) return;
    if (argv[0] !== 'user' || argv.length < 2) {
      errors += `${path}:${n} should start with user keyword followed by the username. `;
      return;
    }
    if (/[\s\0]/.test(argv[1])) {
      errors += `'${path}:${n}: username '${argv[1]}' contains invalid characters. `;
      return;
    }
    if (users.has(argv[1])) {
      errors += `WARNING: Duplicate user '${argv[1]}' found on line ${n}. `;
      return;
    }
    const u = new User(argv[1], pubsubAll);
    users.set(argv[1], u);
    const m = mergeSelectorArgs(argv.slice(2));
    if ('unmatched' in m) {
      errors += `${path}:${n}: Unmatched parenthesis in selector definition.`;
      return;
    }
    let syntax = false;
    for (const op of m.merged) {
      const err = u.apply(op.replace(/^[\t\r\n]+|[\t\r\n]+$/g, ''), uni, pubsubAll, () => {});
      if (err === 'ENOENT') errors += `${path}:${n}: Error in applying operation '${op}': ${setUserErrorText(err)}. `;
      else if (err && !syntax) {
        errors += `${path}:${n}: ${setUserErrorText(err)}. `;
        syntax = true;
      }
    }
  });
  if (errors !== '') return errors + 'WARNING: ACL errors detected, no change to the previously active ACL rules was performed';
  acl.replaceUsers(users);
  return undefined;
}

/** Writes every user as ACL LIST shows them; the error for the log, or undefined. */
export function saveAclFile(acl: Acl, path: string): string | undefined {
  const text = acl.sortedUsers().map((u) => `user ${u.name} ${u.describe(acl.universe)}\n`).join('');
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, 'latin1');
    renameSync(tmp, path);
  } catch (e) {
    return `Opening temp ACL file for ACL SAVE: ${(e as Error).message}`;
  }
  return undefined;
}
