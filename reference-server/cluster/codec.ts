/**
 * The cluster bus wire format of Redis 7.0.15 (clusterMsg in src/cluster.h): a 2256-byte big-endian header starting
 * with "RCmb", then a body that depends on the type. Encoding builds exactly the bytes Redis sends; decoding applies
 * the checks of clusterReadHandler (a bad signature or a length below the header closes the link) and of
 * clusterProcessPacket (a wrong version or a length that does not match the type drops the packet only).
 */

export const MsgType = {
  PING: 0,
  PONG: 1,
  MEET: 2,
  FAIL: 3,
  PUBLISH: 4,
  FAILOVER_AUTH_REQUEST: 5,
  FAILOVER_AUTH_ACK: 6,
  UPDATE: 7,
  MFSTART: 8,
  MODULE: 9,
  PUBLISHSHARD: 10,
} as const;
export const MSG_TYPE_COUNT = 11;

/** Names as clusterGetMessageTypeString and CLUSTER INFO's stats use them. */
export const MSG_TYPE_NAMES = ['ping', 'pong', 'meet', 'fail', 'publish', 'auth-req', 'auth-ack', 'update', 'mfstart', 'module', 'publishshard'];

export const PROTO_VER = 1;
/** sizeof(clusterMsg) - sizeof(union clusterMsgData): CLUSTERMSG_MIN_LEN. */
export const HEADER_LEN = 2256;
/** sizeof(clusterMsg): the header plus the largest body (UPDATE's 8 + 40 + 2048). */
export const CLUSTER_MSG_SIZE = 4352;
export const GOSSIP_LEN = 104;
export const FAIL_LEN = HEADER_LEN + 40;
export const UPDATE_LEN = HEADER_LEN + 8 + 40 + 2048;
/** Fixed part of PUBLISH: channel_len and message_len (sizeof(clusterMsgDataPublish) minus its 8 placeholder bytes). */
export const PUBLISH_FIXED = 8;
/** Fixed part of MODULE: module_id, len, type (sizeof(clusterMsgModule) minus its 3 placeholder bytes). */
export const MODULE_FIXED = 13;
export const NET_IP_STR_LEN = 46;
export const NAMELEN = 40;
export const SLOTS_BYTES = 2048;

/** mflags[0] bits. */
export const MsgFlag0 = { PAUSED: 1, FORCEACK: 2, EXT_DATA: 4 } as const;
/** Ping extension types of 7.0.15 (only the hostname exists in 7.0). */
export const PingExtType = { HOSTNAME: 0 } as const;

const OFF = {
  sig: 0, totlen: 4, ver: 8, port: 10, type: 12, count: 14, currentEpoch: 16, configEpoch: 24, offset: 32,
  sender: 40, myslots: 80, slaveof: 2128, myip: 2168, extensions: 2214, notused1: 2216, pport: 2246, cport: 2248,
  flags: 2250, state: 2252, mflags: 2253, data: 2256,
} as const;

export interface MessageHeader {
  type: number;
  /** Client port (TLS port when TLS is on), plaintext port, bus port. */
  port: number;
  pport: number;
  cport: number;
  currentEpoch: bigint;
  /** Its master's configEpoch when the sender is a replica. */
  configEpoch: bigint;
  offset: bigint;
  /** 40 bytes as sent (latin1); not necessarily a valid id. */
  sender: string;
  /** 2048 bytes, a replica sends its master's. */
  myslots: Uint8Array;
  /** null when all 40 bytes are zero (the sender is a master). */
  slaveof: string | null;
  /** Announced ip; '' asks the receiver to use the connection's address. */
  myip: string;
  flags: number;
  /** 0 ok, 1 fail. */
  state: number;
  mflags: [number, number, number];
}

export interface GossipEntry {
  nodename: string;
  /** Seconds (Redis sends ms/1000 truncated to 32 bits). */
  pingSent: number;
  pongReceived: number;
  ip: string;
  port: number;
  cport: number;
  flags: number;
  pport: number;
}

export interface PingExtension {
  type: number;
  /** The extension's payload after its 8-byte header, padding included. */
  data: Buffer;
}

export type MessageBody =
  | { kind: 'ping'; gossip: GossipEntry[]; extensions: PingExtension[] }
  | { kind: 'fail'; nodename: string }
  | { kind: 'publish'; channel: Buffer; message: Buffer }
  | { kind: 'update'; configEpoch: bigint; nodename: string; slots: Uint8Array }
  | { kind: 'module'; moduleId: bigint; moduleType: number; payload: Buffer }
  | { kind: 'empty' }
  | { kind: 'unknown'; raw: Buffer };

