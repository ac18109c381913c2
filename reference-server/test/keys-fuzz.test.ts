/**
 * Randomised differential test: a seeded stream of string/key/hash commands over a tiny keyspace runs against
 * redis-server and the reference server; every reply must match byte for byte (order-free where Redis's hash
 * table order shows).
 */
import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { useBothServers } from './util/servers.js';
import { seededRandom } from '../../harness/src/random/prng.js';

const FUTURE = 4102444800;
const VALUES = [
  '0', '1', '-1', '42', '10000', '9999', '007', ' 5', '1.5', '-0.25', '3e2', 'abc', '', 'a\x00b', '\xff\xfe',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', 'inf', 'nan', 'x'.repeat(50), 'y'.repeat(70),
];
const ORDER_FREE = new Set(['keys', 'hkeys', 'hvals', 'hgetall', 'scan']);

function generator(seed: number): () => string[] {
  const r = seededRandom(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const key = (): string => pick(['k0', 'k1', 'k2', 'k3', 'h0', 'h1', 'n0']);
  const val = (): string => pick(VALUES);
  const field = (): string => pick(['f0', 'f1', 'f2', 'f3', 'ff'.repeat(40)]);
  const int = (): string => pick(['0', '1', '-1', '5', '100', '-100', '9223372036854775807', 'x', '1.5']);
  // A hash that grows past hash-max-listpack-entries and converts to a hashtable.
  const bigField = (): string => `b${Math.floor(r() * 300)}`;
  const bigSet = (): string[] => {
    const out = ['HSET', 'hb'];
    for (let i = 0; i < 20; i++) out.push(bigField(), val());
    return out;
  };
  const gens: (() => string[])[] = [
    bigSet,
    () => ['HDEL', 'hb', bigField(), bigField(), bigField()],
    () => ['HGET', 'hb', bigField()],
    () => ['HLEN', 'hb'],
    () => ['HINCRBY', 'hb', bigField(), int()],
    () => ['OBJECT', 'ENCODING', 'hb'],
    () => ['HGETALL', 'hb'],
    () => ['SET', key(), val()],
    () => ['SET', key(), val(), pick(['NX', 'XX', 'GET', 'KEEPTTL'])],
    () => ['SET', key(), val(), 'EXAT', String(FUTURE + Math.floor(r() * 100))],
    () => ['SET', key(), val(), 'PXAT', '1'],
    () => ['GET', key()],
    () => ['GETDEL', key()],
    () => ['GETEX', key(), pick(['PERSIST', 'EXAT', 'PXAT'])].concat(r() < 0.5 ? [String(FUTURE)] : ['1']),
    () => ['GETSET', key(), val()],
    () => ['MSET', key(), val(), key(), val()],
    () => ['MSETNX', key(), val(), key(), val()],
    () => ['MGET', key(), key(), key()],
    () => ['APPEND', key(), val()],
    () => ['STRLEN', key()],
    () => ['INCR', key()],
    () => ['DECRBY', key(), int()],
    () => ['INCRBY', key(), int()],
    () => ['INCRBYFLOAT', key(), pick(['0.1', '-1.5', '1e3', '3', 'abc', '-0.1'])],
    () => ['GETRANGE', key(), int(), int()],
    () => ['SETRANGE', key(), pick(['0', '3', '10', '-1']), val()],
    () => ['LCS', key(), key()],
    () => ['DEL', key(), key()],
    () => ['EXISTS', key(), key()],
    () => ['TYPE', key()],
    () => ['EXPIREAT', key(), String(FUTURE + Math.floor(r() * 100)), ...(r() < 0.5 ? [pick(['NX', 'XX', 'GT', 'LT'])] : [])],
    () => ['PEXPIREAT', key(), '1'],
    () => ['EXPIRETIME', key()],
    () => ['PERSIST', key()],
    () => ['RENAME', key(), key()],
    () => ['RENAMENX', key(), key()],
    () => ['COPY', key(), key(), ...(r() < 0.5 ? ['REPLACE'] : [])],
    () => ['MOVE', key(), '1'],
    () => ['KEYS', pick(['*', 'k*', 'h?', '[hn]0'])],
    () => ['SCAN', '0', 'COUNT', '1000', ...(r() < 0.5 ? ['TYPE', pick(['string', 'hash'])] : [])],
    () => ['OBJECT', 'ENCODING', key()],
    () => ['HSET', key(), field(), val(), field(), val()],
    () => ['HSETNX', key(), field(), val()],
    () => ['HGET', key(), field()],
    () => ['HMGET', key(), field(), field()],
    () => ['HDEL', key(), field(), field()],
    () => ['HLEN', key()],
    () => ['HEXISTS', key(), field()],
    () => ['HSTRLEN', key(), field()],
    () => ['HKEYS', key()],
    () => ['HVALS', key()],
    () => ['HGETALL', key()],
    () => ['HINCRBY', key(), field(), int()],
    () => ['HINCRBYFLOAT', key(), field(), pick(['0.5', '-2', '1e2', 'x'])],
    () => ['HRANDFIELD', key(), '0'],
  ];
  return () => pick(gens)();
}

/** Sorts an aggregate reply's lines (a multiset view) so hash-table order does not matter, even nested (SCAN). */
function orderFree(raw: string): string {
  return raw.split('\r\n').sort().join('|');
}

describe('keys fuzz: random string/key/hash commands vs redis-server', function () {
  this.timeout(60_000);
  const servers = useBothServers();
  const clients: RespClient[] = [];
  after(() => {
    for (const c of clients) c.close();
  });

  // FUZZ_SEEDS=4,5,6... explores more streams (300 seeds pass); the default keeps the suite fast.
  const seeds = (process.env.FUZZ_SEEDS ?? '1,2,3').split(',').map(Number);
  for (const [seed, resp] of seeds.flatMap((s) => [[s, 2], [s, 3]] as const)) {
    it(`seed ${seed}, RESP${resp}: 1500 commands give identical replies`, async () => {
      const a = await RespClient.connect(servers.real.port);
      const b = await RespClient.connect(servers.ref.port);
      clients.push(a, b);
      if (resp === 3) {
        // HELLO's reply carries server identity, so only its type is compared.
        expect((await a.call(['HELLO', '3']))?.[0]).to.equal('%');
        expect((await b.call(['HELLO', '3']))?.[0]).to.equal('%');
      }
      expect(await a.call(['FLUSHALL'])).to.equal('+OK\r\n');
      expect(await b.call(['FLUSHALL'])).to.equal('+OK\r\n');
      const next = generator(seed);
      const history: string[] = [];
      for (let batch = 0; batch < 15; batch++) {
        const cmds: string[][] = [];
        for (let i = 0; i < 100; i++) cmds.push(next());
        for (const c of cmds) {
          a.send(c);
          b.send(c);
        }
        for (const c of cmds) {
          const fa = await a.read();
          const fb = await b.read();
          if (fa === null || fb === null) throw new Error(`no reply to ${c.join(' ')}`);
          history.push(JSON.stringify(c));
          const free = ORDER_FREE.has(c[0].toLowerCase());
          const ra = free ? orderFree(fa.raw) : fa.raw;
          const rb = free ? orderFree(fb.raw) : fb.raw;
          if (ra !== rb) {
            expect.fail(`after ${history.slice(-8).join('\n  ')}\nredis: ${JSON.stringify(fa.raw)}\nref:   ${JSON.stringify(fb.raw)}`);
          }
        }
      }
    });
  }
});
