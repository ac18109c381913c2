/** RDB codec and DUMP payloads against Debian's redis-server 7.0: byte-identical DUMPs, files loaded both ways. */
import { expect } from 'chai';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { crc64, crc64Bytes } from '../persistence/crc64.js';
import { lzfCompress, lzfDecompress } from '../persistence/lzf.js';
import { decodeListpack, decodeZiplist, ListpackBuilder } from '../persistence/compact.js';
import { RdbEncoder, encodeKeyValue, loadRdb, writeRdb, type LoadedKey, type RdbSource } from '../persistence/codec.js';
import { createDumpPayload, parseDumpPayload } from '../persistence/dump.js';
import { createList } from '../store/list.js';
import { createZSet } from '../store/zset.js';
import type { Value } from '../store/types.js';
import { client, populate, removeDir, snapshot, startReal, startRef, tempDir, type Node } from './fixtures/repl-kit.js';

/** A value in comparable form (sets sorted, zsets as pairs). */
function plain(v: Value): unknown {
  if (typeof v === 'string') return v;
  if (v instanceof Map) return [...v.entries()].sort();
  if (v instanceof Set) return [...v].sort();
  if (v.kind === 'list') return [...v];
  return [...v.entries()];
}

/** A ziplist blob as Redis < 7.0 wrote them (1-byte prevlens, short strings, int8/int16/immediate ints). */
function ziplist(items: (string | number)[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    let enc: Buffer;
    if (typeof it === 'number' && it >= 0 && it <= 12) enc = Buffer.from([0xf1 + it]);
    else if (typeof it === 'number' && it >= -128 && it <= 127) enc = Buffer.from([0xfe, it & 0xff]);
    else if (typeof it === 'number') { enc = Buffer.alloc(3); enc[0] = 0xc0; enc.writeInt16LE(it, 1); }
    else enc = Buffer.concat([Buffer.from([it.length]), Buffer.from(it, 'latin1')]);
    const e = Buffer.concat([Buffer.from([prev]), enc]);
    entries.push(e);
    prev = e.length;
  }
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(10);
  head.writeUInt32LE(10 + body.length + 1, 0);
  head.writeUInt32LE(10 + body.length - prev, 4);
  head.writeUInt16LE(items.length, 8);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}

function rawString(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from([b.length < 64 ? b.length : 0x40 | (b.length >> 8)]), ...(b.length < 64 ? [] : [Buffer.from([b.length & 0xff])]), b]);
}

