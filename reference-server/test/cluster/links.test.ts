/**
 * Cluster bus links as Redis's cluster suite unit 24 checks them, on redis-server and on the reference server: two
 * nodes that met show one link to and one from each other in CLUSTER LINKS; with cluster-link-sendbuf-limit set, a
 * link whose peer stopped reading is freed once its unsent bytes pass the limit (counted in CLUSTER INFO), a new
 * outbound link replaces it and the inbound one stays; DEBUG CLUSTERLINK KILL frees links on demand.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameClient, type Frame } from '../util/frame-client.js';
import { REF_BIN, stopChild, waitForPing } from '../util/servers.js';
import { waitFor, waitUntil } from '../util/wait.js';
import { freeClusterPort } from './bus-peer.js';

interface Node {
  port: number;
  child: ChildProcess;
  dir: string;
  client: FrameClient;
}

type Program = 'redis-server' | 'reference';

async function startNode(program: Program): Promise<Node> {
  const port = await freeClusterPort();
  const dir = mkdtempSync(join(tmpdir(), 'rr-links-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--enable-debug-command', 'yes', '--cluster-node-timeout', '3600000'];
  const child = program === 'reference'
    ? spawn(process.execPath, [REF_BIN, ...args, '--logfile', join(dir, 'log')], { stdio: 'ignore' })
    : spawn('redis-server', args, { stdio: 'ignore' });
  await waitForPing(port, 30000);
  return { port, child, dir, client: await FrameClient.open(port) };
}

interface Link {
  dir: string;
  node: string;
  createTime: number;
}

/** CLUSTER LINKS, RESP2: an array of flat field/value arrays. */
async function links(n: Node): Promise<Link[]> {
  const reply = (await n.client.send('CLUSTER', 'LINKS')) as Frame[][];
  return reply.map((fields) => {
    const get = (name: string): Frame => fields[fields.indexOf(name) + 1]!;
    return { dir: String(get('direction')), node: String(get('node')), createTime: Number(get('create-time')) };
  });
}

async function infoField(n: Node, field: string): Promise<string> {
  const info = String(await n.client.send('CLUSTER', 'INFO'));
  return info.match(new RegExp(`${field}:(\\d+)`))?.[1] ?? 'missing';
}

for (const program of ['redis-server', 'reference'] as Program[]) {
  describe(`cluster bus links (${program})`, function () {
    this.timeout(120000);
    let a: Node;
    let b: Node;
    let bId = '';

    before(async () => {
      [a, b] = await Promise.all([startNode(program), startNode(program)]);
      await a.client.send('CLUSTER', 'MEET', '127.0.0.1', String(b.port));
      bId = String(await b.client.send('CLUSTER', 'MYID'));
      await waitUntil('a has a link to and from b', async () => {
        const l = await links(a);
        return l.some((x) => x.dir === 'to' && x.node === bId) && l.some((x) => x.dir === 'from' && x.node === bId);
      }, 30000);
    });

    after(async () => {
      if (b) b.child.kill('SIGCONT');
      for (const n of [a, b]) if (n) n.client.close();
      await Promise.all([a && stopChild(a.child, a.dir), b && stopChild(b.child, b.dir)]);
    });

    it('a link whose unsent bytes pass cluster-link-sendbuf-limit is freed and counted; the outbound one comes back', async () => {
      const before = await links(a);
      const to = before.find((x) => x.dir === 'to' && x.node === bId)!;
      const from = before.find((x) => x.dir === 'from' && x.node === bId)!;
      expect(await infoField(a, 'total_cluster_links_buffer_limit_exceeded')).to.equal('0');
      expect(await a.client.sendRaw(['CONFIG', 'SET', 'cluster-link-sendbuf-limit', String(256 * 1024)])).to.equal('+OK\r\n');
      b.child.kill('SIGSTOP');
      const big = 'x'.repeat(128 * 1024);
      // Each PUBLISH goes over the bus to b, which reads nothing: the link's queue grows until the cron frees it.
      await waitUntil('the link to b freed for its send buffer', async () => {
        await a.client.sendRaw(['PUBLISH', 'channel', big]);
        return (await infoField(a, 'total_cluster_links_buffer_limit_exceeded')) !== '0';
      }, 60000, 200);
      const after = await waitFor('a new link to b', async () => {
        const l = await links(a);
        const newTo = l.find((x) => x.dir === 'to' && x.node === bId);
        return newTo && newTo.createTime > to.createTime ? l : undefined;
      }, 30000);
      expect(after.find((x) => x.dir === 'from' && x.node === bId)?.createTime).to.equal(from.createTime);
      b.child.kill('SIGCONT');
      await a.client.sendRaw(['CONFIG', 'SET', 'cluster-link-sendbuf-limit', '0']);
    });

    it('DEBUG CLUSTERLINK KILL frees the chosen links; DEBUG DROP-CLUSTER-PACKET-FILTER takes a type', async () => {
      const before = await links(a);
      const to = before.find((x) => x.dir === 'to' && x.node === bId)!;
      expect(await a.client.sendRaw(['DEBUG', 'CLUSTERLINK', 'KILL', 'to', bId])).to.equal('+OK\r\n');
      await waitUntil('a new link to b', async () => (await links(a)).some((x) => x.dir === 'to' && x.node === bId && x.createTime > to.createTime), 30000);
      expect(await a.client.sendRaw(['DEBUG', 'CLUSTERLINK', 'KILL', 'to', 'f'.repeat(40)])).to.equal(`-ERR Unknown node ${'f'.repeat(40)}\r\n`);
      expect(await a.client.sendRaw(['DEBUG', 'DROP-CLUSTER-PACKET-FILTER', 'x'])).to.equal('-ERR value is not an integer or out of range\r\n');
      expect(await a.client.sendRaw(['DEBUG', 'DROP-CLUSTER-PACKET-FILTER', '-1'])).to.equal('+OK\r\n');
    });
  });
}