export interface ClusterMessage {
  header: MessageHeader;
  body: MessageBody;
}

function writeFixedString(buf: Buffer, offset: number, size: number, s: string): void {
  // strncpy(dst, s, size - 1) for ips; names fill all their bytes.
  buf.write(s.slice(0, size), offset, size, 'latin1');
}

function readCString(buf: Buffer, offset: number, size: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end === -1 || end > offset + size ? offset + size : end);
}

function isAllZero(buf: Buffer, offset: number, size: number): boolean {
  for (let i = offset; i < offset + size; i++) if (buf[i] !== 0) return false;
  return true;
}

/** The length a hostname extension takes: 8-byte header + the name and its NUL, rounded up to 8. */
export function hostnameExtensionLength(hostname: string): number {
  return 8 + Math.ceil((hostname.length + 1) / 8) * 8;
}

export function hostnameExtension(hostname: string): PingExtension {
  const data = Buffer.alloc(hostnameExtensionLength(hostname) - 8);
  data.write(hostname, 0, 'latin1');
  return { type: PingExtType.HOSTNAME, data };
}

/** The hostname carried by an extension (up to its first NUL). */
export function extensionHostname(ext: PingExtension): string {
  return readCString(ext.data, 0, ext.data.length);
}

function bodyLength(body: MessageBody): number {
  switch (body.kind) {
    case 'ping':
      return GOSSIP_LEN * body.gossip.length + body.extensions.reduce((n, e) => n + 8 + e.data.length, 0);
    case 'fail':
      return NAMELEN;
    case 'publish':
      return PUBLISH_FIXED + body.channel.length + body.message.length;
    case 'update':
      return 8 + NAMELEN + SLOTS_BYTES;
    case 'module':
      return MODULE_FIXED + body.payload.length;
    case 'empty':
      return 0;
    case 'unknown':
      return body.raw.length;
  }
}

/** Builds the bytes of one message; totlen, count, extensions and EXT_DATA follow from the body. */
export function encodeMessage(msg: ClusterMessage): Buffer {
  const h = msg.header;
  const body = msg.body;
  const totlen = HEADER_LEN + bodyLength(body);
  const buf = Buffer.alloc(totlen);
  buf.write('RCmb', OFF.sig, 'latin1');
  buf.writeUInt32BE(totlen, OFF.totlen);
  buf.writeUInt16BE(PROTO_VER, OFF.ver);
  buf.writeUInt16BE(h.port, OFF.port);
  buf.writeUInt16BE(h.type, OFF.type);
  buf.writeBigUInt64BE(h.currentEpoch, OFF.currentEpoch);
  buf.writeBigUInt64BE(h.configEpoch, OFF.configEpoch);
  buf.writeBigUInt64BE(h.offset, OFF.offset);
  writeFixedString(buf, OFF.sender, NAMELEN, h.sender);
  buf.set(h.myslots.subarray(0, SLOTS_BYTES), OFF.myslots);
  if (h.slaveof !== null) writeFixedString(buf, OFF.slaveof, NAMELEN, h.slaveof);
  writeFixedString(buf, OFF.myip, NET_IP_STR_LEN - 1, h.myip);
  buf.writeUInt16BE(h.pport, OFF.pport);
  buf.writeUInt16BE(h.cport, OFF.cport);
  buf.writeUInt16BE(h.flags, OFF.flags);
  buf.writeUInt8(h.state, OFF.state);
  buf.writeUInt8(h.mflags[0], OFF.mflags);
  buf.writeUInt8(h.mflags[1], OFF.mflags + 1);
  buf.writeUInt8(h.mflags[2], OFF.mflags + 2);
  let p = OFF.data;
  switch (body.kind) {
    case 'ping': {
      buf.writeUInt16BE(body.gossip.length, OFF.count);
      for (const g of body.gossip) {
        writeFixedString(buf, p, NAMELEN, g.nodename);
        buf.writeUInt32BE(g.pingSent >>> 0, p + 40);
        buf.writeUInt32BE(g.pongReceived >>> 0, p + 44);
        writeFixedString(buf, p + 48, NET_IP_STR_LEN, g.ip);
        buf.writeUInt16BE(g.port, p + 94);
        buf.writeUInt16BE(g.cport, p + 96);
        buf.writeUInt16BE(g.flags, p + 98);
        buf.writeUInt16BE(g.pport, p + 100);
        p += GOSSIP_LEN;
      }
      for (const ext of body.extensions) {
        buf.writeUInt32BE(8 + ext.data.length, p);
        buf.writeUInt16BE(ext.type, p + 4);
        buf.set(ext.data, p + 8);
        p += 8 + ext.data.length;
      }
      buf.writeUInt16BE(body.extensions.length, OFF.extensions);
      if (body.extensions.length) buf[OFF.mflags] = buf[OFF.mflags]! | MsgFlag0.EXT_DATA;
      break;
    }
    case 'fail':
      writeFixedString(buf, p, NAMELEN, body.nodename);
      break;
    case 'publish':
      buf.writeUInt32BE(body.channel.length, p);
      buf.writeUInt32BE(body.message.length, p + 4);
      buf.set(body.channel, p + 8);
      buf.set(body.message, p + 8 + body.channel.length);
      break;
    case 'update':
      buf.writeBigUInt64BE(body.configEpoch, p);
      writeFixedString(buf, p + 8, NAMELEN, body.nodename);
      buf.set(body.slots.subarray(0, SLOTS_BYTES), p + 48);
      break;
    case 'module':
      buf.writeBigUInt64BE(body.moduleId, p);
      buf.writeUInt32BE(body.payload.length, p + 8);
      buf.writeUInt8(body.moduleType, p + 12);
      buf.set(body.payload, p + 13);
      break;
    case 'empty':
      break;
    case 'unknown':
      buf.set(body.raw, p);
      break;
  }
  return buf;
}

