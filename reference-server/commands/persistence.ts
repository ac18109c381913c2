/** Persistence commands: SAVE and BGSAVE (LASTSAVE, SHUTDOWN and DEBUG RELOAD are core's and call PersistenceHooks). */
import type { CommandContext, CommandSpec } from './command.js';
import { def, NOKEYS } from './define.js';
import { Persistence } from '../replication/persistence.js';

function pers(ctx: CommandContext): Persistence | undefined {
  const p = ctx.server.persistence;
  return p instanceof Persistence ? p : undefined;
}

function save(ctx: CommandContext): void {
  const p = pers(ctx);
  if (p?.bgsaveInProgress) return ctx.reply.error('ERR Background save already in progress');
  try {
    ctx.server.persistence.save();
    ctx.reply.ok();
  } catch {
    ctx.reply.error('ERR');
  }
}

function bgsave(ctx: CommandContext, argv: string[]): void {
  const schedule = argv.length === 2 && argv[1]!.toLowerCase() === 'schedule';
  if (argv.length > 2 || (argv.length === 2 && !schedule)) return ctx.reply.error('ERR syntax error');
  const p = pers(ctx);
  if (!p) {
    ctx.server.persistence.save();
    ctx.reply.simple('Background saving started');
    return;
  }
  if (p.bgsaveInProgress) {
    if (schedule) { p.bgsaveScheduled = true; return ctx.reply.simple('Background saving scheduled'); }
    return ctx.reply.error('ERR Background save already in progress');
  }
  p.bgsave();
  ctx.reply.simple('Background saving started');
}

export const commands: CommandSpec[] = [
  def('save', 1, 'admin noscript no_async_loading no_multi', NOKEYS, 'admin slow dangerous', save),
  def('bgsave', -1, 'admin noscript no_async_loading', NOKEYS, 'admin slow dangerous', bgsave),
];
