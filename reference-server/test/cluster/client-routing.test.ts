/**
 * What a Cluster-aware client sees at startup, on three reference nodes as processes: CLUSTER SLOTS's exact bytes
 * (addNodeToNodeReply's [endpoint, port, id, networking map] for each cluster-preferred-endpoint-type, RESP2 and
 * RESP3, with cluster-announce-hostname set), and ioredis's Cluster client (HELLO 3, CLUSTER SLOTS on a RESP2
 * refresher connection, CLUSTER INFO ready check) routing key1/key2/key3 to their owners, as the harness's
 * cluster-routing scenario does.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { RespClient } from '../util/resp-client.js';
import { REF_BIN, stopChild, waitForPing } from '../util/servers.js';
import { freeClusterPort } from './bus-peer.js';
import { waitUntil } from './engine-util.js';

interface Node {
  port: number;
  hostname: string;
  id: string;
  range: [number, number];
  child: ChildProcess;
}

const RANGES: Array<[number, number]> = [[0, 5460], [5461, 10922], [10923, 16383]];

async function call(port: number, argv: string[]): Promise<string> {
  const c = await RespClient.connect(port);
  try {
    const r = await c.call(argv, 10000);
    if (r === null) throw new Error(`no reply to ${argv.join(' ')} from port ${port}`);
    return r;
  } finally {
    c.close();
  }
}

const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** One node entry as Redis 7.0.15's addNodeToNodeReply writes it. */
function nodeEntry(n: Node, type: 'ip' | 'hostname' | 'unknown-endpoint', resp: 2 | 3): string {
  const endpoint = type === 'ip' ? bulk('127.0.0.1') : type === 'hostname' ? bulk(n.hostname) : resp === 3 ? '_\r\n' : '$-1\r\n';
  const extra: Array<[string, string]> = [];
  if (type !== 'ip') extra.push(['ip', '127.0.0.1']);
  if (type !== 'hostname') extra.push(['hostname', n.hostname]);
  const map = (resp === 3 ? `%${extra.length}\r\n` : `*${extra.length * 2}\r\n`) + extra.map(([k, v]) => bulk(k) + bulk(v)).join('');
  return `*4\r\n${endpoint}:${n.port}\r\n${bulk(n.id)}${map}`;
}

describe('reference cluster as a Cluster-aware client sees it (CLUSTER SLOTS bytes, ioredis Cluster routing)', function () {
  this.timeout(90000);
  const nodes: Node[] = [];
  let root = '';

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'rr-cluster-client-'));
    for (let i = 0; i < 3; i++) {
      const port = await freeClusterPort();
      const dir = join(root, String(port));
      mkdirSync(dir);
      const hostname = `node${i}.cluster.test`;
      const child = spawn(process.execPath, [REF_BIN, '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-node-timeout', '3000', '--cluster-announce-hostname', hostname, '--dir', dir, '--save', '', '--appendonly', 'no',
        '--logfile', join(dir, 'log')], { stdio: 'ignore' });
      nodes.push({ port, hostname, id: '', range: RANGES[i]!, child });
    }
    await Promise.all(nodes.map((n) => waitForPing(n.port, 30000)));
    for (const n of nodes) {
      n.id = (await call(n.port, ['CLUSTER', 'MYID'])).split('\r\n')[1]!;
      expect(await call(n.port, ['CLUSTER', 'ADDSLOTSRANGE', String(n.range[0]), String(n.range[1])])).to.equal('+OK\r\n');
    }
    for (const n of nodes.slice(1)) expect(await call(n.port, ['CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port)])).to.equal('+OK\r\n');
    // Every node must know every slot's owner and its hostname (carried by the ping extension) before the byte checks.
    await waitUntil('cluster_state:ok and hostnames on every node', async () => {
      for (const n of nodes) {
        if (!(await call(n.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
        const text = await call(n.port, ['CLUSTER', 'NODES']);
        if (!nodes.every((m) => text.includes(`:${m.port}@${m.port + 10000},${m.hostname} `))) return false;
      }
      return true;
    }, 45000);
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopChild(n.child)));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  for (const type of ['ip', 'hostname', 'unknown-endpoint'] as const) {
    for (const resp of [2, 3] as const) {
      it(`CLUSTER SLOTS with cluster-preferred-endpoint-type ${type}, RESP${resp}: [start, end, [endpoint, port, id, {networking}]] per range`, async () => {
        const port = nodes[1]!.port;
        expect(await call(port, ['CONFIG', 'SET', 'cluster-preferred-endpoint-type', type])).to.equal('+OK\r\n');
        try {
          const c = await RespClient.connect(port);
          try {
            if (resp === 3) expect(await c.call(['HELLO', '3'])).to.match(/^%7\r\n/);
            const got = await c.call(['CLUSTER', 'SLOTS']);
            // Ranges in slot order, one per master, no replicas (none here).
            const expected = `*3\r\n` + nodes.map((n) => `*3\r\n:${n.range[0]}\r\n:${n.range[1]}\r\n${nodeEntry(n, type, resp)}`).join('');
            expect(got).to.equal(expected);
          } finally {
            c.close();
          }
        } finally {
          await call(port, ['CONFIG', 'SET', 'cluster-preferred-endpoint-type', 'ip']);
        }
      });
    }
  }

  it('ioredis Cluster (RESP3 by default) connects and routes key1/key2/key3 (slots 9189/4998/935) to their owners', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: nodes[0]!.port }], {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRedirections: 4,
      slotsRefreshTimeout: 5000,
      redisOptions: { connectTimeout: 5000, commandTimeout: 5000, maxRetriesPerRequest: 0 },
    });
    cluster.on('error', () => undefined);
    try {
      await cluster.connect();
      for (const [key, slot] of [['key1', 9189], ['key2', 4998], ['key3', 935]] as const) {
        expect(keyHashSlot(key)).to.equal(slot);
        expect(await cluster.set(key, `v-${key}`)).to.equal('OK');
        expect(await cluster.get(key)).to.equal(`v-${key}`);
        // The owner (read directly, no redirect) holds the value: the client routed by the slot map it built.
        const owner = nodes.find((n) => slot >= n.range[0] && slot <= n.range[1])!;
        expect(await call(owner.port, ['GET', key])).to.equal(bulk(`v-${key}`));
      }
    } finally {
      cluster.disconnect();
    }
  });
});
