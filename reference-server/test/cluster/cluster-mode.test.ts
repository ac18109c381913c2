/**
 * The reference server in cluster mode, end to end, as processes: redis-cli --cluster create of six reference nodes
 * reaches cluster_state ok and --cluster check is clean; redis-cli -c follows MOVED; redirect texts; a killed node
 * restarts with its identity from nodes.conf; a corrupt nodes.conf ends the process as Redis does; kill -9 of a
 * master makes its replica take over.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { stopChild, waitExit, waitForPing } from '../util/servers.js';
import { redisCli, startClusterNode } from '../fixtures/cluster-kit.js';
import { freeClusterPort } from './bus-peer.js';
import { waitUntil } from './engine-util.js';

function cli(args: string[], timeoutMs = 60000): Promise<{ code: number; out: string }> {
  return redisCli(args, timeoutMs);
}

async function cmd(port: number, ...args: string[]): Promise<string> {
  return (await cli(['-p', String(port), ...args], 10000)).out.trim();
}

interface Node {
  port: number;
  dir: string;
  child: ChildProcess;
}

const NODE_TIMEOUT = '3000';

function startNode(port: number, dir: string): ChildProcess {
  return startClusterNode('ref', port, dir, { nodeTimeoutMs: Number(NODE_TIMEOUT) });
}

describe('reference server in cluster mode (processes, redis-cli)', function () {
  const nodes: Node[] = [];
  let root = '';

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'rr-cluster-mode-'));
    for (let i = 0; i < 6; i++) {
      const port = await freeClusterPort();
      const dir = join(root, String(port));
      mkdirSync(dir);
      nodes.push({ port, dir, child: startNode(port, dir) });
    }
    await Promise.all(nodes.map((n) => waitForPing(n.port, 30000)));
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopChild(n.child)));
    rmSync(root, { recursive: true, force: true });
  });

  it('redis-cli --cluster create of six nodes reaches cluster_state:ok and --cluster check is clean', async () => {
    const create = await cli(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], 120000);
    expect(create.out).to.include('[OK] All 16384 slots covered.');
    expect(create.code).to.equal(0);
    await waitUntil('cluster_state:ok on all six', async () => {
      const infos = await Promise.all(nodes.map((n) => cmd(n.port, 'cluster', 'info')));
      return infos.every((i) => i.includes('cluster_state:ok'));
    }, 60000);
    const check = await cli(['--cluster', 'check', `127.0.0.1:${nodes[0]!.port}`]);
    expect(check.out).to.include('[OK] All nodes agree about slots configuration.');
    expect(check.out).to.include('[OK] All 16384 slots covered.');
    expect(check.code).to.equal(0);
    const info = await cmd(nodes[0]!.port, 'cluster', 'info');
    expect(info).to.include('cluster_known_nodes:6');
    expect(info).to.include('cluster_size:3');
  });

  it('redis-cli -c follows MOVED; a wrong node answers MOVED with the owner; CROSSSLOT; KEYSLOT', async () => {
    for (let i = 0; i < 20; i++) expect(await cli(['-c', '-p', String(nodes[0]!.port), 'set', `key:${i}`, `v${i}`])).to.deep.include({ out: 'OK\n' });
    for (let i = 0; i < 20; i++) expect((await cli(['-c', '-p', String(nodes[1]!.port), 'get', `key:${i}`])).out).to.equal(`v${i}\n`);
    const slot = keyHashSlot('foo');
    const owner = await waitOwner(slot);
    const other = nodes.find((n) => n.port !== owner && !String(n.port).startsWith('x'))!;
    const reply = await cmd(other.port, 'get', 'foo');
    // A replica of the owner also redirects (no READONLY).
    expect(reply).to.equal(`MOVED ${slot} 127.0.0.1:${owner}`);
    expect(await cmd(owner, 'mset', 'a', '1', 'b', '2')).to.equal("CROSSSLOT Keys in request don't hash to the same slot");
    expect(await cmd(owner, 'cluster', 'keyslot', 'foo')).to.equal('12182');
    expect(await cmd(owner, 'select', '1')).to.equal('ERR SELECT is not allowed in cluster mode');
  });

  async function waitOwner(slot: number): Promise<number> {
    const slots = await cmd(nodes[0]!.port, 'cluster', 'nodes');
    for (const line of slots.split('\n')) {
      const f = line.split(' ');
      if (!f[2]?.includes('master')) continue;
      for (const r of f.slice(8)) {
        const [a, b] = r.split('-').map(Number);
        if (slot >= a! && slot <= (b ?? a)!) return Number(f[1]!.split(':')[1]!.split('@')[0]);
      }
    }
    throw new Error(`no owner for slot ${slot}`);
  }

  it('a killed master\'s replica takes over (kill -9), and the old master rejoins as a replica after restart', async () => {
    const owner = await waitOwner(keyHashSlot('foo'));
    const victim = nodes.find((n) => n.port === owner)!;
    const victimId = await cmd(victim.port, 'cluster', 'myid');
    // Its replica must have synced first (the full sync waits repl-diskless-sync-delay, 5 s by default as in Redis):
    // a replica whose link never came up does not stand for election.
    await waitUntil('the victim\'s replica online', async () => /slave0:.*state=online/.test(await cmd(victim.port, 'info', 'replication')), 30000);
    const nodesConf = readFileSync(join(victim.dir, 'nodes.conf'), 'latin1');
    expect(nodesConf).to.include(`${victimId} 127.0.0.1:${victim.port}@${victim.port + 10000} myself,master`);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await waitExit(victim.child);
    const survivors = nodes.filter((n) => n !== victim);
    try {
      await waitUntil('a new owner of foo\'s slot and cluster_state:ok on the survivors', async () => {
        const infos = await Promise.all(survivors.map((n) => cmd(n.port, 'cluster', 'info')));
        if (!infos.every((i) => i.includes('cluster_state:ok'))) return false;
        return (await waitOwner(keyHashSlot('foo'))) !== victim.port;
      }, 60000);
    } catch (e) {
      // What each survivor logged says why no replica took over.
      const logs = survivors.map((n) => `--- ${n.port}\n${readFileSync(join(n.dir, 'log'), 'latin1').split('\n').filter((l) => !l.includes('ECONNREFUSED')).slice(-20).join('\n')}`);
      throw new Error(`${(e as Error).message}\n${logs.join('\n')}`);
    }
    const failoverMs = Date.now() - killedAt;
    const newOwner = await waitOwner(keyHashSlot('foo'));
    expect((await cli(['-c', '-p', String(newOwner), 'set', 'foo', 'after'])).out).to.equal('OK\n');
    // Restart from nodes.conf: same id, and it follows the new master.
    victim.child = startNode(victim.port, victim.dir);
    await waitForPing(victim.port, 30000);
    expect(await cmd(victim.port, 'cluster', 'myid')).to.equal(victimId);
    await waitUntil('the old master turned replica of the new one', async () => {
      const line = (await cmd(victim.port, 'cluster', 'nodes')).split('\n').find((l) => l.startsWith(victimId))!;
      return line.includes('myself,slave');
    }, 60000);
    console.log(`      (kill -9 -> new master and cluster_state:ok on all survivors: ${failoverMs} ms, node-timeout ${NODE_TIMEOUT})`);
  });

  it('a corrupt nodes.conf ends the process with Redis\'s message and exit code 1', async () => {
    const port = await freeClusterPort();
    const dir = join(root, 'corrupt');
    mkdirSync(dir);
    writeFileSync(join(dir, 'nodes.conf'), 'this is not a nodes file\n');
    const child = startNode(port, dir);
    expect(await waitExit(child, 30000)).to.equal(1);
    expect(readFileSync(join(dir, 'log'), 'latin1')).to.include('Unrecoverable error: corrupted cluster config file.');
  });
});
