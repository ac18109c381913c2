/**
 * FUNCTION, SCRIPT, EVAL and FCALL without a script engine: the server has no Lua, so there are never any
 * libraries or cached scripts. Each command still answers as Redis 7.0 answers a server in that state (empty
 * lists, NOSCRIPT, "Function not found", FLUSH accepted, an empty FUNCTION DUMP payload that RESTORE takes back),
 * so clients and tools that tidy up with FUNCTION FLUSH or SCRIPT FLUSH (Redis's own test suite does before every
 * unit), or copy functions with DUMP and RESTORE (redis-cli --cluster add-node), work unchanged.
 */
import type { CommandSpec, Reply } from './command.js';
import { container, def, NOKEYS, parseIntArg } from './define.js';
import { createFunctionsPayload, parseFunctionsPayload } from '../persistence/dump.js';

/** Redis checks numkeys before anything else in EVAL/EVALSHA/FCALL. */
function checkNumKeys(argv: string[], reply: Reply): boolean {
  const n = parseIntArg(argv[2] ?? '');
  if (n === null) {
    reply.error('ERR value is not an integer or out of range');
    return false;
  }
  if (n > argv.length - 3) {
    reply.error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  if (n < 0) {
    reply.error("ERR Number of keys can't be negative");
    return false;
  }
  return true;
}

/** Keys of EVAL-like commands: argv[3 .. 3+numkeys). */
function evalKeys(argv: string[]): string[] {
  const n = parseIntArg(argv[2] ?? '') ?? 0;
  return n > 0 ? argv.slice(3, 3 + n) : [];
}

const NO_ENGINE = 'ERR the reference server has no script engine (Lua scripting is not implemented)';

/**
 * Why a library's code cannot be created (functionsCreateWithLibraryCtx's error, without "ERR "): its metadata line
 * checked as functionExtractLibMetaData does, then its engine looked up, and no engine is registered here.
 */
function libraryError(code: string): string {
  if (!code.startsWith('#!')) return 'Missing library metadata';
  const end = code.indexOf('\n');
  if (end < 0) return 'Invalid library metadata';
  const parts = code.slice(0, end).split(/[ \t\r]+/).filter(Boolean);
  if (parts.length === 0) return 'Invalid library metadata';
  let name: string | undefined;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() !== 'name=') return `Invalid metadata value given: ${part}`;
    if (name !== undefined) return 'Invalid metadata value, name argument was given multiple times';
    name = part.slice(5);
  }
  if (name === undefined) return 'Library name was not given';
  if (!/^[A-Za-z0-9_]+$/.test(name)) return 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';
  return `Engine '${parts[0]!.slice(2)}' not found`;
}

