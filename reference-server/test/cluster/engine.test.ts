/**
 * Cluster engines talking over real sockets: three reference nodes MEET, gossip into a full mesh, agree on the slot
 * map and reach state ok; a stopped master goes PFAIL then FAIL by majority; a real redis-server 7.0 and a reference
 * node MEET and agree on each other's slots.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeFlag } from '../../cluster/nodes.js';
import { RespClient } from '../util/resp-client.js';
import { stopChild, waitForPing } from '../util/servers.js';
import { MsgType, encodeMessage } from '../../cluster/codec.js';
import { randomNodeName } from '../../cluster/nodes.js';
import { BusPeer, freeClusterPort } from './bus-peer.js';
import { assignSlots, signature, startEngine, waitUntil, type RunningEngine } from './engine-util.js';

function bulk(frame: string | null): string {
  const nl = frame!.indexOf('\r\n');
  return frame!.slice(nl + 2, frame!.length - 2);
}

describe('cluster engine over the bus', function () {
  describe('three reference nodes', () => {
    const engines: RunningEngine[] = [];
    after(() => engines.forEach((e) => e.stop()));

    it('MEET, gossip into a full mesh, agree on the slots and reach cluster_state ok', async () => {
      for (let i = 0; i < 3; i++) engines.push(await startEngine());
      assignSlots(engines[0]!, 0, 5460, 1n);
      assignSlots(engines[1]!, 5461, 10922, 2n);
      assignSlots(engines[2]!, 10923, 16383, 3n);
      // A chain of MEETs: node 2 learns node 0 only through node 1's gossip.
      expect(engines[0]!.cluster.startHandshake('127.0.0.1', engines[1]!.port, engines[1]!.port + 10000)).to.equal('ok');
      expect(engines[1]!.cluster.startHandshake('127.0.0.1', engines[2]!.port, engines[2]!.port + 10000)).to.equal('ok');
      expect(engines[1]!.cluster.startHandshake('127.0.0.1', engines[2]!.port, engines[2]!.port + 10000)).to.equal('inprogress');
      await waitUntil('every node knowing three nodes with the same slot map', () => {
        const sigs = engines.map((e) => signature(e.cluster.state.describeNodes()));
        return engines.every((e) => e.cluster.state.nodes.size === 3 && [...e.cluster.state.nodes.values()].every((n) => n.link || n.isMyself)) &&
          sigs.every((s) => s === sigs[0]) && sigs[0]!.split('|').length === 3;
      });
      await waitUntil('cluster_state ok everywhere', () => engines.every((e) => e.cluster.state.state === 'ok'));
      for (const e of engines) {
        expect(e.cluster.state.size).to.equal(3);
        expect(e.cluster.state.currentEpoch).to.equal(3n);
        expect(e.cluster.myself.ip).to.equal('127.0.0.1');
      }
      const line = engines[2]!.cluster.state.describeNodes().split('\n').find((l) => l.startsWith(engines[0]!.cluster.myself.name))!;
      expect(line).to.match(new RegExp(`^${engines[0]!.cluster.myself.name} 127\\.0\\.0\\.1:${engines[0]!.port}@${engines[0]!.port + 10000} master - \\d+ \\d+ 1 connected 0-5460$`));
    });

    it('a PUBLISH reaches every node', async () => {
      engines[0]!.cluster.propagatePublish('news', 'hello', false);
      await waitUntil('both peers got it', () => engines.slice(1).every((e) => e.host.published.some(([c, m]) => c === 'news' && m === 'hello')));
      expect(engines[0]!.host.published).to.deep.equal([]);
    });

    it('malformed bus traffic drops only that link: random bytes, wrong signature, short or oversized lengths, bad bodies', async () => {
      const target = engines[0]!;
      const bus = target.port + 10000;
      const rng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const rand = rng(12345);
      const header = (type: number, totlen: number): Buffer => {
        const b = Buffer.alloc(Math.max(totlen, 16));
        b.write('RCmb', 0, 'latin1');
        b.writeUInt32BE(totlen, 4);
        b.writeUInt16BE(1, 8);
        b.writeUInt16BE(type, 12);
        return b;
      };
      const payloads: Array<[string, Buffer, boolean]> = [];
      for (let i = 0; i < 20; i++) {
        const len = 1 + Math.floor(rand() * 5000);
        const b = Buffer.alloc(len);
        for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
        payloads.push([`random ${len} bytes`, b, true]);
      }
      payloads.push(['a wrong signature', Buffer.concat([Buffer.from('XXXX'), Buffer.alloc(2252)]), true]);
      payloads.push(['a length below the header', header(0, 100).subarray(0, 100), true]);
      // Well framed but wrong for their type: Redis ignores the packet and keeps the link.
      payloads.push(['a FAIL of the wrong length', header(3, 2300), false]);
      payloads.push(['a PING whose gossip count overruns it', (() => { const b = header(0, 2256); b.writeUInt16BE(900, 14); return b; })(), false]);
      payloads.push(['an unknown sender\'s UPDATE', header(7, 4352), false]);
      payloads.push(['version 2', (() => { const b = header(0, 2256); b.writeUInt16BE(2, 8); return b; })(), false]);
      for (const [what, bytes, closes] of payloads) {
        const peer = await BusPeer.connect(bus);
        peer.send(bytes);
        if (closes) expect(await peer.waitClosed(5000), what).to.equal(true);
        else {
          // The link stays up: a following valid frame still gets its PONG.
          const ping = encodeMessage({ header: { ...engines[1]!.cluster.buildHeader(MsgType.PING), sender: randomNodeName() }, body: { kind: 'ping', gossip: [], extensions: [] } });
          peer.send(ping);
          const { message } = await peer.next([MsgType.PONG], 5000);
          expect(message.header.sender, what).to.equal(target.cluster.myself.name);
        }
        peer.close();
      }
      // An oversized length: the node waits for the rest without failing; closing the link frees it.
      const big = await BusPeer.connect(bus);
      big.send(header(0, 0x7fffffff).subarray(0, 4096));
      big.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(target.cluster.state.state).to.equal('ok');
      expect(target.cluster.state.nodes.size).to.equal(3);
      await waitUntil('the mesh still answering', () => [...target.cluster.state.nodes.values()].every((n) => n.isMyself || (n.link !== null && !n.timedOut)));
    });

    it('a stopped master is flagged fail? then fail by majority, and the state turns fail', async () => {
      const dead = engines[2]!;
      const deadName = dead.cluster.myself.name;
      dead.stop();
      await waitUntil('FAIL on both survivors', () => engines.slice(0, 2).every((e) => (e.cluster.state.lookup(deadName)!.flags & NodeFlag.FAIL) !== 0), 20000);
      for (const e of engines.slice(0, 2)) {
        expect(e.cluster.state.state).to.equal('fail');
        expect(e.cluster.state.describeNodes()).to.include(`${deadName} 127.0.0.1:${dead.port}@${dead.port + 10000} master,fail -`);
      }
    });
  });

  describe('failover between reference nodes', () => {
    const engines: RunningEngine[] = [];
    after(() => engines.forEach((e) => e.stop()));

    async function meshOf(n: number): Promise<void> {
      for (let i = 0; i < n; i++) engines.push(await startEngine());
      assignSlots(engines[0]!, 0, 5460, 1n);
      assignSlots(engines[1]!, 5461, 10922, 2n);
      assignSlots(engines[2]!, 10923, 16383, 3n);
      for (let i = 1; i < n; i++) engines[0]!.cluster.startHandshake('127.0.0.1', engines[i]!.port, engines[i]!.port + 10000);
      await waitUntil('a full mesh', () => engines.every((e) => e.cluster.state.nodes.size === n && [...e.cluster.state.nodes.values()].every((x) => x.isMyself || (x.link && !x.inHandshake))));
    }

    it('a replica of a stopped master wins the election, takes its slots with a new epoch, and the state is ok again', async () => {
      await meshOf(4);
      const [m0, m1, m2, r] = engines as [RunningEngine, RunningEngine, RunningEngine, RunningEngine];
      r.cluster.setMaster(r.cluster.state.lookup(m2.cluster.myself.name)!);
      r.host.offset = 100n;
      await waitUntil('everyone seeing the replica', () => engines.every((e) => e.cluster.state.lookup(r.cluster.myself.name)!.isReplica));
      await waitUntil('cluster_state ok', () => engines.every((e) => e.cluster.state.state === 'ok'));
      const m2Name = m2.cluster.myself.name;
      const stoppedAt = Date.now();
      m2.stop();
      await waitUntil('the replica promoted', () => r.cluster.myself.isMaster && r.cluster.myself.numSlots === 5461, 20000);
      await waitUntil('ok on the survivors', () => [m0, m1, r].every((e) => e.cluster.state.state === 'ok' && e.cluster.state.slots[16383] === e.cluster.state.lookup(r.cluster.myself.name)), 20000);
      const took = Date.now() - stoppedAt;
      expect(r.cluster.myself.configEpoch).to.equal(4n);
      expect(r.host.masterHost).to.equal(null);
      for (const e of [m0, m1]) {
        expect(e.cluster.state.lookup(m2Name)!.failed).to.equal(true);
        expect(e.cluster.state.lastVoteEpoch).to.equal(4n);
      }
      expect(r.host.logs).to.include('warning: Failover election won: I\'m the new master.');
      // node-timeout 1000: PFAIL after ~1 s, FAIL, then 500-1000 ms of election delay.
      expect(took).to.be.below(10000);
    });
  });

  describe('a reference node and redis-server 7.0', () => {
    let child: ChildProcess;
    let dir = '';
    let client: RespClient;
    let engine: RunningEngine;
    let realPort = 0;

    before(async () => {
      realPort = await freeClusterPort();
      dir = mkdtempSync(join(tmpdir(), 'rr-cluster-mixed-'));
      child = spawn('redis-server', ['--port', String(realPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-node-timeout', '1000'], { stdio: 'ignore' });
      await waitForPing(realPort);
      client = await RespClient.connect(realPort);
      engine = await startEngine();
    });
    after(async () => {
      engine?.stop();
      client?.close();
      if (child) await stopChild(child, dir);
    });

    it('MEET from the reference node, then both agree on the slot map and reach state ok', async () => {
      expect(await client.call(['CLUSTER', 'ADDSLOTSRANGE', '0', '8191'])).to.equal('+OK\r\n');
      expect(await client.call(['CLUSTER', 'SET-CONFIG-EPOCH', '1'])).to.equal('+OK\r\n');
      assignSlots(engine, 8192, 16383, 2n);
      expect(engine.cluster.startHandshake('127.0.0.1', realPort, realPort + 10000)).to.equal('ok');
      const realId = bulk(await client.call(['CLUSTER', 'MYID']));
      const refId = engine.cluster.myself.name;
      await waitUntil('both sides with the same signature', async () => {
        const real = signature(bulk(await client.call(['CLUSTER', 'NODES'])));
        const ref = signature(engine.cluster.state.describeNodes());
        return real === ref && real === [`${realId}:0-8191`, `${refId}:8192-16383`].sort().join('|');
      });
      await waitUntil('cluster_state ok on both', async () =>
        bulk(await client.call(['CLUSTER', 'INFO'])).includes('cluster_state:ok') && engine.cluster.state.state === 'ok');
      const realNodes = bulk(await client.call(['CLUSTER', 'NODES']));
      expect(realNodes).to.match(new RegExp(`${refId} 127\\.0\\.0\\.1:${engine.port}@${engine.port + 10000} master - \\d+ \\d+ 2 connected 8192-16383`));
      expect(engine.cluster.state.describeNodes()).to.match(new RegExp(`${realId} 127\\.0\\.0\\.1:${realPort}@${realPort + 10000} master - \\d+ \\d+ 1 connected 0-8191`));
      expect(await client.call(['GET', 'foo'])).to.equal(`-MOVED 12182 127.0.0.1:${engine.port}\r\n`);
    });

    it('a PUBLISH on redis-server reaches the reference node over the bus', async () => {
      expect(await client.call(['PUBLISH', 'ch', 'from-real'])).to.equal(':0\r\n');
      await waitUntil('the message at the reference node', () => engine.host.published.some(([c, m, sh]) => c === 'ch' && m === 'from-real' && !sh));
    });
  });
});
