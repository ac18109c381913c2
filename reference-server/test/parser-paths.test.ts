/**
 * The request parser takes a one-pass path for a multibulk that is wholly buffered and a byte-by-byte path
 * otherwise. Fed one byte at a time it only ever takes the second, so feeding the same random streams whole,
 * byte by byte and in random pieces must give the same commands and the same protocol error.
 */
import { expect } from 'chai';
import { ProtocolError, RequestParser } from '../resp/parser.js';
import { ReplyBuffer } from '../resp/writer.js';

/** Deterministic PRNG (mulberry32) so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['SET', 'GET', 'LPUSH', 'x', 'HSET', ''];

function randomArg(r: () => number): string {
  if (r() < 0.3) return NAMES[Math.floor(r() * NAMES.length)];
  const len = r() < 0.8 ? Math.floor(r() * 12) : Math.floor(r() * 80);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(r() < 0.1 ? Math.floor(r() * 256) : 97 + Math.floor(r() * 26));
  return s;
}

/** One frame: mostly valid multibulks (some with more args than the one-pass path takes), sometimes malformed. */
function randomFrame(r: () => number): string {
  const kind = r();
  if (kind < 0.05) return 'PING\r\n';
  const n = r() < 0.9 ? 1 + Math.floor(r() * 5) : 60 + Math.floor(r() * 10);
  const args: string[] = [];
  for (let i = 0; i < n; i++) args.push(randomArg(r));
  let f = `*${n}\r\n`;
  for (const a of args) f += `$${a.length}\r\n${a}\r\n`;
  if (kind < 0.93) return f;
  // A malformed variant: each is one of Redis's protocol errors (or an odd but valid form).
  const bad = [
    () => f.replace(/^\*\d+/, '*0'),
    () => f.replace(/^\*\d+/, '*-1'),
    () => f.replace(/^\*(\d+)/, '*0$1'),
    () => f.replace(/\$(\d+)/, '$0$1'),
    () => f.replace(/\$(\d+)/, '$+$1'),
    () => f.replace(/\$(\d+)/, '$-1'),
    () => f.replace(/\$(\d+)/, '#$1'),
    () => f.replace(/\$(\d+)/, '$1x'),
    () => f.replace(/^\*\d+/, '*99999999999999999999'),
    () => f.replace(/\$\d+/, '$9999999999'),
    () => f.replace(/\r\n\$/, '\r\r$'),
  ];
  return bad[Math.floor(r() * bad.length)]();
}

interface Outcome {
  commands: string[][];
  error: string | null;
}

/** shared: every piece is read into one buffer that is scribbled over after each read, as the server's shared read buffer is reused. */
function run(stream: Buffer, pieces: number[], maxBulkLen: number, shared = false): Outcome {
  const p = new RequestParser({ maxBulkLen, authRequired: false });
  const commands: string[][] = [];
  const readBuffer = Buffer.alloc(64);
  let at = 0;
  try {
    for (const size of pieces) {
      if (shared) {
        stream.copy(readBuffer, 0, at, at + size);
        p.feed(readBuffer.subarray(0, size));
      } else p.feed(stream.subarray(at, at + size));
      at += size;
      for (let a = p.next(); a !== null; a = p.next()) commands.push(a);
      if (shared) {
        p.release();
        readBuffer.fill(0x2a);
      }
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { commands, error: e.message };
  }
  return { commands, error: null };
}

describe('resp: parser paths agree', () => {
  it('gives the same commands and errors whole, byte by byte, in random pieces and through a reused read buffer (400 random streams)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      let text = '';
      const frames = 1 + Math.floor(r() * 30);
      for (let i = 0; i < frames; i++) text += randomFrame(r);
      const stream = Buffer.from(text, 'latin1');
      const maxBulkLen = r() < 0.2 ? 20 : 512 * 1024 * 1024;
      const bytes = run(stream, Array.from({ length: stream.length }, () => 1), maxBulkLen);
      const whole = run(stream, [stream.length], maxBulkLen);
      const sizes: number[] = [];
      for (let left = stream.length; left > 0;) {
        const s = Math.min(left, 1 + Math.floor(r() * 40));
        sizes.push(s);
        left -= s;
      }
      const pieces = run(stream, sizes, maxBulkLen);
      const sharedPieces = run(stream, sizes, maxBulkLen, true);
      expect(whole, `seed ${seed} whole`).to.deep.equal(bytes);
      expect(pieces, `seed ${seed} pieces`).to.deep.equal(bytes);
      expect(sharedPieces, `seed ${seed} pieces through a reused read buffer`).to.deep.equal(bytes);
    }
  });

  it('reuses a repeated argument string and still returns each command its own array', () => {
    const p = new RequestParser({ maxBulkLen: 1024, authRequired: false });
    p.feed(Buffer.from('*3\r\n$5\r\nLPUSH\r\n$6\r\nmylist\r\n$3\r\nxxx\r\n*3\r\n$5\r\nLPUSH\r\n$6\r\nmylist\r\n$3\r\nyyy\r\n', 'latin1'));
    const a = p.next() as string[];
    const b = p.next() as string[];
    expect(a).to.deep.equal(['LPUSH', 'mylist', 'xxx']);
    expect(b).to.deep.equal(['LPUSH', 'mylist', 'yyy']);
    expect(a).to.not.equal(b);
  });
});

describe('resp: reply buffer bytes', () => {
  it('encodes integers at the digit-count edges and outside the fast range exactly as String() does', () => {
    const values = [0, -0, 1, 9, 10, 99, 100, 999999999, 1000000000, 2147483647, 2147483648, -1, -2147483648, 9007199254740991, 1.5, NaN];
    const r = new ReplyBuffer();
    let want = '';
    for (const v of values) {
      r.integer(v);
      want += ':' + String(v) + '\r\n';
    }
    r.integer(-9223372036854775808n);
    want += ':-9223372036854775808\r\n';
    expect(r.out).to.equal(want);
  });

  it('grows past its first size, keeps latin1 bytes, truncates and takes', () => {
    const r = new ReplyBuffer();
    const big = 'a\xff\x00'.repeat(5000);
    r.bulk('x');
    const mark = r.len;
    r.bulk(big);
    r.arrayHeader(2);
    expect(r.out).to.equal(`$1\r\nx\r\n$${big.length}\r\n${big}\r\n*2\r\n`);
    r.truncate(mark);
    expect(r.out).to.equal('$1\r\nx\r\n');
    const taken = r.take();
    expect(taken.toString('latin1')).to.equal('$1\r\nx\r\n');
    expect(r.len).to.equal(0);
    r.released(true);
    r.ok();
    // A released buffer may still be queued in a socket: new replies must not overwrite it.
    expect(taken.toString('latin1')).to.equal('$1\r\nx\r\n');
    expect(r.out).to.equal('+OK\r\n');
  });
});
