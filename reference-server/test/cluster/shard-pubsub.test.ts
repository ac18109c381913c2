/**
 * Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS / SHARDNUMSUB) on redis-server and the
 * reference server, each a one-node cluster owning every slot, compared reply by reply: counts apart from
 * SUBSCRIBE's, smessage pushes, no crossing with PUBLISH, CROSSSLOT, and a deleted slot's subscribers getting
 * sunsubscribe (removeChannelsInSlot), as Redis's cluster suite units 25 and 26 expect.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { RespClient } from '../util/resp-client.js';
import { REF_BIN, stopChild, waitForPing } from '../util/servers.js';
import { freeClusterPort } from './bus-peer.js';
import { waitUntil } from './engine-util.js';

interface Node {
  port: number;
  child: ChildProcess;
  dir: string;
}

async function startNode(program: 'redis-server' | 'reference'): Promise<Node> {
  const port = await freeClusterPort();
  const dir = mkdtempSync(join(tmpdir(), 'rr-shard-pubsub-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = program === 'reference'
    ? spawn(process.execPath, [REF_BIN, ...args, '--logfile', join(dir, 'log')], { stdio: 'ignore' })
    : spawn('redis-server', args, { stdio: 'ignore' });
  await waitForPing(port, 30000);
  const c = await RespClient.connect(port);
  await c.call(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  await waitUntil('cluster_state:ok', async () => (await c.call(['CLUSTER', 'INFO']))?.includes('cluster_state:ok') ?? false, 30000);
  c.close();
  return { port, child, dir };
}

/** The same steps on one server: every reply and push, raw. */
async function transcript(port: number): Promise<string[]> {
  const out: string[] = [];
  const sub = await RespClient.connect(port);
  const other = await RespClient.connect(port);
  const pub = await RespClient.connect(port);
  const read = async (c: RespClient) => out.push((await c.read())?.raw ?? 'timeout');
  const call = async (c: RespClient, argv: string[]) => out.push((await c.call(argv)) ?? 'timeout');

  sub.send(['SSUBSCRIBE', 'ch{a}', 'other{a}']);
  await read(sub);
  await read(sub);
  other.send(['SUBSCRIBE', 'ch{a}']);
  await read(other);
  await call(pub, ['SPUBLISH', 'ch{a}', 'hello']);
  await read(sub);
  await call(pub, ['PUBLISH', 'ch{a}', 'plain']);
  await read(other);
  await call(pub, ['PUBSUB', 'SHARDCHANNELS', 'ch*']);
  await call(pub, ['PUBSUB', 'SHARDNUMSUB', 'ch{a}', 'none']);
  await call(pub, ['PUBSUB', 'NUMSUB', 'ch{a}']);
  await call(pub, ['SSUBSCRIBE', 'x', 'y']);
  await call(pub, ['SPUBLISH', 'a', 'b', 'c']);
  out.push((await pub.call(['INFO', 'stats']))?.match(/pubsubshard_channels:\d+/)?.[0] ?? 'no pubsubshard_channels');
  sub.send(['SUNSUBSCRIBE', 'other{a}']);
  await read(sub);
  // One channel left: the listing's order (Redis's dict order) does not matter.
  await call(pub, ['PUBSUB', 'SHARDCHANNELS']);
  // The slot leaves this node: its shard channels' subscribers are told, the channel is gone.
  await call(pub, ['CLUSTER', 'DELSLOTS', String(keyHashSlot('ch{a}'))]);
  await read(sub);
  await call(pub, ['PUBSUB', 'SHARDNUMSUB', 'ch{a}']);
  sub.send(['SUNSUBSCRIBE']);
  await read(sub);
  await call(sub, ['PING']);
  for (const c of [sub, other, pub]) c.close();
  return out;
}

describe('sharded pub/sub in cluster mode (redis-server and the reference server, one-node clusters)', function () {
  this.timeout(60000);
  let real: Node;
  let ref: Node;

  before(async () => {
    [real, ref] = await Promise.all([startNode('redis-server'), startNode('reference')]);
  });

  after(async () => {
    await Promise.all([real && stopChild(real.child, real.dir), ref && stopChild(ref.child, ref.dir)]);
  });

  it('SSUBSCRIBE / SPUBLISH / SUNSUBSCRIBE / PUBSUB SHARD*, and a deleted slot unsubscribes, as redis-server does', async () => {
    const expected = await transcript(real.port);
    expect(expected).to.include('*3\r\n$8\r\nsmessage\r\n$5\r\nch{a}\r\n$5\r\nhello\r\n');
    expect(await transcript(ref.port)).to.deep.equal(expected);
  });
});