describe('rdb: codec units', () => {
  it('CRC64 is Jones as Redis computes it', () => {
    expect(crc64Bytes(crc64(Buffer.from('123456789'))).readBigUInt64LE(0).toString(16)).to.equal('e9c6d914c4b8d9ca');
  });

  it('LZF round-trips compressible data and refuses what would not shrink', () => {
    const text = Buffer.from('hello hello hello world, '.repeat(40) + 'tail');
    const c = lzfCompress(text, text.length - 4);
    expect(c).to.not.equal(undefined);
    expect(c!.length).to.be.lessThan(text.length / 3);
    expect(lzfDecompress(c!, text.length).equals(text)).to.equal(true);
    const noise = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff));
    expect(lzfCompress(noise, noise.length - 4)).to.equal(undefined);
  });

  it('listpacks encode integers compactly and decode back', () => {
    const items = ['0', '127', '128', '-4096', '4095', '32767', '-8388608', '2147483647', '9223372036854775807', '-0', '01', 'abc', 'x'.repeat(100), 'y'.repeat(5000)];
    const lp = new ListpackBuilder();
    for (const i of items) lp.append(i);
    expect(decodeListpack(lp.finish())).to.deep.equal(items);
  });

  it('loads ziplist encodings of older RDB files (list, hash, zset)', () => {
    const parts: Buffer[] = [Buffer.from('REDIS0009', 'latin1'), Buffer.from([0xfe, 0x00])];
    parts.push(Buffer.from([10]), rawString(Buffer.from('zl')), rawString(ziplist(['a', 5, -100, 3000, 'bb'])));
    parts.push(Buffer.from([13]), rawString(Buffer.from('zh')), rawString(ziplist(['f', 'v', 'n', 7])));
    parts.push(Buffer.from([12]), rawString(Buffer.from('zz')), rawString(ziplist(['m1', 1, 'm2', '2.5'])));
    parts.push(Buffer.from([0xff]));
    const body = Buffer.concat(parts);
    const file = Buffer.concat([body, Buffer.alloc(8)]);
    const got: LoadedKey[] = [];
    loadRdb(file, (k) => got.push(k));
    expect(got.map((k) => [k.key, plain(k.value)])).to.deep.equal([
      ['zl', ['a', '5', '-100', '3000', 'bb']],
      ['zh', [['f', 'v'], ['n', '7']]],
      ['zz', [['m1', 1], ['m2', 2.5]]],
    ]);
    expect(decodeZiplist(ziplist([12, 0, 'x']))).to.deep.equal(['12', '0', 'x']);
  });

  it('encodes a file piece by piece exactly as in one go, collections captured before they change', () => {
    const hash = new Map([['f', 'v'], ['n', '1']]);
    const list = createList(['a', 'b', 'c']);
    const keys: string[] = [], values: Array<Value | Buffer> = [], expireAt: Array<number | undefined> = [];
    for (let i = 0; i < 3000; i++) {
      keys.push(`k${i}`);
      values.push(i % 3 === 0 ? String(i) : `value-${'x'.repeat(i % 40)}-${i}`);
      expireAt.push(i % 7 === 0 ? 4102444800000 + i : undefined);
    }
    keys.push('hash', 'list');
    values.push(encodeKeyValue('hash', hash), encodeKeyValue('list', list));
    expireAt.push(undefined, undefined);
    const src = (): RdbSource => ({ aux: [['redis-ver', '7.0.15'], ['ctime', 1]], dbs: [
      { index: 0, expires: 429, keys, values, expireAt },
      { index: 3, expires: 0, keys: ['z'], values: [createZSet()] },
    ] });
    const whole = writeRdb(src());
    const enc = new RdbEncoder(src());
    const pieces: Buffer[] = [];
    for (let p = enc.next(500); p !== null; p = enc.next(500)) pieces.push(p);
    expect(pieces.length).to.be.greaterThan(50);
    expect(Buffer.concat(pieces).equals(whole)).to.equal(true);
    // Changed after capture: the file still holds the captured state.
    hash.set('late', 'x');
    list.pushTail('d');
    const got = new Map<string, LoadedKey>();
    loadRdb(whole, (k) => { got.set(`${k.db}:${k.key}`, k); });
    expect(got.size).to.equal(3003);
    expect([...(got.get('0:hash')!.value as Map<string, string>)]).to.deep.equal([['f', 'v'], ['n', '1']]);
    expect([...(got.get('0:list')!.value as Iterable<string>)]).to.deep.equal(['a', 'b', 'c']);
    expect(got.get('0:k7')!.expireMs).to.equal(4102444800007);
    expect(got.get('0:k1')!.value).to.equal('value-x-1');
    expect(got.has('3:z')).to.equal(true);
  });

  it('refuses bad payloads with Redis errors', () => {
    const p = createDumpPayload('hello');
    const flipped = p.slice(0, 2) + String.fromCharCode(p.charCodeAt(2) ^ 1) + p.slice(3);
    expect(() => parseDumpPayload(flipped)).to.throw('DUMP payload version or checksum are wrong');
    expect(() => parseDumpPayload('short')).to.throw('DUMP payload version or checksum are wrong');
    const body = Buffer.from([0x00, 0x05, 0x61, 0x0a, 0x00]);
    const bad = Buffer.concat([body, crc64Bytes(crc64(body))]).toString('latin1');
    expect(() => parseDumpPayload(bad)).to.throw('Bad data format');
  });
});

