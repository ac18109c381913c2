import { expect } from 'chai';
import { RequestParser, ProtocolError } from '../resp/parser.js';
import { splitArgs, reprString } from '../resp/splitargs.js';
import { ReplyBuffer, formatDouble17g } from '../resp/writer.js';
import { globMatch } from '../server/glob.js';

function parser(maxBulkLen = 512 * 1024 * 1024, authRequired = false): RequestParser {
  return new RequestParser({ maxBulkLen, authRequired });
}

function all(p: RequestParser): string[][] {
  const out: string[][] = [];
  for (let a = p.next(); a !== null; a = p.next()) out.push(a);
  return out;
}

function errorOf(input: string, opts: { maxBulkLen?: number; auth?: boolean } = {}): string {
  const p = parser(opts.maxBulkLen, opts.auth);
  p.feed(Buffer.from(input, 'latin1'));
  try {
    all(p);
  } catch (e) {
    expect(e).to.be.instanceOf(ProtocolError);
    return (e as Error).message;
  }
  return 'no error';
}

describe('resp: request parser', () => {
  it('parses multibulk and inline commands, binary-safe', () => {
    const p = parser();
    p.feed(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\x00\xff\r\nPING\r\nECHO "a b"\n', 'latin1'));
    expect(all(p)).to.deep.equal([['SET', 'k', 'a\x00\xff'], ['PING'], ['ECHO', 'a b']]);
  });

  it('waits for a whole frame, byte by byte', () => {
    const p = parser();
    const input = '*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n';
    const got: string[][] = [];
    for (const ch of Buffer.from(input)) {
      p.feed(Buffer.from([ch]));
      got.push(...all(p));
    }
    expect(got).to.deep.equal([['ECHO', 'hello world']]);
    expect(p.buffered).to.equal(0);
  });

  it('assembles a large bulk split over many chunks', () => {
    const p = parser();
    const big = 'x'.repeat(300000);
    const input = Buffer.from(`*2\r\n$4\r\nECHO\r\n$${big.length}\r\n${big}\r\n`);
    for (let i = 0; i < input.length; i += 1000) {
      p.feed(input.subarray(i, i + 1000));
      if (i + 1000 < input.length) expect(p.next()).to.equal(null);
    }
    expect(all(p)).to.deep.equal([['ECHO', big]]);
  });

  it('skips empty requests (*0, *-1, blank inline lines)', () => {
    const p = parser();
    p.feed(Buffer.from('*0\r\n*-1\r\n\r\nPING\r\n'));
    expect(all(p).filter((a) => a.length > 0)).to.deep.equal([['PING']]);
  });

  it("gives Redis 7.0's protocol errors", () => {
    expect(errorOf('*abc\r\n')).to.equal('Protocol error: invalid multibulk length');
    expect(errorOf('*01\r\n')).to.equal('Protocol error: invalid multibulk length');
    expect(errorOf('*3000000000\r\n')).to.equal('Protocol error: invalid multibulk length');
    expect(errorOf('*1\r\n$-1\r\n')).to.equal('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$abc\r\n')).to.equal('Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n:1\r\n')).to.equal("Protocol error: expected '$', got ':'");
    expect(errorOf('*1\r\n$2000000\r\n', { maxBulkLen: 1024 * 1024 })).to.equal('Protocol error: invalid bulk length');
    expect(errorOf('ECHO "abc\r\n')).to.equal('Protocol error: unbalanced quotes in request');
    expect(errorOf('x'.repeat(70000))).to.equal('Protocol error: too big inline request');
    expect(errorOf('*' + '1'.repeat(70000))).to.equal('Protocol error: too big mbulk count string');
    expect(errorOf('*1\r\n$' + '1'.repeat(70000))).to.equal('Protocol error: too big bulk count string');
    expect(errorOf('*11\r\n', { auth: true })).to.equal('Protocol error: unauthenticated multibulk length');
    expect(errorOf('*1\r\n$16385\r\n', { auth: true })).to.equal('Protocol error: unauthenticated bulk length');
    expect(errorOf('*1\r\n$4\r\nPING\r\n')).to.equal('no error');
  });
});