/** The link must be dropped: what clusterReadHandler does on a bad signature or a too short totlen. */
export class BusFramingError extends Error {}

/**
 * Splits a link's byte stream into whole messages: the first 8 bytes give signature and totlen, then the rest is
 * buffered until totlen bytes are there.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  /** Feeds bytes; returns every completed message. Throws BusFramingError when the link must be closed. */
  push(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.expected === -1) {
        if (this.buffered < 8) break;
        const head = this.peek(8);
        const totlen = head.readUInt32BE(4);
        if (head.toString('latin1', 0, 4) !== 'RCmb' || totlen < HEADER_LEN) {
          throw new BusFramingError('Bad message length or signature received from Cluster bus.');
        }
        this.expected = totlen;
      }
      if (this.buffered < this.expected) break;
      out.push(this.take(this.expected));
      this.expected = -1;
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const msg = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return msg;
  }
}

export type DecodeResult = { ok: true; message: ClusterMessage } | { ok: false; reason: string };

function decodeHeader(buf: Buffer): MessageHeader {
  return {
    type: buf.readUInt16BE(OFF.type),
    port: buf.readUInt16BE(OFF.port),
    pport: buf.readUInt16BE(OFF.pport),
    cport: buf.readUInt16BE(OFF.cport),
    currentEpoch: buf.readBigUInt64BE(OFF.currentEpoch),
    configEpoch: buf.readBigUInt64BE(OFF.configEpoch),
    offset: buf.readBigUInt64BE(OFF.offset),
    sender: buf.toString('latin1', OFF.sender, OFF.sender + NAMELEN),
    myslots: new Uint8Array(buf.subarray(OFF.myslots, OFF.myslots + SLOTS_BYTES)),
    slaveof: isAllZero(buf, OFF.slaveof, NAMELEN) ? null : buf.toString('latin1', OFF.slaveof, OFF.slaveof + NAMELEN),
    myip: readCString(buf, OFF.myip, NET_IP_STR_LEN),
    flags: buf.readUInt16BE(OFF.flags),
    state: buf[OFF.state]!,
    mflags: [buf[OFF.mflags]!, buf[OFF.mflags + 1]!, buf[OFF.mflags + 2]!],
  };
}

/**
 * Decodes one whole message (as FrameReader returns it). A message Redis would ignore gives ok:false with the
 * reason Redis logs; the link stays up.
 */
