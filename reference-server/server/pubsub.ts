/** Channels and patterns, and PUBLISH's delivery (Redis's pubsub.c). */
import type { Client } from './connection.js';
import { globMatch } from './glob.js';

export class PubSub {
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();

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
    if (c.subscriptionCount === 0 && c.kind === 'pubsub') c.kind = 'normal';
    return true;
  }

  /** Forgets every subscription of a closed client. */
  clientClosed(c: Client): void {
    for (const ch of c.channels) removeSubscriber(this.channels, ch, c);
    for (const p of c.patterns) removeSubscriber(this.patterns, p, c);
    c.channels.clear();
    c.patterns.clear();
  }

  publish(channel: string, message: string): number {
    let n = 0;
    const subs = this.channels.get(channel);
    if (subs) {
      for (const cl of subs) {
        cl.reply.pushHeader(3);
        cl.reply.bulk('message');
        cl.reply.bulk(channel);
        cl.reply.bulk(message);
        cl.flush();
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

function removeSubscriber(map: Map<string, Set<Client>>, name: string, c: Client): void {
  const set = map.get(name);
  if (!set) return;
  set.delete(c);
  if (set.size === 0) map.delete(name);
}
