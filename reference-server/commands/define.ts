/** The one CommandSpec builder: COMMAND INFO's facts (name, arity, flags, key positions, ACL categories) in one line. */
import type { CommandFlag, CommandSpec } from './command.js';

export function def(
  name: string,
  arity: number,
  flags: string,
  keys: [number, number, number],
  categories: string,
  execute: CommandSpec['execute'],
  subcommands?: CommandSpec[],
): CommandSpec {
  return {
    name,
    arity,
    flags: flags.split(' ').filter((f) => f !== '') as CommandFlag[],
    firstKey: keys[0],
    lastKey: keys[1],
    step: keys[2],
    categories: categories.split(' ').filter((c) => c !== ''),
    execute,
    ...(subcommands ? { subcommands } : {}),
  };
}

export const NOKEYS: [number, number, number] = [0, 0, 0];

/** Parses a Redis integer argument (string2ll rules) within Number's exact range, or null. */
export { parseSafeInt as parseIntArg } from '../store/numbers.js';

/** A container command: the parent replies to a bare call; its subcommands dispatch through the server. */
export function container(name: string, categories: string, subs: CommandSpec[]): CommandSpec {
  return def(name, -2, '', NOKEYS, categories, (ctx, argv) => {
    ctx.reply.error(`ERR unknown subcommand '${argv[1] ?? ''}'. Try ${name.toUpperCase()} HELP.`);
  }, subs);
}
