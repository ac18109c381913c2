/** Channels, patterns and shard channels, and PUBLISH's and SPUBLISH's delivery (Redis's pubsub.c). */
import type { Client } from './connection.js';
import { globMatch } from './glob.js';

export class PubSub {
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
  readonly shardChannels = new Map<string, Set<Client>>();

  subscribe(c: Client, channel: string, pattern: boolean): boolean {
    const own = pattern ? c.patterns : c.channels;
    if (own.has(channel)) return false;
    own.add(channel);
    const map = pattern ? this.patterns : this.channels;
    let set = map.get(channel);
    if (!set) {
      set = new Set();
      map.set(channel, set);
    }
    set.add(c);
    c.kind = c.kind === 'normal' ? 'pubsub' : c.kind;
    return true;
  }

  unsubscribe(c: Client, channel: string, pattern: boolean): boolean {
    const own = pattern ? c.patterns : c.channels;
    if (!own.delete(channel)) return false;
    removeSubscriber(pattern ? this.patterns : this.channels, channel, c);
    leavePubsubIfIdle(c);
    return true;
  }

  subscribeShard(c: Client, channel: string): boolean {
    if (c.shardChannels.has(channel)) return false;
    c.shardChannels.add(channel);
    let set = this.shardChannels.get(channel);
    if (!set) {
      set = new Set();
      this.shardChannels.set(channel, set);
    }
    set.add(c);
    c.kind = c.kind === 'normal' ? 'pubsub' : c.kind;
    return true;
  }

  unsubscribeShard(c: Client, channel: string): boolean {
    if (!c.shardChannels.delete(channel)) return false;
    removeSubscriber(this.shardChannels, channel, c);
    leavePubsubIfIdle(c);
    return true;
  }

  /**
   * pubsubShardUnsubscribeAllClients: the channel's slot left this shard; every subscriber gets a sunsubscribe
   * push and the channel is gone.
   */
  dropShardChannel(channel: string): void {
    const subs = this.shardChannels.get(channel);
    if (!subs) return;
    this.shardChannels.delete(channel);
    for (const cl of subs) {
      cl.shardChannels.delete(channel);
      cl.reply.pushHeader(3);
      cl.reply.bulk('sunsubscribe');
      cl.reply.bulk(channel);
      cl.reply.integer(cl.shardChannels.size);
      cl.flush();
      leavePubsubIfIdle(cl);
    }
  }

  /** SPUBLISH's delivery: subscribers of the shard channel only, patterns never match. */
  publishShard(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (!subs) return 0;
    for (const cl of subs) pushMessage(cl, 'smessage', channel, message);
    return subs.size;
  }

  /** Forgets every subscription of a closed client. */
  clientClosed(c: Client): void {
    for (const ch of c.channels) removeSubscriber(this.channels, ch, c);
    for (const p of c.patterns) removeSubscriber(this.patterns, p, c);
    for (const ch of c.shardChannels) removeSubscriber(this.shardChannels, ch, c);
    c.channels.clear();
    c.patterns.clear();
    c.shardChannels.clear();
  }

  publish(channel: string, message: string): number {
    let n = 0;
    const subs = this.channels.get(channel);
    if (subs) {
      for (const cl of subs) {
        pushMessage(cl, 'message', channel, message);
        n++;
      }
    }
    for (const [pat, set] of this.patterns) {
      if (!globMatch(pat, channel)) continue;
      for (const cl of set) {
        cl.reply.pushHeader(4);
        cl.reply.bulk('pmessage');
        cl.reply.bulk(pat);
        cl.reply.bulk(channel);
        cl.reply.bulk(message);
        cl.flush();
        n++;
      }
    }
    return n;
  }
}

/** A client with no channel, pattern or shard channel left is out of pub/sub mode. */
function leavePubsubIfIdle(c: Client): void {
  if (c.subscriptionCount === 0 && c.shardChannels.size === 0 && c.kind === 'pubsub') c.kind = 'normal';
}

function removeSubscriber(map: Map<string, Set<Client>>, name: string, c: Client): void {
  const set = map.get(name);
  if (!set) return;
  set.delete(c);
  if (set.size === 0) map.delete(name);
}

/** A delivered message, "message" or "smessage": [kind, channel, payload] as a push. */
function pushMessage(cl: Client, kind: 'message' | 'smessage', channel: string, message: string): void {
  cl.reply.pushHeader(3);
  cl.reply.bulk(kind);
  cl.reply.bulk(channel);
  cl.reply.bulk(message);
  cl.flush();
}
