import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { freePort } from './util/servers.js';
import type { CommandSpec } from '../commands/command.js';
import { commandKeys } from '../commands/server.js';
import { buildCommandTable } from '../commands/table.js';
import { Config } from '../config/config.js';
import { RedisServer } from '../server/server.js';
import { createServerDb } from '../server/dbfactory.js';
import type { ServerMode } from '../server/modes.js';
import { waitUntil } from './util/wait.js';

function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  return waitUntil('the condition', cond, timeoutMs, 5);
}

function command(name: string, arity: number, execute: CommandSpec['execute'], flags: CommandSpec['flags'] = ['fast']): CommandSpec {
  return { name, arity, flags, firstKey: 0, lastKey: 0, step: 0, categories: [], execute };
}

async function startServer(): Promise<RedisServer> {
  const config = new Config();
  config.loadString(`port ${await freePort()}\nbind 127.0.0.1\nsave ""\nlogfile /dev/null`);
  const server = new RedisServer({ config, createDb: createServerDb, commands: buildCommandTable() });
  return server;
}

describe('server modes: hook points a mode plugs into', function () {
  this.timeout(20000);
  let server: RedisServer;
  const clients: RespClient[] = [];
  const seen: { before: string[]; after: string[]; propagated: string[]; added: string[]; removed: string[]; closed: number[]; ticks: number } = {
    before: [], after: [], propagated: [], added: [], removed: [], closed: [], ticks: 0,
  };

  async function connect(): Promise<RespClient> {
    const c = await RespClient.connect(server.tcpPort);
    clients.push(c);
    return c;
  }

  /** Keys starting with "moving:" are elsewhere while this is set (a slot migrating). */
  let movingAway = false;
  const isFar = (k: string): boolean => k.startsWith('far:') || (movingAway && k.startsWith('moving:'));

  before(async () => {
    server = await startServer();
    const asking = server.clientSlot(() => false);
    const mode: ServerMode = {
      name: 'test-cluster',
      // Keys starting with "far:" live elsewhere, unless the client said ASKING just before (as Cluster's ASK).
      beforeCommand(call) {
        seen.before.push(call.spec.name);
        if (call.spec.name === 'exec') {
          const far = call.client.multiQueue.some((q) => commandKeys(q.spec, q.argv).some(isFar));
          return far ? 'MOVED 1 127.0.0.1:1' : undefined;
        }
        if (!commandKeys(call.spec, call.argv).some(isFar)) return undefined;
        if (asking.get(call.client)) return undefined;
        return 'MOVED 1 127.0.0.1:1';
      },
      afterCommand(call) {
        seen.after.push(call.spec.name);
        if (call.spec.name !== 'asking') asking.set(call.client, false);
      },
      propagate: (_db, argv) => seen.propagated.push(argv.join(' ')),
      infoSections: [{ name: 'cluster', lines: () => ['cluster_enabled:1', 'test_mode:yes'] }],
      cron: () => { seen.ticks++; },
      clientClosed: (c) => seen.closed.push(c.id),
      keyAdded: (db, key) => seen.added.push(`${db.index}:${key}`),
      keyRemoved: (db, key) => seen.removed.push(`${db.index}:${key}`),
    };
    server.install(mode);
    server.registerCommands([
      command('asking', 1, (ctx) => {
        asking.set(server.clientById(ctx.client.id)!, true);
        ctx.reply.ok();
      }),
      command('config|testsub', 2, (ctx) => ctx.reply.simple('SUB')),
    ]);
    await server.listen();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(() => server.close());

  it('beforeCommand answers in the command\'s place; the command does not run', async () => {
    const c = await connect();
    expect(await c.call(['SET', 'far:a', '1'])).to.equal('-MOVED 1 127.0.0.1:1\r\n');
    expect(server.dbs[0].has('far:a')).to.equal(false);
    expect(await c.call(['SET', 'near', '1'])).to.equal('+OK\r\n');
    // A refused command is a rejected call in INFO commandstats, as Redis counts a redirection.
    expect(server.stat('set').rejected).to.be.greaterThan(0);
  });

  it('a per-client slot carries ASKING to the next command only', async () => {
    const c = await connect();
    const other = await connect();
    expect(await c.call(['ASKING'])).to.equal('+OK\r\n');
    expect(await other.call(['SET', 'far:b', '1'])).to.equal('-MOVED 1 127.0.0.1:1\r\n');
    expect(await c.call(['SET', 'far:b', '1'])).to.equal('+OK\r\n');
    expect(await c.call(['SET', 'far:b', '2'])).to.equal('-MOVED 1 127.0.0.1:1\r\n');
  });

  it('inside MULTI a refusal flags the transaction (EXECABORT at EXEC)', async () => {
    const c = await connect();
    expect(await c.call(['MULTI'])).to.equal('+OK\r\n');
    expect(await c.call(['SET', 'far:c', '1'])).to.equal('-MOVED 1 127.0.0.1:1\r\n');
    expect(await c.call(['EXEC'])).to.equal('-EXECABORT Transaction discarded because of previous errors.\r\n');
    expect(await c.call(['MULTI'])).to.equal('+OK\r\n');
    expect(await c.call(['GET', 'near'])).to.equal('+QUEUED\r\n');
    expect(await c.call(['ASKING'])).to.equal('+QUEUED\r\n');
    expect(await c.call(['EXEC'])).to.equal('*2\r\n$1\r\n1\r\n+OK\r\n');
    expect(seen.before).to.include('exec');
  });

  it('at EXEC the mode judges the queue: a refusal discards the transaction and is the reply', async () => {
    const c = await connect();
    expect(await c.call(['MULTI'])).to.equal('+OK\r\n');
    expect(await c.call(['SET', 'moving:x', '1'])).to.equal('+QUEUED\r\n');
    // The key's slot moves away between queueing and EXEC.
    movingAway = true;
    try {
      expect(await c.call(['EXEC'])).to.equal('-MOVED 1 127.0.0.1:1\r\n');
    } finally {
      movingAway = false;
    }
    expect(server.dbs[0].has('moving:x')).to.equal(false);
    // Discarded, not flagged: the client is out of MULTI and EXEC now has nothing to run.
    expect(await c.call(['EXEC'])).to.equal('-ERR EXEC without MULTI\r\n');
  });

  it('afterCommand and propagate see executed commands in order', async () => {
    const c = await connect();
    seen.after.length = 0;
    seen.propagated.length = 0;
    expect(await c.call(['SET', 'p1', 'v'])).to.equal('+OK\r\n');
    expect(await c.call(['GET', 'p1'])).to.equal('$1\r\nv\r\n');
    expect(seen.after).to.deep.equal(['set', 'get']);
    expect(seen.propagated).to.deep.equal(['SET p1 v']);
  });

  it('INFO shows the mode\'s section in place of the default one', async () => {
    const c = await connect();
    const info = (await c.call(['INFO', 'cluster'])) ?? '';
    expect(info).to.include('# Cluster\r\ncluster_enabled:1\r\ntest_mode:yes\r\n');
  });

  it('registered commands and subcommands run; cron ticks reach the mode; closing reaches it', async () => {
    const c = await connect();
    expect(await c.call(['CONFIG', 'TESTSUB'])).to.equal('+SUB\r\n');
    const id = Number((await c.call(['CLIENT', 'ID']))?.slice(1, -2));
    const ticks = seen.ticks;
    await until(() => seen.ticks > ticks);
    c.close();
    await until(() => seen.closed.includes(id));
  });

  it('keyAdded / keyRemoved follow keys into and out of existence', async () => {
    const c = await connect();
    seen.added.length = 0;
    seen.removed.length = 0;
    await c.call(['SET', 'k1', 'a']);
    await c.call(['SET', 'k1', 'b']);
    await c.call(['RENAME', 'k1', 'k2']);
    await c.call(['RPUSH', 'l', 'x']);
    await c.call(['LPOP', 'l']);
    await c.call(['SELECT', '1']);
    await c.call(['SET', 'k3', 'c']);
    await c.call(['FLUSHDB']);
    expect(seen.added).to.deep.equal(['0:k1', '0:k2', '0:l', '1:k3']);
    expect(seen.removed).to.deep.equal(['0:k1', '0:l', '1:k3']);
  });

  it('replaceCommands leaves only the given table', async () => {
    const other = await startServer();
    try {
      other.replaceCommands([command('ping', -1, (ctx) => ctx.reply.simple('PONG'))]);
      await other.listen();
      const c = await RespClient.connect(other.tcpPort);
      try {
        expect(await c.call(['PING'])).to.equal('+PONG\r\n');
        expect(await c.call(['GET', 'x'])).to.equal("-ERR unknown command 'GET', with args beginning with: 'x' \r\n");
      } finally {
        c.close();
      }
    } finally {
      other.close();
    }
  });
});