const functionSubs: CommandSpec[] = [
  def('function|flush', -2, 'write noscript', NOKEYS, 'write slow scripting', (ctx, argv) => {
    if (argv.length > 3) {
      ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try FUNCTION HELP.`);
      return;
    }
    if (argv.length === 3 && !['sync', 'async'].includes(argv[2].toLowerCase())) {
      ctx.reply.error('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
      return;
    }
    ctx.reply.ok();
  }),
  def('function|list', -2, 'noscript', NOKEYS, 'slow scripting', (ctx, argv) => {
    let withCode = false;
    let library = false;
    for (let i = 2; i < argv.length; i++) {
      const a = argv[i].toLowerCase();
      if (!withCode && a === 'withcode') withCode = true;
      else if (!library && a === 'libraryname') {
        if (i >= argv.length - 1) {
          ctx.reply.error('ERR library name argument was not given');
          return;
        }
        library = true;
        i++;
      } else {
        ctx.reply.error(`ERR Unknown argument ${argv[i]}`);
        return;
      }
    }
    ctx.reply.arrayHeader(0);
  }),
  def('function|stats', 2, 'noscript allow_busy', NOKEYS, 'slow scripting', (ctx) => {
    ctx.reply.mapHeader(2);
    ctx.reply.bulk('running_script');
    ctx.reply.bulk(null);
    ctx.reply.bulk('engines');
    ctx.reply.mapHeader(0);
  }),
  def('function|delete', 3, 'write noscript', NOKEYS, 'write slow scripting', (ctx) => ctx.reply.error('ERR Library not found')),
  def('function|kill', 2, 'noscript allow_busy', NOKEYS, 'slow scripting', (ctx) => ctx.reply.error('NOTBUSY No scripts in execution right now.')),
  def('function|load', -3, 'write denyoom noscript', NOKEYS, 'write slow scripting', (ctx, argv) => {
    const code = argv[argv.length - 1];
    for (const opt of argv.slice(2, -1)) {
      if (opt.toLowerCase() !== 'replace') {
        ctx.reply.error(`ERR Unknown option given: ${opt}`);
        return;
      }
    }
    ctx.reply.error(`ERR ${libraryError(code)}`);
  }),
  // redis-cli --cluster add-node copies the cluster's functions to the new node with DUMP and RESTORE.
  def('function|dump', 2, 'noscript', NOKEYS, 'slow scripting', (ctx) => ctx.reply.bulk(createFunctionsPayload())),
  def('function|restore', -3, 'write denyoom noscript', NOKEYS, 'write slow scripting', (ctx, argv) => {
    if (argv.length > 4) {
      ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try FUNCTION HELP.`);
      return;
    }
    if (argv.length === 4 && !['append', 'replace', 'flush'].includes(argv[3].toLowerCase())) {
      ctx.reply.error('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
      return;
    }
    let codes: string[];
    try {
      codes = parseFunctionsPayload(argv[2]);
    } catch (e) {
      ctx.reply.error(`ERR ${(e as Error).message}`);
      return;
    }
    // A payload without libraries restores nothing, whatever the policy (there are none here to flush).
    if (codes.length) ctx.reply.error(`ERR ${libraryError(codes[0]!)}`);
    else ctx.reply.ok();
  }),
];

const scriptSubs: CommandSpec[] = [
  def('script|flush', -2, 'noscript', NOKEYS, 'slow scripting', (ctx, argv) => {
    if (argv.length > 3 || (argv.length === 3 && !['sync', 'async'].includes(argv[2].toLowerCase()))) {
      ctx.reply.error('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
      return;
    }
    ctx.reply.ok();
  }),
  def('script|exists', -3, 'noscript', NOKEYS, 'slow scripting', (ctx, argv) => {
    ctx.reply.arrayHeader(argv.length - 2);
    for (let i = 2; i < argv.length; i++) ctx.reply.integer(0);
  }),
  def('script|kill', 2, 'noscript allow_busy', NOKEYS, 'slow scripting', (ctx) => ctx.reply.error('NOTBUSY No scripts in execution right now.')),
  def('script|load', 3, 'noscript stale', NOKEYS, 'slow scripting', (ctx) => ctx.reply.error(NO_ENGINE)),
];

/** EVAL-family spec with movable keys; FCALL looks the function up before it checks numkeys, EVAL after. */
function evalLike(name: string, flags: string, error: string, lookupFirst = false): CommandSpec {
  return {
    ...def(name, -3, `${flags} noscript stale skip_monitor may_replicate no_mandatory_keys movablekeys`, NOKEYS, 'slow scripting', (ctx, argv) => {
      if (lookupFirst || checkNumKeys(argv, ctx.reply)) ctx.reply.error(error);
    }),
    getKeys: evalKeys,
  };
}

export const commands: CommandSpec[] = [
  container('function', 'slow', functionSubs),
  container('script', 'slow', scriptSubs),
  evalLike('eval', '', NO_ENGINE),
  evalLike('eval_ro', 'readonly', NO_ENGINE),
  evalLike('evalsha', '', 'NOSCRIPT No matching script. Please use EVAL.'),
  evalLike('evalsha_ro', 'readonly', 'NOSCRIPT No matching script. Please use EVAL.'),
  evalLike('fcall', '', 'ERR Function not found', true),
  evalLike('fcall_ro', 'readonly', 'ERR Function not found', true),
];
