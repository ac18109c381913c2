/** Transactions: MULTI EXEC DISCARD WATCH UNWATCH (queueing itself is done by the server's dispatch). */
import type { CommandSpec } from './command.js';
import { def, NOKEYS } from './define.js';
import { asClient, asServer } from '../server/server.js';

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
  asServer(ctx.server).exec(asClient(ctx.client));
});

const discard = def('discard', 1, 'noscript loading stale fast allow_busy', NOKEYS, 'fast transaction', (ctx) => {
  if (!ctx.client.inMulti) {
    ctx.reply.error('ERR DISCARD without MULTI');
    return;
  }
  asServer(ctx.server).discard(asClient(ctx.client));
  ctx.reply.ok();
});

const watch = def('watch', -2, 'noscript loading stale fast allow_busy', [1, -1, 1], 'fast transaction', (ctx, argv) => {
  if (ctx.client.inMulti) {
    ctx.reply.error('ERR WATCH inside MULTI is not allowed');
    return;
  }
  const s = asServer(ctx.server);
  const c = asClient(ctx.client);
  for (let i = 1; i < argv.length; i++) s.watch(c, argv[i]);
  ctx.reply.ok();
});

const unwatch = def('unwatch', 1, 'noscript loading stale fast allow_busy', NOKEYS, 'fast transaction', (ctx) => {
  asServer(ctx.server).unwatchAll(asClient(ctx.client));
  ctx.reply.ok();
});

export const commands: CommandSpec[] = [multi, exec, discard, watch, unwatch];
