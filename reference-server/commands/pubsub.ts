/**
 * Pub/sub family: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB. Messages are RESP3 pushes or RESP2
 * arrays. Shard channels are counted apart (an ssubscribe reply counts shard channels only), as pubsub.c does.
 */
import type { CommandContext, CommandSpec } from './command.js';
import { container, def, NOKEYS } from './define.js';
import { globMatch } from '../server/glob.js';
import { replyHelp } from './help.js';

function ack(ctx: CommandContext, kind: string, channel: string | null, count: number): void {
  ctx.reply.pushHeader(3);
  ctx.reply.bulk(kind);
  ctx.reply.bulk(channel);
  ctx.reply.integer(count);
}

function subscribeAll(pattern: boolean) {
  return (ctx: CommandContext, argv: string[]): void => {
    const s = ctx.server;
    const c = ctx.client;
    for (let i = 1; i < argv.length; i++) {
      s.subscribe(c, argv[i], pattern);
      ack(ctx, pattern ? 'psubscribe' : 'subscribe', argv[i], c.subscriptionCount);
    }
  };
}

function unsubscribeAll(pattern: boolean) {
  return (ctx: CommandContext, argv: string[]): void => {
    const s = ctx.server;
    const c = ctx.client;
    const kind = pattern ? 'punsubscribe' : 'unsubscribe';
    const names = argv.length > 1 ? argv.slice(1) : [...(pattern ? c.patterns : c.channels)];
    if (names.length === 0) {
      ack(ctx, kind, null, c.subscriptionCount);
      return;
    }
    for (const n of names) {
      s.unsubscribe(c, n, pattern);
      ack(ctx, kind, n, c.subscriptionCount);
    }
  };
}

const subscribe = def('subscribe', -2, 'pubsub noscript loading stale', NOKEYS, 'pubsub slow', subscribeAll(false));
const psubscribe = def('psubscribe', -2, 'pubsub noscript loading stale', NOKEYS, 'pubsub slow', subscribeAll(true));
const unsubscribe = def('unsubscribe', -1, 'pubsub noscript loading stale', NOKEYS, 'pubsub slow', unsubscribeAll(false));
const punsubscribe = def('punsubscribe', -1, 'pubsub noscript loading stale', NOKEYS, 'pubsub slow', unsubscribeAll(true));

const publish = def('publish', 3, 'pubsub loading stale fast may_replicate sentinel', NOKEYS, 'pubsub fast', (ctx, argv) => {
  ctx.reply.integer(ctx.server.publish(argv[1], argv[2]));
  // Redis propagates PUBLISH to replicas so their subscribers see it too.
  ctx.propagateAs([argv]);
});

const ssubscribe = def('ssubscribe', -2, 'pubsub noscript loading stale', [1, -1, 1], 'pubsub slow', (ctx, argv) => {
  const c = ctx.client;
  for (let i = 1; i < argv.length; i++) {
    ctx.server.subscribeShard(c, argv[i]);
    ack(ctx, 'ssubscribe', argv[i], c.shardChannels.size);
  }
});

const sunsubscribe = def('sunsubscribe', -1, 'pubsub noscript loading stale', [1, -1, 1], 'pubsub slow', (ctx, argv) => {
  const c = ctx.client;
  const names = argv.length > 1 ? argv.slice(1) : [...c.shardChannels];
  if (names.length === 0) {
    ack(ctx, 'sunsubscribe', null, 0);
    return;
  }
  for (const n of names) {
    ctx.server.unsubscribeShard(c, n);
    ack(ctx, 'sunsubscribe', n, c.shardChannels.size);
  }
});

// In cluster mode the cluster's SPUBLISH also sends it to the shard's other nodes over the bus instead of propagating.
const spublish = def('spublish', 3, 'pubsub loading stale fast may_replicate', [1, 1, 1], 'pubsub fast', (ctx, argv) => {
  ctx.reply.integer(ctx.server.publishShard(argv[1], argv[2]));
  ctx.propagateAs([argv]);
});

const pubsubSubs: CommandSpec[] = [
  def('pubsub|help', 2, 'loading stale', NOKEYS, 'slow', (ctx) => replyHelp(ctx.reply, 'PUBSUB')),
  def('pubsub|channels', -2, 'pubsub loading stale', NOKEYS, 'pubsub slow', (ctx, argv) => {
    if (argv.length > 3) {
      ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try PUBSUB HELP.`);
      return;
    }
    const s = ctx.server;
    const pat = argv[2];
    ctx.reply.bulkArray([...s.channels.keys()].filter((ch) => pat === undefined || globMatch(pat, ch)));
  }),
  def('pubsub|numsub', -2, 'pubsub loading stale', NOKEYS, 'pubsub slow', (ctx, argv) => {
    const s = ctx.server;
    // Redis 7.0 replies a flat array here even in RESP3.
    ctx.reply.arrayHeader((argv.length - 2) * 2);
    for (let i = 2; i < argv.length; i++) {
      ctx.reply.bulk(argv[i]);
      ctx.reply.integer(s.channels.get(argv[i])?.size ?? 0);
    }
  }),
  def('pubsub|numpat', 2, 'pubsub loading stale', NOKEYS, 'pubsub slow', (ctx) => {
    ctx.reply.integer(ctx.server.patterns.size);
  }),
  def('pubsub|shardchannels', -2, 'pubsub loading stale', NOKEYS, 'pubsub slow', (ctx, argv) => {
    if (argv.length > 3) {
      ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try PUBSUB HELP.`);
      return;
    }
    const pat = argv[2];
    ctx.reply.bulkArray([...ctx.server.shardChannels.keys()].filter((ch) => pat === undefined || globMatch(pat, ch)));
  }),
  def('pubsub|shardnumsub', -2, 'pubsub loading stale', NOKEYS, 'pubsub slow', (ctx, argv) => {
    ctx.reply.arrayHeader((argv.length - 2) * 2);
    for (let i = 2; i < argv.length; i++) {
      ctx.reply.bulk(argv[i]);
      ctx.reply.integer(ctx.server.shardChannels.get(argv[i])?.size ?? 0);
    }
  }),
];

export const commands: CommandSpec[] = [
  subscribe, psubscribe, unsubscribe, punsubscribe, publish, ssubscribe, sunsubscribe, spublish, container('pubsub', 'slow', pubsubSubs),
];
