#!/usr/bin/env node
// node-redis (`redis` on npm) as an application would configure it: library defaults plus the connect and command
// timeouts the harness hands over. Modes: direct, haproxy, sentinel (createSentinel), cluster (createCluster).
import { createRequire } from 'node:module';
import { createClient, createCluster, createSentinel, ErrorReply } from 'redis';
import { runAdapter } from '../lib/adapter.mjs';

const version = createRequire(import.meta.url)('redis/package.json').version;

function open(hello) {
  // Without rejectInFlight the timeout covers only a command still waiting to be sent; a sent one would wait forever.
  const commandOptions = { timeout: hello.timeouts.commandMs, rejectInFlight: true };
  const auth = hello.password ? { password: hello.password } : {};
  const socket = { connectTimeout: hello.timeouts.connectMs };
  switch (hello.mode) {
    case 'direct':
    case 'haproxy':
      return createClient({ ...auth, commandOptions, socket: { ...socket, host: hello.address.host, port: hello.address.port } });
    case 'sentinel':
      return createSentinel({
        name: hello.masterName,
        sentinelRootNodes: hello.sentinels,
        commandOptions,
        nodeClientOptions: { ...auth, socket },
        sentinelClientOptions: { socket },
        ...(hello.addressMap ? { nodeAddressMap: hello.addressMap } : {}),
      });
    case 'cluster':
      return createCluster({
        rootNodes: hello.seeds.map((s) => ({ socket: { host: s.host, port: s.port } })),
        defaults: { ...auth, socket },
        commandOptions,
        ...(hello.addressMap ? { nodeAddressMap: hello.addressMap } : {}),
      });
    default:
      throw new Error(`unknown mode ${hello.mode}`);
  }
}

runAdapter({
  async connect(hello, emitMessage, log) {
    const client = open(hello);
    client.on('error', (e) => log(`error: ${e?.message ?? e}`));
    await client.connect();
    let sub;
    const addr = () => (client.options?.socket?.host ? `${client.options.socket.host}:${client.options.socket.port}` : undefined);
    return {
      client: `node-redis ${version} (${hello.mode})`,
      ops: {
        set: async ({ key, value }) => ({ addr: addr(), value: await client.set(key, value) }),
        get: async ({ key }) => ({ addr: addr(), value: await client.get(key) }),
        sadd: async ({ key, value }) => ({ addr: addr(), value: await client.sAdd(key, value) }),
        smembers: async ({ key }) => ({ addr: addr(), value: await client.sMembers(key) }),
        publish: async ({ channel, message }) => ({ addr: addr(), value: await client.publish(channel, message) }),
        subscribe: async ({ channel }) => {
          // A plain client's subscriptions need their own connection; Sentinel and Cluster proxy them.
          if (!sub) {
            sub = hello.mode === 'direct' || hello.mode === 'haproxy' ? client.duplicate() : client;
            if (sub !== client) {
              sub.on('error', () => undefined);
              await sub.connect();
            }
          }
          await sub.subscribe(channel, (message, ch) => emitMessage(ch ?? channel, String(message)));
          return { value: 1 };
        },
      },
      close: async () => {
        if (sub && sub !== client) sub.destroy();
        client.destroy();
      },
    };
  },
  // An error reply was never applied, nor a command refused while offline; a timeout or a dropped socket may have been.
  classify: (err) => (err instanceof ErrorReply || err?.name === 'ClientOfflineError' || err?.name === 'ClientClosedError' ? 'fail' : 'info'),
});