describe('resp: sdssplitargs', () => {
  it('splits words, quotes and escapes like Redis', () => {
    expect(splitArgs('  set  k   v ')).to.deep.equal(['set', 'k', 'v']);
    expect(splitArgs('"a b" \'c d\'')).to.deep.equal(['a b', 'c d']);
    expect(splitArgs('"\\x41\\n\\t\\\\\\"z"')).to.deep.equal(['A\n\t\\"z']);
    expect(splitArgs("'it\\'s'")).to.deep.equal(["it's"]);
    expect(splitArgs('a"b c"')).to.deep.equal(['ab c']);
    expect(splitArgs('""')).to.deep.equal(['']);
    expect(splitArgs('')).to.deep.equal([]);
    expect(splitArgs('"abc')).to.equal(null);
    expect(splitArgs('"a"b')).to.equal(null);
    expect(splitArgs("'a'b")).to.equal(null);
  });

  it('reprString quotes like sdscatrepr and round-trips through splitArgs', () => {
    const s = 'a "b"\n\x00\xff\\';
    expect(reprString(s)).to.equal('"a \\"b\\"\\n\\x00\\xff\\\\"');
    expect(splitArgs(reprString(s))).to.deep.equal([s]);
  });
});

describe('resp: reply writer', () => {
  it('formats doubles like printf %.17g', () => {
    const cases: [number, string][] = [
      [1.5, '1.5'], [0.1, '0.10000000000000001'], [3, '3'], [-2.25, '-2.25'], [1e21, '1e+21'], [1.5e-7, '1.4999999999999999e-07'],
      [0.0001, '0.0001'], [123456789012345680, '1.2345678901234568e+17'], [Infinity, 'inf'], [-Infinity, '-inf'], [0, '0'],
      [1e16, '10000000000000000'], [0.00001, '1.0000000000000001e-05'],
    ];
    for (const [d, s] of cases) expect(formatDouble17g(d), String(d)).to.equal(s);
  });

  it('writes RESP2 and RESP3 shapes', () => {
    const r = new ReplyBuffer();
    r.bulk(null);
    r.nullArray();
    r.mapHeader(2);
    r.double(1.5);
    r.bool(true);
    r.verbatim('hi');
    r.bulkArray(['a', null]);
    expect(r.out).to.equal('$-1\r\n*-1\r\n*4\r\n$3\r\n1.5\r\n:1\r\n$2\r\nhi\r\n*2\r\n$1\r\na\r\n$-1\r\n');
    const r3 = new ReplyBuffer();
    r3.resp = 3;
    r3.bulk(null);
    r3.mapHeader(2);
    r3.double(1.5);
    r3.bool(false);
    r3.verbatim('hi');
    r3.pushHeader(3);
    r3.setHeader(1);
    expect(r3.out).to.equal('_\r\n%2\r\n,1.5\r\n#f\r\n=6\r\ntxt:hi\r\n>3\r\n~1\r\n');
  });

  it('turns newlines of error text into spaces and reports errors', () => {
    const r = new ReplyBuffer();
    const seen: string[] = [];
    r.onError = (m) => seen.push(m);
    r.error('ERR bad\r\nthing');
    expect(r.out).to.equal('-ERR bad  thing\r\n');
    expect(seen).to.have.length(1);
  });
});

describe('glob', () => {
  it('matches like stringmatchlen', () => {
    expect(globMatch('h?llo', 'hello')).to.equal(true);
    expect(globMatch('h*llo', 'heeeello')).to.equal(true);
    expect(globMatch('h[ae]llo', 'hallo')).to.equal(true);
    expect(globMatch('h[^e]llo', 'hello')).to.equal(false);
    expect(globMatch('h[a-b]llo', 'hbllo')).to.equal(true);
    expect(globMatch('h\\*llo', 'h*llo')).to.equal(true);
    expect(globMatch('h\\*llo', 'hello')).to.equal(false);
    // stringmatchlen never matches an empty string (KEYS * and SCAN special-case "*"; PSUBSCRIBE * misses PUBLISH "").
    expect(globMatch('*', '')).to.equal(false);
    expect(globMatch('a*', 'a')).to.equal(true);
    expect(globMatch('a*b', 'a')).to.equal(false);
    // Redis's skipLongerMatches: without it this pattern backtracks exponentially (its keyspace suite hung here).
    expect(globMatch('a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(40))).to.equal(false);
    expect(globMatch('a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(40) + 'b')).to.equal(true);
    expect(globMatch('a*', 'b')).to.equal(false);
    expect(globMatch('SLOW*', 'slowlog-max-len', true)).to.equal(true);
  });
});
