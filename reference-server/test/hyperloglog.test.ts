/**
 * HyperLogLog against redis-server: seeded random PFADD/PFMERGE/PFCOUNT/PFDEBUG lines, with corruptions and
 * hll-sparse-max-bytes changes in between, give the same reply bytes and leave byte-identical values (GET); and what
 * reaches a replica (PFCOUNT's cache update, no-op PFADDs, TODENSE) is the same command for command.
 */
import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { ReplicaTap } from './util/replica-tap.js';
import { waitFor } from './fixtures/repl-kit.js';
import { useBothServers } from './util/servers.js';
import { seededRandom } from '../../harness/src/random/prng.js';

const PROPAGATION: string[][] = [
  ['PFADD', 'h'],
  ['PFADD', 'h'],
  ['PFADD', 'h', 'a', 'b'],
  ['PFADD', 'h', 'a', 'b'],
  ['PFCOUNT', 'h'],
  ['PFCOUNT', 'h'],
  ['PFCOUNT', 'h', 'missing'],
  ['PFMERGE', 'd', 'h', 'missing'],
  ['PFMERGE', 'd'],
  ['PFDEBUG', 'ENCODING', 'd'],
  ['PFDEBUG', 'TODENSE', 'd'],
  ['PFDEBUG', 'TODENSE', 'd'],
  ['PFADD', 'g', 'x'],
  ['PFDEBUG', 'GETREG', 'g'],
  ['PFDEBUG', 'GETREG', 'g'],
  ['SET', 'bad', 'HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00'],
  ['PFCOUNT', 'bad'],
  ['PFADD', 'bad', 'x'],
  ['SET', 'end', 'marker'],
];

async function observeStream(port: number): Promise<{ replies: string[]; stream: string[] }> {
  const tap = await ReplicaTap.open(port);
  // Compared with command names as the test writes them: the stream's case differs between the two servers.
  const frames = (): string[] => tap.frames().map((f) => f.toUpperCase());
  const c = await RespClient.connect(port);
  try {
    const replies: string[] = [];
    for (const argv of PROPAGATION) replies.push(String(await c.call(argv)));
    const marker = '*3\r\n$3\r\nSET\r\n$3\r\nEND\r\n$6\r\nMARKER\r\n';
    await waitFor('the end marker', () => frames().includes(marker) || undefined, 10_000, 10);
    return { replies, stream: frames() };
  } finally {
    c.close();
    tap.close();
  }
}

/** One random line over a few keys: mostly HLL commands, some corruptions, config changes and reads of the bytes. */
function randomLine(rand: () => number): string[] {
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const keys = ['h1', 'h2', 'h3', 'missing', 'list', 'str'];
  const hk = (): string => (rand() < 0.9 ? pick(keys.slice(0, 3)) : pick(keys));
  const elem = (): string => {
    const n = int(0, 20);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(rand() < 0.7 ? int(97, 122) : int(0, 255));
    return s;
  };
  switch (int(0, 13)) {
    case 0:
    case 1:
    case 2: {
      const argv = ['PFADD', hk()];
      const n = rand() < 0.1 ? int(100, 400) : int(0, 12);
      for (let i = 0; i < n; i++) argv.push(elem());
      return argv;
    }
    case 3:
      return ['PFCOUNT', hk()];
    case 4:
      return ['PFCOUNT', hk(), hk(), ...(rand() < 0.5 ? [hk()] : [])];
    case 5:
      return ['PFMERGE', hk(), ...Array.from({ length: int(0, 3) }, hk)];
    case 6:
      return ['PFDEBUG', pick(['ENCODING', 'DECODE', 'TODENSE', 'todense', 'nope']), hk()];
    case 7:
      return ['GET', hk()];
    case 8:
      return ['OBJECT', 'ENCODING', hk()];
    case 9:
      return ['CONFIG', 'SET', 'hll-sparse-max-bytes', String(pick([0, 20, 40, 100, 300, 3000]))];
    case 10:
      if (rand() < 0.8) return ['SETRANGE', hk(), String(int(0, 40)), String.fromCharCode(int(0, 255))];
      return ['APPEND', hk(), String.fromCharCode(int(0, 255))];
    case 11:
      return ['DEL', hk()];
    case 12:
      return ['PFDEBUG', 'GETREG', hk()];
    default:
      return ['SET', 'str', pick(['x', '12345678901234567', 'HYLL\x01', 'HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80'])];
  }
}

describe('hyperloglog vs redis-server', function () {
  this.timeout(60000);
  const servers = useBothServers();

  it('propagates the same commands to a replica', async () => {
    const want = await observeStream(servers.real.port);
    const got = await observeStream(servers.ref.port);
    expect(got.replies).to.deep.equal(want.replies);
    expect(got.stream).to.deep.equal(want.stream);
    // Sanity: the no-op lines (second PFADD h, cached PFCOUNT, ...) were really left out.
    expect(want.stream.length).to.be.lessThan(PROPAGATION.length - 5);
  });

  // Here, not in the differential script: it takes seconds on a loaded machine, past that runner's 3 s per reply.
  it('PFSELFTEST passes on both servers', async () => {
    for (const port of [servers.real.port, servers.ref.port]) {
      const c = await RespClient.connect(port);
      try {
        expect(await c.call(['PFSELFTEST'], 30000)).to.equal('+OK\r\n');
      } finally {
        c.close();
      }
    }
  });

  for (const seed of [1, 2, 3]) {
    it(`seeded random lines give the same bytes (seed ${seed})`, async () => {
      const a = await RespClient.connect(servers.real.port);
      const b = await RespClient.connect(servers.ref.port);
      try {
        for (const c of [a, b]) {
          await c.call(['FLUSHALL']);
          await c.call(['RPUSH', 'list', 'x']);
        }
        const rand = seededRandom(seed);
        for (let i = 0; i < 600; i++) {
          const argv = randomLine(rand);
          const [want, got] = await Promise.all([a.call(argv), b.call(argv)]);
          expect(got, `line ${i}: ${JSON.stringify(argv).slice(0, 200)}`).to.equal(want);
        }
      } finally {
        for (const c of [a, b]) {
          await c.call(['CONFIG', 'SET', 'hll-sparse-max-bytes', '3000']);
          c.close();
        }
      }
    });
  }
});
