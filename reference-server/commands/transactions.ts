/** Transactions: MULTI EXEC DISCARD WATCH UNWATCH (queueing itself is done by the server's dispatch). */
import type { CommandSpec } from './command.js';
import { def, NOKEYS } from './define.js';

const multi = def('multi', 1, 'noscript loading stale fast allow_busy', NOKEYS, 'fast transaction', (ctx) => {
  if (ctx.client.inMulti) {
    ctx.reply.error('ERR MULTI calls can not be nested');
    return;
  }
  ctx.client.inMulti = true;
  ctx.reply.ok();
});

const exec = def('exec', 1, 'noscript loading stale skip_slowlog', NOKEYS, 'slow transaction', (ctx) => {
  if (!ctx.client.inMulti) {
    ctx.reply.error('ERR EXEC without MULTI');
    return;
  }
  ctx.noPropagate();
  ctx.server.exec(ctx.client);
});

const discard = def('discard', 1, 'noscript loading stale fast allow_busy', NOKEYS, 'fast transaction', (ctx) => {
  if (!ctx.client.inMulti) {
    ctx.reply.error('ERR DISCARD without MULTI');
    return;
  }
  ctx.server.discard(ctx.client);
  ctx.reply.ok();
});

const watch = def('watch', -2, 'noscript loading stale fast allow_busy', [1, -1, 1], 'fast transaction', (ctx, argv) => {
  if (ctx.client.inMulti) {
    ctx.reply.error('ERR WATCH inside MULTI is not allowed');
    return;
  }
  const s = ctx.server;
  const c = ctx.client;
  for (let i = 1; i < argv.length; i++) s.watch(c, argv[i]);
  ctx.reply.ok();
});

const unwatch = def('unwatch', 1, 'noscript loading stale fast allow_busy', NOKEYS, 'fast transaction', (ctx) => {
  ctx.server.unwatchAll(ctx.client);
  ctx.reply.ok();
});

export const commands: CommandSpec[] = [multi, exec, discard, watch, unwatch];
