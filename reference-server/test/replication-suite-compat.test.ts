/**
 * What Redis's own replication units (integration/replication*) rely on beyond the stream itself: writable-replica
 * expiry, DEBUG POPULATE/REPLICATE/OBJECT on replicas, blocked clients on a master turned replica, a replica link that
 * may not talk back, and the unixsocket listener.
 */
import { expect } from 'chai';
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { client, removeDir, startReal, startRef, tempDir, waitFor, waitInSync, type RefNode } from './fixtures/repl-kit.js';
import { freePort } from './util/servers.js';

describe('replication as Redis\'s suite uses it', () => {
  let master: RefNode, replica: RefNode;
  let mc: Redis, rc: Redis;
  beforeEach(async () => {
    master = await startRef(await freePort(), ['--enable-debug-command', 'yes']);
    replica = await startRef(await freePort(), ['--enable-debug-command', 'yes']);
    mc = client(master.port);
    rc = client(replica.port);
    await rc.replicaof('127.0.0.1', master.port);
    await waitInSync(mc, rc);
  });
  afterEach(async () => {
    mc.disconnect();
    rc.disconnect();
    await replica.stop();
    await master.stop();
    removeDir(master.dir);
    removeDir(replica.dir);
  });

  it('a writable replica expires the keys its clients gave a TTL, deletes expired keys on writes only, and hides them from reads', async () => {
    await rc.config('SET', 'replica-read-only', 'no');
    await rc.select(5);
    await rc.set('own', '1', 'PX', 100);
    await waitFor('the replica expired its own key', async () => (await rc.dbsize()) === 0, 5000);
    // Keys from the master expire only through the master's DEL: with active expiry off there, they stay stored.
    await mc.debug('SET-ACTIVE-EXPIRE', '0');
    await mc.select(5);
    await mc.set('k1', '5', 'PX', 10);
    await mc.set('k2', '5', 'PX', 10);
    await waitFor('keys replicated and logically expired', async () => (await rc.dbsize()) === 2 && (await rc.exists('k1', 'k2')) === 0, 5000);
    expect(await rc.get('k2')).to.equal(null);
    expect(await rc.incr('k1')).to.equal(1);
    expect(await rc.ttl('k1')).to.equal(-1);
    expect(await rc.dbsize()).to.equal(2);
    // DEBUG OBJECT looks the stored key up without expiring it, as Redis's dictFind does.
    expect(String(await rc.debug('OBJECT', 'k2'))).to.match(/^Value at:/);
  });

  it('DEBUG POPULATE fills keys as Redis does (same digest as redis-server) and DEBUG REPLICATE reaches the replica, which logs the error', async () => {
    const real = await startReal(await freePort(), ['--enable-debug-command', 'yes']);
    const realc = client(real.port);
    try {
      for (const c of [mc, realc]) {
        await c.debug('POPULATE', '100');
        await c.debug('POPULATE', '10', 'foo', '20');
        await c.debug('POPULATE', '10', 'bar', '3');
      }
      expect(await mc.debug('DIGEST')).to.equal(await realc.debug('DIGEST'));
      const err = await mc.debug('POPULATE', '-1').catch((e: Error) => e.message);
      expect(err).to.equal(await realc.debug('POPULATE', '-1').catch((e: Error) => e.message));
    } finally {
      realc.disconnect();
      await real.stop();
    }
    await mc.debug('REPLICATE', 'fake-command-1');
    await mc.set('after', '1');
    await waitInSync(mc, rc);
    const log = readFileSync(join(replica.dir, `ref-${replica.port}.log`), 'utf8');
    expect(log).to.include("== CRITICAL == This replica is sending an error to its master: 'ERR unknown command 'fake-command-1', with args beginning with: ' after processing the command '<unknown>'");
  });

  it('a master turned replica answers its blocked clients -UNBLOCKED and closes them', async () => {
    const other = await startRef(await freePort());
    const blocked = client(other.port);
    const oc = client(other.port);
    try {
      const pending = blocked.blpop('foo', 0).catch((e: Error) => e.message);
      await waitFor('client blocked', async () => /blocked_clients:1/.test(await oc.info('clients')));
      await oc.replicaof('127.0.0.1', master.port);
      expect(await pending).to.equal('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)');
    } finally {
      blocked.disconnect();
      oc.disconnect();
      await other.stop();
      removeDir(other.dir);
    }
  });

  it('a replica link that touches the keyspace or makes a reply is closed, and PSYNC checks its offset', async () => {
    const talk = (cmds: string): Promise<string> => new Promise((resolve) => {
      const s = net.connect(master.port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => { out += d.toString('latin1'); });
      s.on('close', () => resolve(out));
      s.on('connect', () => s.write(cmds));
      setTimeout(() => s.destroy(), 3000);
    });
    const reply = await talk('PSYNC replicationid offset_str\r\n');
    expect(reply).to.equal('-ERR value is not an integer or out of range\r\n');
    const out = await talk('PSYNC ? -1\r\nGET foo\r\n');
    expect(out).to.match(/^\+FULLRESYNC /);
    expect(out).to.not.include('Replica can');
    const log = readFileSync(join(master.dir, `ref-${master.port}.log`), 'utf8');
    expect(log).to.match(/asks for synchronization but with a wrong offset/);
    expect(log).to.include("== CRITICAL == This master is sending an error to its replica: 'ERR Replica can't interact with the keyspace' after processing the command 'get'");
    expect(log).to.match(/Replica generated a reply to command 'get', disconnecting it: /);
  });
});

describe('the unixsocket listener', () => {
  it('accepts clients on the path, named after it, and removes the file on shutdown', async () => {
    const dir = tempDir('unix');
    const path = join(dir, 'socket');
    const node = await startRef(await freePort(), ['--unixsocket', path]);
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(path);
        let out = '';
        s.on('data', (d) => { out += d.toString('latin1'); if (out.endsWith('\r\n\r\n') || out.includes('cmd=client|list')) { s.end(); resolve(out); } });
        s.on('error', reject);
        s.write('CLIENT LIST\r\n');
      });
      expect(reply).to.include(`addr=${path}:0`);
    } finally {
      await node.stop();
      removeDir(node.dir);
    }
    await waitFor('socket file removed', () => !existsSync(path));
    removeDir(dir);
  });
});
