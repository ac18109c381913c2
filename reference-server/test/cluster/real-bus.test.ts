/**
 * The codec against a real redis-server 7.0 in cluster mode: a fake node built from our encoder MEETs it over its
 * bus port, completes the handshake on the link it opens back, claims slots, publishes; everything Redis sends is
 * decoded and re-encoded to the very same bytes.
 */
import { expect } from 'chai';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MsgFlag0, MsgType, encodeMessage, extensionHostname, hostnameExtension, type ClusterMessage, type MessageHeader,
} from '../../cluster/codec.js';
import { loadConfig, serializeConfig } from '../../cluster/config-file.js';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { ClusterState, NodeFlag, randomNodeName } from '../../cluster/nodes.js';
import { RespClient, splitFrame } from '../util/resp-client.js';
import { stopChild, waitForPing } from '../util/servers.js';
import { BusPeer, freeClusterPort } from './bus-peer.js';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The text of a RESP element: a bulk string's payload or an integer's digits. */
function text(el: string): string {
  return el[0] === '$' ? bulk(el) : el.slice(1, el.length - 2);
}

function bulk(frame: string | null): string {
  const nl = frame!.indexOf('\r\n');
  return frame!.slice(nl + 2, frame!.length - 2);
}

describe('cluster bus codec against redis-server 7.0', function () {
  let port = 0;
  let child: ChildProcess;
  let dir = '';
  let client: RespClient;
  let realId = '';
  const peers: BusPeer[] = [];
  let listener: net.Server;
  let fakeCport = 0;
  const fakeId = randomNodeName();
  const fakePort = 7777;
  const mySlots = new Uint8Array(2048);
  for (let s = 0; s < 100; s++) mySlots[s >> 3]! |= 1 << (s & 7);

  function fakeHeader(type: number, epoch = 1n): MessageHeader {
    return {
      type, port: fakePort, pport: 0, cport: fakeCport, currentEpoch: epoch, configEpoch: epoch, offset: 0n,
      sender: fakeId, myslots: mySlots, slaveof: null, myip: '', flags: NodeFlag.MASTER, state: 1, mflags: [0, 0, 0],
    };
  }
  const fakePing = (type: number): Buffer =>
    encodeMessage({ header: fakeHeader(type), body: { kind: 'ping', gossip: [], extensions: [hostnameExtension('fake-host')] } });

  before(async () => {
    port = await freeClusterPort();
    dir = mkdtempSync(join(tmpdir(), 'rr-cluster-real-'));
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '15000',
      '--cluster-announce-hostname', 'real-host.example', '--cluster-require-full-coverage', 'no'], { stdio: 'ignore' });
    await waitForPing(port);
    client = await RespClient.connect(port);
    realId = bulk(await client.call(['CLUSTER', 'MYID']));
    listener = net.createServer((s) => peers.push(new BusPeer(s)));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    fakeCport = (listener.address() as net.AddressInfo).port;
  });

  after(async () => {
    for (const p of peers) p.close();
    listener?.close();
    client?.close();
    if (child) await stopChild(child, dir);
  });

  it('agrees with CLUSTER KEYSLOT on keys with and without hash tags', async () => {
    const keys = ['foo', 'bar', '', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', '{}', '{a', 'a}b{c}', '\xff\x00\x01'];
    for (let i = 0; i < 200; i++) keys.push(`key:${i}:${(i * 7919).toString(36)}`);
    for (const key of keys) {
      const reply = await client.call(['CLUSTER', 'KEYSLOT', key]);
      expect(reply, key).to.equal(`:${keyHashSlot(key)}\r\n`);
    }
  });

  it('MEET gets a PONG that decodes to the node\'s identity and re-encodes byte for byte', async () => {
    const out = await BusPeer.connect(port + 10000);
    peers.push(out);
    out.send(fakePing(MsgType.MEET));
    const { raw, message } = await out.next([MsgType.PONG]);
    expect(encodeMessage(message).equals(raw)).to.equal(true);
    const h = message.header;
    expect(h.sender).to.equal(realId);
    expect(h.port).to.equal(port);
    expect(h.cport).to.equal(port + 10000);
    expect(h.flags).to.equal(NodeFlag.MYSELF | NodeFlag.MASTER);
    expect(h.slaveof).to.equal(null);
    expect(h.myip).to.equal('');
    expect(h.state).to.equal(1);
    expect(h.currentEpoch).to.equal(0n);
    expect(h.myslots.every((b) => b === 0)).to.equal(true);
    expect(h.mflags[0] & MsgFlag0.EXT_DATA).to.equal(MsgFlag0.EXT_DATA);
    expect(message.body.kind).to.equal('ping');
    if (message.body.kind === 'ping') {
      expect(message.body.extensions).to.have.length(1);
      expect(extensionHostname(message.body.extensions[0]!)).to.equal('real-host.example');
    }
  });

  it('the node connects back to the announced bus port, PINGs, and learns our id from our PONG', async () => {
    const back = await waitFor('the handshake link', async () => peers.find((p) => p.socket.localPort === fakeCport));
    const { raw, message } = await back.next([MsgType.PING]);
    expect(encodeMessage(message).equals(raw)).to.equal(true);
    expect(message.header.sender).to.equal(realId);
    back.send(fakePing(MsgType.PONG));
    const line = await waitFor('our node in CLUSTER NODES', async () => {
      const nodes = bulk(await client.call(['CLUSTER', 'NODES']));
      return nodes.split('\n').find((l) => l.startsWith(fakeId + ' '));
    });
    expect(line).to.match(new RegExp(`^${fakeId} 127\\.0\\.0\\.1:${fakePort}@${fakeCport} master - `));
  });

  it('a PING claiming slots 0-99 with epoch 1 makes the node bind them, with our hostname', async () => {
    const out = peers[0]!;
    out.send(fakePing(MsgType.PING));
    const { message } = await out.next([MsgType.PONG]);
    expect(message.header.currentEpoch).to.equal(1n);
    const line = await waitFor('slots 0-99 bound to us', async () => {
      const nodes = bulk(await client.call(['CLUSTER', 'NODES']));
      return nodes.split('\n').find((l) => l.startsWith(fakeId + ' ') && l.endsWith(' 0-99'));
    });
    expect(line).to.equal(`${fakeId} 127.0.0.1:${fakePort}@${fakeCport},fake-host master - 0 ${line.split(' ')[5]} 1 connected 0-99`);
    let key = 'k0';
    for (let i = 1; keyHashSlot(key) >= 100; i++) key = `k${i}`;
    // The state turns ok once the node's writable delay has passed.
    const moved = await waitFor('a MOVED to us', async () => {
      const r = await client.call(['GET', key]);
      return r?.startsWith('-CLUSTERDOWN') ? undefined : r;
    });
    expect(moved).to.equal(`-MOVED ${keyHashSlot(key)} 127.0.0.1:${fakePort}\r\n`);
  });

  it('a PUBLISH from the bus reaches the node\'s subscribers', async () => {
    const sub = await RespClient.connect(port);
    try {
      expect(splitFrame((await sub.call(['SUBSCRIBE', 'news']))!).map(text)).to.deep.equal(['subscribe', 'news', '1']);
      const msg: ClusterMessage = { header: fakeHeader(MsgType.PUBLISH), body: { kind: 'publish', channel: Buffer.from('news'), message: Buffer.from('from the bus') } };
      peers[0]!.send(encodeMessage(msg));
      const frame = await sub.read(5000);
      expect(frame!.elements.map(text)).to.deep.equal(['message', 'news', 'from the bus']);
    } finally {
      sub.close();
    }
  });

  it('a FAIL about us from ourselves is counted; MODULE and UPDATE are accepted; CLUSTER INFO counts each type', async () => {
    const out = peers[0]!;
    out.send(encodeMessage({ header: fakeHeader(MsgType.MODULE), body: { kind: 'module', moduleId: 1n, moduleType: 0, payload: Buffer.from('x') } }));
    out.send(encodeMessage({ header: fakeHeader(MsgType.UPDATE), body: { kind: 'update', configEpoch: 1n, nodename: fakeId, slots: mySlots } }));
    out.send(encodeMessage({ header: fakeHeader(MsgType.FAIL), body: { kind: 'fail', nodename: 'f'.repeat(40) } }));
    const info = await waitFor('the FAIL counted', async () => {
      const text = bulk(await client.call(['CLUSTER', 'INFO']));
      return text.includes('cluster_stats_messages_fail_received:1') ? text : undefined;
    });
    for (const field of ['meet_received:1', 'publish_received:1', 'module_received:1', 'update_received:1']) {
      expect(info).to.include(`cluster_stats_messages_${field}`);
    }
  });

  it('loads the nodes.conf Redis wrote and writes it back the same, apart from times and link state', async () => {
    expect(await client.call(['CLUSTER', 'SAVECONFIG'])).to.equal('+OK\r\n');
    const written = readFileSync(join(dir, 'nodes.conf'), 'latin1');
    const state = new ClusterState();
    loadConfig(state, written, 0);
    expect(state.myself.name).to.equal(realId);
    const fake = state.lookup(fakeId)!;
    expect(fake.hostname).to.equal('fake-host');
    expect(fake.numSlots).to.equal(100);
    expect(state.currentEpoch).to.equal(1n);
    // Redis's own line keeps 0 0; other nodes' times become load time (0 here) and they have no link yet.
    const normalised = written
      .split('\n')
      .map((l) => (l.startsWith(fakeId) ? l.replace(/ master - \d+ \d+ 1 connected/, ' master - 0 0 1 disconnected') : l))
      .join('\n');
    expect(serializeConfig(state)).to.equal(normalised);
  });

  it('closes the link on a bad signature and keeps serving', async () => {
    const bad = await BusPeer.connect(port + 10000);
    peers.push(bad);
    const msg = fakePing(MsgType.PING);
    msg.write('XXXX', 0, 'latin1');
    bad.send(msg);
    expect(await bad.waitClosed(5000)).to.equal(true);
    expect(await client.call(['PING'])).to.equal('+PONG\r\n');
  });
});