describe('rdb: against redis-server 7.0', function () {
  this.timeout(60000);
  const nodes: Node[] = [];
  const clients: Redis[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const c of clients) c.disconnect();
    for (const n of nodes.reverse()) await n.stop();
    for (const d of dirs) removeDir(d);
  });

  let real: Redis;
  before(async () => {
    const n = await startReal(16420);
    nodes.push(n);
    dirs.push(n.dir);
    real = client(16420);
    clients.push(real);
    await populate(real, 'k');
  });

  it('DUMP payloads are byte-identical for strings, lists, small hashes, zsets and intsets', async () => {
    const list = createList(['a', '1', '-5', 'x'.repeat(70)]);
    const z = createZSet();
    z.add('a', 1); z.add('b', 1.5); z.add('c', -2.25); z.add('d', Infinity);
    const bigZ = createZSet();
    for (let i = 0; i < 200; i++) bigZ.add(`m${i}`, i / 3);
    const big: string[] = [];
    for (let i = 0; i < 3000; i++) big.push(`item-${i}-${'y'.repeat(i % 50)}`);
    const cases: Array<[string, Value]> = [
      ['k:str', 'hello'], ['k:int', '12345'], ['k:bigint', '9007199254740993'], ['k:neg', '-7'], ['k:lzf', 'abc'.repeat(200)],
      ['k:list', list], ['k:biglist', createList(big)], ['k:hash', new Map([['f1', 'v1'], ['n', '42']])],
      ['k:zset', z], ['k:bigzset', bigZ], ['k:intset', new Set(['1', '2', '-3', '70000', '5000000000'])],
    ];
    for (const [key, value] of cases) {
      const theirs = (await real.dumpBuffer(key))!.toString('hex');
      expect(Buffer.from(createDumpPayload(value), 'latin1').toString('hex'), key).to.equal(theirs);
    }
  });

  it('parses the DUMP of every key redis-server holds', async () => {
    const keys = await real.keys('k:*');
    expect(keys.length).to.be.greaterThan(15);
    for (const key of keys) {
      const v = parseDumpPayload((await real.dumpBuffer(key))!.toString('latin1'));
      const t = await real.type(key);
      let expected: unknown;
      if (t === 'string') expected = (await real.getBuffer(key))!.toString('latin1');
      else if (t === 'list') expected = (await real.lrangeBuffer(key, 0, -1)).map((b) => b.toString('latin1'));
      else if (t === 'hash') expected = Object.entries(await real.hgetall(key)).sort();
      else if (t === 'set') expected = (await real.smembers(key)).sort();
      else {
        const flat = ((await real.call('ZRANGE', key, '0', '-1', 'WITHSCORES')) as unknown[]).flat().map(String);
        const pairs: [string, number][] = [];
        for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1] === 'inf' ? Infinity : flat[i + 1])]);
        expected = pairs;
      }
      expect(plain(v), key).to.deep.equal(expected);
    }
  });

  it('the reference server loads a file redis-server saved (every type, expiry, several dbs)', async () => {
    await real.save();
    const dir = tempDir('ref-load');
    dirs.push(dir);
    copyFileSync(join(nodes[0]!.dir, 'dump.rdb'), join(dir, 'dump.rdb'));
    const ref = await startRef(16421, [], dir);
    nodes.push(ref);
    const rc = client(16421);
    clients.push(rc);
    expect(await snapshot(rc)).to.deep.equal(await snapshot(real));
    expect(await rc.ttl('k:ttl')).to.be.within(900, 1000);
  });

  it('redis-server loads a file the reference server saved', async () => {
    const dir = tempDir('ref-save');
    dirs.push(dir);
    const ref = await startRef(16422, [], dir);
    nodes.push(ref);
    const rc = client(16422);
    clients.push(rc);
    await populate(rc, 'w');
    await rc.pexpireat('w:str', Date.now() + 500000);
    expect(await rc.save()).to.equal('OK');
    expect(readFileSync(join(dir, 'dump.rdb')).subarray(0, 9).toString()).to.equal('REDIS0010');
    const realDir = tempDir('real-load');
    dirs.push(realDir);
    mkdirSync(realDir, { recursive: true });
    copyFileSync(join(dir, 'dump.rdb'), join(realDir, 'dump.rdb'));
    const n = await startReal(16423, [], realDir);
    nodes.push(n);
    const loaded = client(16423);
    clients.push(loaded);
    expect(await snapshot(loaded)).to.deep.equal(await snapshot(rc));
    expect(await loaded.pttl('w:str')).to.be.within(400000, 500000);
    expect(await loaded.call('OBJECT', 'ENCODING', 'w:hash')).to.equal('listpack');
    expect(await loaded.call('OBJECT', 'ENCODING', 'w:intset')).to.equal('intset');
    expect(await loaded.call('OBJECT', 'ENCODING', 'w:bigzset')).to.equal('skiplist');
  });
});
