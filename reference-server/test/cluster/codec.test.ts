import { expect } from 'chai';
import {
  BusFramingError, CLUSTER_MSG_SIZE, FrameReader, HEADER_LEN, MsgFlag0, MsgType, decodeMessage, encodeMessage,
  extensionHostname, hostnameExtension, type ClusterMessage, type MessageHeader,
} from '../../cluster/codec.js';

function header(type: number): MessageHeader {
  const myslots = new Uint8Array(2048);
  myslots[0] = 0x01; // slot 0
  myslots[2047] = 0x80; // slot 16383
  return {
    type, port: 0x1234, pport: 0x2345, cport: 0x3456, currentEpoch: 0x0102030405060708n, configEpoch: 0x1112131415161718n,
    offset: 0x2122232425262728n, sender: 'f'.repeat(40), myslots, slaveof: 'e'.repeat(40), myip: '10.1.2.3',
    flags: 0x4567, state: 1, mflags: [MsgFlag0.PAUSED, 0, 0],
  };
}

function roundTrip(msg: ClusterMessage): ClusterMessage {
  const bytes = encodeMessage(msg);
  const r = decodeMessage(bytes);
  if (!r.ok) throw new Error(r.reason);
  expect(encodeMessage(r.message).equals(bytes)).to.equal(true);
  return r.message;
}

