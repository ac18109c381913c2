#!/usr/bin/env node
// ioredis as an application would configure it: library defaults (offline queue, reconnects, retries) plus the
// connect and command timeouts the harness hands over. Modes: direct, haproxy, sentinel, cluster.
import { createRequire } from 'node:module';
import { Cluster, Redis } from 'ioredis';
import { peerOf, runAdapter } from '../lib/adapter.mjs';

const version = createRequire(import.meta.url)('ioredis/package.json').version;

function natMap(hello) {
  return hello.addressMap ? Object.fromEntries(Object.entries(hello.addressMap)) : undefined;
}

function open(hello) {
  const base = { connectTimeout: hello.timeouts.connectMs, commandTimeout: hello.timeouts.commandMs, ...(hello.password ? { password: hello.password } : {}) };
  const nat = natMap(hello);
  switch (hello.mode) {
    case 'direct':
    case 'haproxy':
      return new Redis({ ...base, host: hello.address.host, port: hello.address.port });
    case 'sentinel':
      return new Redis({ ...base, name: hello.masterName, sentinels: hello.sentinels, ...(nat ? { natMap: nat } : {}) });
    case 'cluster':
      return new Cluster(hello.seeds, { redisOptions: base, ...(nat ? { natMap: nat } : {}) });
    default:
      throw new Error(`unknown mode ${hello.mode}`);
  }
}

runAdapter({
  async connect(hello, emitMessage, log) {
    const redis = open(hello);
    redis.on('error', () => undefined);
    redis.on('+node', () => undefined);
    redis.on('reconnecting', () => log('reconnecting'));
    let sub;
    const addr = () => (redis instanceof Redis ? peerOf(redis.stream) : undefined);
    return {
      client: `ioredis ${version} (${hello.mode})`,
      ops: {
        set: async ({ key, value }) => ({ addr: addr(), value: await redis.set(key, value) }),
        get: async ({ key }) => ({ addr: addr(), value: await redis.get(key) }),
        sadd: async ({ key, value }) => ({ addr: addr(), value: await redis.sadd(key, value) }),
        smembers: async ({ key }) => ({ addr: addr(), value: await redis.smembers(key) }),
        publish: async ({ channel, message }) => ({ addr: addr(), value: await redis.publish(channel, message) }),
        subscribe: async ({ channel }) => {
          if (!sub) {
            sub = redis.duplicate();
            sub.on('error', () => undefined);
            sub.on('message', (c, m) => emitMessage(c, m));
          }
          return { value: await sub.subscribe(channel) };
        },
      },
      close: async () => {
        sub?.disconnect();
        redis.disconnect();
      },
    };
  },
  // A Redis error reply was never applied; timeouts and dropped connections may have been.
  classify: (err) => (err?.name === 'ReplyError' ? 'fail' : /isn't writeable|enableOfflineQueue/.test(String(err?.message)) ? 'fail' : 'info'),
});