export function decodeMessage(buf: Buffer): DecodeResult {
  const totlen = buf.readUInt32BE(OFF.totlen);
  const type = buf.readUInt16BE(OFF.type);
  const typeName = MSG_TYPE_NAMES[type] ?? 'unknown';
  if (buf.readUInt16BE(OFF.ver) !== PROTO_VER) return { ok: false, reason: 'unsupported protocol version' };
  const header = decodeHeader(buf);
  let explen: number;
  let body: MessageBody;
  const p = OFF.data;
  const mismatch = (): DecodeResult => ({
    ok: false,
    reason: `Received invalid ${typeName} packet of length ${totlen} but expected length ${explen}`,
  });
  switch (type) {
    case MsgType.PING:
    case MsgType.PONG:
    case MsgType.MEET: {
      const count = buf.readUInt16BE(OFF.count);
      explen = HEADER_LEN + GOSSIP_LEN * count;
      if (explen > totlen) return mismatch();
      const gossip: GossipEntry[] = [];
      for (let i = 0; i < count; i++) {
        const g = p + i * GOSSIP_LEN;
        gossip.push({
          nodename: buf.toString('latin1', g, g + NAMELEN),
          pingSent: buf.readUInt32BE(g + 40),
          pongReceived: buf.readUInt32BE(g + 44),
          ip: readCString(buf, g + 48, NET_IP_STR_LEN),
          port: buf.readUInt16BE(g + 94),
          cport: buf.readUInt16BE(g + 96),
          flags: buf.readUInt16BE(g + 98),
          pport: buf.readUInt16BE(g + 100),
        });
      }
      const extensions: PingExtension[] = [];
      if (header.mflags[0] & MsgFlag0.EXT_DATA) {
        let remaining = buf.readUInt16BE(OFF.extensions);
        let cursor = explen;
        while (remaining-- > 0) {
          if (cursor + 8 > totlen) return { ok: false, reason: `Received invalid ${typeName} packet with extension data that exceeds total packet length (${totlen})` };
          // Redis keeps the 32-bit length in a uint16_t: only its low 16 bits count.
          const extlen = buf.readUInt32BE(cursor) & 0xffff;
          if (extlen % 8 !== 0) return { ok: false, reason: `Received a ${typeName} packet without proper padding (${extlen} bytes)` };
          if (totlen - explen < extlen) return { ok: false, reason: `Received invalid ${typeName} packet with extension data that exceeds total packet length (${totlen})` };
          explen += extlen;
          if (extlen >= 8) extensions.push({ type: buf.readUInt16BE(cursor + 4), data: Buffer.from(buf.subarray(cursor + 8, cursor + extlen)) });
          cursor += extlen;
        }
      }
      body = { kind: 'ping', gossip, extensions };
      break;
    }
    case MsgType.FAIL:
      explen = FAIL_LEN;
      if (totlen !== explen) return mismatch();
      body = { kind: 'fail', nodename: buf.toString('latin1', p, p + NAMELEN) };
      break;
    case MsgType.PUBLISH:
    case MsgType.PUBLISHSHARD: {
      if (totlen < HEADER_LEN + PUBLISH_FIXED) {
        explen = HEADER_LEN + PUBLISH_FIXED;
        return mismatch();
      }
      const chlen = buf.readUInt32BE(p);
      const msglen = buf.readUInt32BE(p + 4);
      // uint32 arithmetic, as in C.
      explen = (HEADER_LEN + PUBLISH_FIXED + chlen + msglen) >>> 0;
      if (totlen !== explen) return mismatch();
      body = {
        kind: 'publish',
        channel: Buffer.from(buf.subarray(p + 8, p + 8 + chlen)),
        message: Buffer.from(buf.subarray(p + 8 + chlen, p + 8 + chlen + msglen)),
      };
      break;
    }
    case MsgType.FAILOVER_AUTH_REQUEST:
    case MsgType.FAILOVER_AUTH_ACK:
    case MsgType.MFSTART:
      explen = HEADER_LEN;
      if (totlen !== explen) return mismatch();
      body = { kind: 'empty' };
      break;
    case MsgType.UPDATE:
      explen = UPDATE_LEN;
      if (totlen !== explen) return mismatch();
      body = {
        kind: 'update',
        configEpoch: buf.readBigUInt64BE(p),
        nodename: buf.toString('latin1', p + 8, p + 48),
        slots: new Uint8Array(buf.subarray(p + 48, p + 48 + SLOTS_BYTES)),
      };
      break;
    case MsgType.MODULE: {
      if (totlen < HEADER_LEN + MODULE_FIXED) {
        explen = HEADER_LEN + MODULE_FIXED;
        return mismatch();
      }
      const len = buf.readUInt32BE(p + 8);
      explen = (HEADER_LEN + MODULE_FIXED + len) >>> 0;
      if (totlen !== explen) return mismatch();
      body = { kind: 'module', moduleId: buf.readBigUInt64BE(p), moduleType: buf[p + 12]!, payload: Buffer.from(buf.subarray(p + 13, p + 13 + len)) };
      break;
    }
    default:
      explen = totlen;
      body = { kind: 'unknown', raw: Buffer.from(buf.subarray(p, totlen)) };
  }
  if (totlen !== explen) return mismatch();
  return { ok: true, message: { header, body } };
}