describe('cluster bus codec', () => {
  it('places every header field at clusterMsg\'s offsets, big-endian', () => {
    const b = encodeMessage({ header: header(MsgType.FAILOVER_AUTH_REQUEST), body: { kind: 'empty' } });
    expect(b.length).to.equal(HEADER_LEN);
    expect(b.toString('latin1', 0, 4)).to.equal('RCmb');
    expect(b.readUInt32BE(4)).to.equal(2256);
    expect(b.readUInt16BE(8)).to.equal(1);
    expect(b.readUInt16BE(10)).to.equal(0x1234);
    expect(b.readUInt16BE(12)).to.equal(MsgType.FAILOVER_AUTH_REQUEST);
    expect(b.readUInt16BE(14)).to.equal(0);
    expect(b.subarray(16, 24).toString('hex')).to.equal('0102030405060708');
    expect(b.subarray(24, 32).toString('hex')).to.equal('1112131415161718');
    expect(b.subarray(32, 40).toString('hex')).to.equal('2122232425262728');
    expect(b.toString('latin1', 40, 80)).to.equal('f'.repeat(40));
    expect(b[80]).to.equal(0x01);
    expect(b[80 + 2047]).to.equal(0x80);
    expect(b.toString('latin1', 2128, 2168)).to.equal('e'.repeat(40));
    expect(b.toString('latin1', 2168, 2176)).to.equal('10.1.2.3');
    expect(b.subarray(2176, 2214).every((x) => x === 0)).to.equal(true);
    expect(b.readUInt16BE(2214)).to.equal(0);
    expect(b.subarray(2216, 2246).every((x) => x === 0)).to.equal(true);
    expect(b.readUInt16BE(2246)).to.equal(0x2345);
    expect(b.readUInt16BE(2248)).to.equal(0x3456);
    expect(b.readUInt16BE(2250)).to.equal(0x4567);
    expect(b[2252]).to.equal(1);
    expect([b[2253], b[2254], b[2255]]).to.deep.equal([1, 0, 0]);
    expect(CLUSTER_MSG_SIZE).to.equal(4352);
  });

  it('lays out gossip entries in 104 bytes and hostname extensions 8-byte aligned', () => {
    const msg: ClusterMessage = {
      header: { ...header(MsgType.PING), slaveof: null },
      body: {
        kind: 'ping',
        gossip: [
          { nodename: '1'.repeat(40), pingSent: 0xaabbccdd, pongReceived: 7, ip: '127.0.0.1', port: 7000, cport: 17000, flags: 1, pport: 0 },
          { nodename: '2'.repeat(40), pingSent: 0, pongReceived: 0, ip: '', port: 7001, cport: 17001, flags: 2 | 4, pport: 9 },
        ],
        extensions: [hostnameExtension('node-a.example')],
      },
    };
    const b = encodeMessage(msg);
    expect(b.length).to.equal(2256 + 2 * 104 + 8 + 16);
    expect(b.readUInt16BE(14)).to.equal(2);
    expect(b.readUInt16BE(2214)).to.equal(1);
    expect(b[2253]! & MsgFlag0.EXT_DATA).to.equal(MsgFlag0.EXT_DATA);
    expect(b.subarray(2128, 2168).every((x) => x === 0)).to.equal(true);
    const g = 2256;
    expect(b.readUInt32BE(g + 40)).to.equal(0xaabbccdd);
    expect(b.readUInt32BE(g + 44)).to.equal(7);
    expect(b.toString('latin1', g + 48, g + 57)).to.equal('127.0.0.1');
    expect(b.readUInt16BE(g + 94)).to.equal(7000);
    expect(b.readUInt16BE(g + 96)).to.equal(17000);
    expect(b.readUInt16BE(g + 98)).to.equal(1);
    expect(b.readUInt16BE(g + 104 + 100)).to.equal(9);
    const e = 2256 + 208;
    expect(b.readUInt32BE(e)).to.equal(24);
    expect(b.readUInt16BE(e + 4)).to.equal(0);
    expect(b.toString('latin1', e + 8, e + 22)).to.equal('node-a.example');
    expect(b.subarray(e + 22, e + 24).every((x) => x === 0)).to.equal(true);
    const back = roundTrip(msg);
    expect(back.header.slaveof).to.equal(null);
    expect(back.body.kind).to.equal('ping');
    if (back.body.kind === 'ping') {
      expect(back.body.gossip).to.deep.equal(msg.body.kind === 'ping' ? msg.body.gossip : []);
      expect(extensionHostname(back.body.extensions[0]!)).to.equal('node-a.example');
    }
  });

  it('sizes a hostname extension as 8 + align8(len + 1)', () => {
    expect(hostnameExtension('a').data.length + 8).to.equal(16);
    expect(hostnameExtension('1234567').data.length + 8).to.equal(16);
    expect(hostnameExtension('12345678').data.length + 8).to.equal(24);
  });

  it('encodes and decodes FAIL, PUBLISH, PUBLISHSHARD, UPDATE, MODULE, AUTH, MFSTART with Redis\'s lengths', () => {
    const cases: Array<[ClusterMessage, number]> = [
      [{ header: header(MsgType.FAIL), body: { kind: 'fail', nodename: '3'.repeat(40) } }, 2296],
      [{ header: header(MsgType.PUBLISH), body: { kind: 'publish', channel: Buffer.from('chan'), message: Buffer.from('hello\x00world') } }, 2264 + 4 + 11],
      [{ header: header(MsgType.PUBLISHSHARD), body: { kind: 'publish', channel: Buffer.from('{a}'), message: Buffer.alloc(0) } }, 2264 + 3],
      [{ header: header(MsgType.UPDATE), body: { kind: 'update', configEpoch: 9n, nodename: '4'.repeat(40), slots: new Uint8Array(2048).fill(0xff) } }, 4352],
      [{ header: header(MsgType.MODULE), body: { kind: 'module', moduleId: 0x0102n, moduleType: 3, payload: Buffer.from('xyz') } }, 2269 + 3],
      [{ header: header(MsgType.FAILOVER_AUTH_ACK), body: { kind: 'empty' } }, 2256],
      [{ header: header(MsgType.MFSTART), body: { kind: 'empty' } }, 2256],
    ];
    for (const [msg, len] of cases) {
      const bytes = encodeMessage(msg);
      expect(bytes.length, `type ${msg.header.type}`).to.equal(len);
      expect(bytes.readUInt32BE(4)).to.equal(len);
      const back = roundTrip(msg);
      expect(back.body).to.deep.equal(msg.body);
    }
    const up = encodeMessage(cases[3]![0]);
    expect(up.readBigUInt64BE(2256)).to.equal(9n);
    expect(up.toString('latin1', 2264, 2304)).to.equal('4'.repeat(40));
    const mod = encodeMessage(cases[4]![0]);
    expect(mod.readUInt32BE(2264)).to.equal(3);
    expect(mod[2268]).to.equal(3);
  });

  it('passes an unknown type through as well formed', () => {
    const raw = Buffer.from('anything');
    const back = roundTrip({ header: header(42), body: { kind: 'unknown', raw } });
    expect(back.body).to.deep.equal({ kind: 'unknown', raw });
  });

  it('drops (without closing) a wrong version, a length that does not match, bad extension padding', () => {
    const ping = encodeMessage({ header: header(MsgType.PING), body: { kind: 'ping', gossip: [], extensions: [hostnameExtension('h')] } });
    const v2 = Buffer.from(ping);
    v2.writeUInt16BE(2, 8);
    expect(decodeMessage(v2).ok).to.equal(false);
    const padded = Buffer.from(ping);
    padded.writeUInt32BE(12, 2256);
    const r1 = decodeMessage(padded);
    expect(r1.ok).to.equal(false);
    if (!r1.ok) expect(r1.reason).to.equal('Received a ping packet without proper padding (12 bytes)');
    const tooLong = Buffer.from(ping);
    tooLong.writeUInt32BE(64, 2256);
    expect(decodeMessage(tooLong).ok).to.equal(false);
    const noFlag = Buffer.from(ping);
    noFlag[2253] = 0;
    const r2 = decodeMessage(noFlag);
    expect(r2.ok).to.equal(false);
    if (!r2.ok) expect(r2.reason).to.equal('Received invalid ping packet of length 2272 but expected length 2256');
    const fail = encodeMessage({ header: header(MsgType.FAIL), body: { kind: 'fail', nodename: '3'.repeat(40) } });
    const failLong = Buffer.concat([fail, Buffer.alloc(8)]);
    failLong.writeUInt32BE(failLong.length, 4);
    expect(decodeMessage(failLong).ok).to.equal(false);
    const pub = encodeMessage({ header: header(MsgType.PUBLISH), body: { kind: 'publish', channel: Buffer.from('c'), message: Buffer.from('m') } });
    pub.writeUInt32BE(0xffffffff, 2256);
    expect(decodeMessage(pub).ok).to.equal(false);
    const manyGossip = Buffer.from(ping);
    manyGossip.writeUInt16BE(500, 14);
    expect(decodeMessage(manyGossip).ok).to.equal(false);
  });

  it('frames a byte stream: split, coalesced, and closes on a bad signature or a short length', () => {
    const a = encodeMessage({ header: header(MsgType.PING), body: { kind: 'ping', gossip: [], extensions: [] } });
    const b = encodeMessage({ header: header(MsgType.FAIL), body: { kind: 'fail', nodename: '5'.repeat(40) } });
    const stream = Buffer.concat([a, b, a]);
    const reader = new FrameReader();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 997) out.push(...reader.push(stream.subarray(i, i + 997)));
    expect(out.map((m) => m.length)).to.deep.equal([2256, 2296, 2256]);
    expect(out[1]!.equals(b)).to.equal(true);
    expect(new FrameReader().push(Buffer.concat([a, b])).length).to.equal(2);
    const partial = new FrameReader();
    expect(partial.push(a.subarray(0, 7))).to.deep.equal([]);
    expect(partial.push(a.subarray(7))).to.have.length(1);
    const bad = Buffer.from(a);
    bad.write('XXXX', 0, 'latin1');
    expect(() => new FrameReader().push(bad)).to.throw(BusFramingError, 'Bad message length or signature received from Cluster bus.');
    const short = Buffer.from(a);
    short.writeUInt32BE(2255, 4);
    expect(() => new FrameReader().push(short.subarray(0, 8))).to.throw(BusFramingError);
  });
});
