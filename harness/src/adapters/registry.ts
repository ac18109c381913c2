/**
 * The shipped adapters (clients/ at the package root) by name, and how a user's own adapter is named on the
 * command line: a shipped name, or a command line (`./my-adapter --flag`, split on whitespace).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../topology/paths.js';
import type { AdapterSpec } from './process.js';
import { BadInputError } from '../results/exit-code.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Shipped adapters the suites and `--client all` run. */
export const SHIPPED_CLIENTS = ['ioredis', 'node-redis', 'redis-py'] as const;

/** Deliberately broken adapters (test fixtures): the client scenarios must fail them. */
export const BROKEN_CLIENTS = ['broken-cached-master', 'broken-no-timeout'] as const;

function shippedCommand(name: string): string[] | undefined {
  switch (name) {
    case 'ioredis':
      return [process.execPath, 'clients/ioredis/adapter.mjs'];
    case 'node-redis':
      return [process.execPath, 'clients/node-redis/adapter.mjs'];
    case 'redis-py':
      return [PYTHON, 'clients/redis-py/adapter.py'];
    case 'broken-cached-master':
      return [process.execPath, 'clients/fixtures/broken.mjs', 'cached-master'];
    case 'broken-no-timeout':
      return [process.execPath, 'clients/fixtures/broken.mjs', 'no-timeout'];
    default:
      return undefined;
  }
}

const INTERPRETERS = /^(node|nodejs|python[0-9.]*|pypy[0-9.]*|ruby|perl|php|bash|sh|deno|bun|java|dotnet|lua[0-9.]*|Rscript)$/;

/** A shipped name or a command line; relative paths in a command resolve from the current folder. */
export function resolveAdapter(arg: string): AdapterSpec {
  const shipped = shippedCommand(arg);
  if (shipped) return { name: arg, command: shipped.map((p, i) => (i > 0 && p.startsWith('clients/') ? path.join(packageRoot(), p) : p)) };
  const command = arg.trim().split(/\s+/).filter(Boolean);
  if (command.length === 0) throw new BadInputError('--client: empty adapter command; give a shipped name (' + knownAdapters().join(', ') + ') or a command line');
  // Named after the program, not its interpreter: "node ./my-adapter.mjs" is my-adapter.mjs.
  const first = path.basename(command[0]!);
  const script = INTERPRETERS.test(first) ? command.slice(1).find((w) => !w.startsWith('-')) : undefined;
  return { name: path.basename(script ?? command[0]!), command };
}

/** Shipped names and fixtures, for messages. */
export function knownAdapters(): string[] {
  return [...SHIPPED_CLIENTS, ...BROKEN_CLIENTS];
}
