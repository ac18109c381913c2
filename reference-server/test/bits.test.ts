/**
 * Bit commands against redis-server: what reaches a replica (and rdb_changes_since_last_save) is the same, command for
 * command, and seeded random bit command lines (valid and not) get the same bytes back, with the same keyspace hit counts.
 */
import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { ReplicaTap } from './util/replica-tap.js';
import { waitFor } from './fixtures/repl-kit.js';
import { useBothServers } from './util/servers.js';
import { seededRandom } from '../../harness/src/random/prng.js';


/** Commands whose propagation (or its absence) is the point: no-op writes, grown keys, failed overflows, errors. */
const SCRIPT: string[][] = [
  ['SETBIT', 'k', '0', '0'],
  ['SETBIT', 'k', '0', '0'],
  ['SETBIT', 'k', '0', '1'],
  ['SETBIT', 'k', '0', '1'],
  ['SETBIT', 'k', '100', '0'],
  ['SETBIT', 'k', '-1', '1'],
  ['SETBIT', 'k', '0', '2'],
  ['GETBIT', 'k', '0'],
  ['BITCOUNT', 'k'],
  ['BITPOS', 'k', '1'],
  ['RPUSH', 'list', 'a'],
  ['SETBIT', 'list', '0', '1'],
  ['BITOP', 'AND', 'dest', 'missing'],
  ['SET', 'dest', 'x'],
  ['BITOP', 'AND', 'dest', 'missing'],
  ['BITOP', 'OR', 'dest2', 'k'],
  ['BITOP', 'NOT', 'dest2', 'k'],
  ['BITOP', 'XOR', 'dest2', 'k', 'list'],
  ['BITFIELD', 'bf', 'SET', 'u8', '0', '1'],
  ['BITFIELD', 'bf', 'SET', 'u8', '0', '1'],
  ['BITFIELD', 'bf', 'GET', 'u8', '0'],
  ['BITFIELD', 'bf', 'INCRBY', 'u8', '0', '1', 'INCRBY', 'u8', '8', '1', 'INCRBY', 'u8', '16', '0'],
  ['BITFIELD', 'bf', 'INCRBY', 'u8', '0', '0'],
  ['BITFIELD', 'bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '300'],
  ['BITFIELD', 'fresh', 'OVERFLOW', 'FAIL', 'SET', 'i8', '0', '1000'],
  ['BITFIELD', 'bf', 'SET', 'u8', '64', '0'],
  ['BITFIELD', 'bf', 'SET', 'u64', '0', '1'],
  ['BITFIELD_RO', 'bf', 'GET', 'u8', '0'],
  ['MULTI'],
  ['SETBIT', 'm', '1', '1'],
  ['SETBIT', 'm', '1', '1'],
  ['BITFIELD', 'm', 'SET', 'u4', '0', '15'],
  ['EXEC'],
  ['MULTI'],
  ['SETBIT', 'k', '0', '1'],
  ['GETBIT', 'k', '0'],
  ['EXEC'],
  ['SELECT', '3'],
  ['SETBIT', 'k3', '7', '1'],
  ['SET', 'end', 'marker'],
];

interface Observed {
  replies: string[];
  stream: string[];
  dirty: number;
}

async function dirty(c: RespClient): Promise<number> {
  const r = await c.call(['INFO', 'persistence']);
  const m = /rdb_changes_since_last_save:(\d+)/.exec(String(r));
  if (!m) throw new Error(`no rdb_changes_since_last_save in ${String(r)}`);
  return Number(m[1]);
}

async function observe(port: number): Promise<Observed> {
  const tap = await ReplicaTap.open(port);
  const c = await RespClient.connect(port);
  try {
    const before = await dirty(c);
    const replies: string[] = [];
    for (const argv of SCRIPT) replies.push(String(await c.call(argv)));
    const marker = '*3\r\n$3\r\nSET\r\n$3\r\nend\r\n$6\r\nmarker\r\n';
    await waitFor('the end marker in the stream', () => tap.frames().some((f) => f.toUpperCase() === marker.toUpperCase()) || undefined, 10_000, 10);
    await c.call(['SELECT', '0']);
    return { replies, stream: tap.frames(), dirty: (await dirty(c)) - before };
  } finally {
    c.close();
    tap.close();
  }
}

describe('bit commands: propagation vs redis-server', function () {
  this.timeout(30000);
  const servers = useBothServers();

  it('sends replicas the same commands and counts the same dirty changes', async () => {
    const [want, got] = await Promise.all([observe(servers.real.port), observe(servers.ref.port)]);
    expect(got.replies).to.deep.equal(want.replies);
    // Command names are compared case-insensitively: the stream keeps the client's spelling in both servers.
    const norm = (s: string[]): string[] => s.map((f) => f.toUpperCase());
    expect(norm(got.stream)).to.deep.equal(norm(want.stream));
    // Sanity: no-op writes really were left out (the script has 11 of them).
    expect(want.stream.length).to.be.lessThan(SCRIPT.length - 10);
    expect(got.dirty).to.equal(want.dirty);
  });
});

/** One random bit-command line over a few keys; about a third of the arguments are malformed on purpose. */
function randomBitCommand(rand: () => number): string[] {
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const keys = ['a', 'b', 'c', 'l'];
  const key = pick(keys);
  const num = (): string =>
    String(
      pick([
        () => int(-20, 20),
        () => int(-300, 300),
        () => int(-3000, 3000),
        () => pick(['9223372036854775807', '-9223372036854775808', 'x', '', '1.5', '#3', '#-1', '01', '4294967296']),
      ])(),
    );
  const fieldType = (): string => pick(['i', 'u', 'I', 'x']) + String(pick([int(0, 65), 8, 16, 63, 64, '']));
  const opt = (argv: string[], n: number, unit: readonly string[]): string[] => {
    if (n >= 1) argv.push(num());
    if (n >= 2) argv.push(num());
    if (n >= 3) argv.push(pick(unit));
    if (n >= 4) argv.push('x');
    return argv;
  };
  switch (int(0, 9)) {
    case 0:
      return ['SETBIT', key, String(pick([int(0, 300), int(0, 40)])), String(pick([0, 1, 1, 0, 2, -1]))];
    case 1:
      return ['GETBIT', key, num()];
    case 2:
      return opt(['BITCOUNT', key], int(0, 4), ['BIT', 'BYTE', 'bit', 'x']);
    case 3:
      return opt(['BITPOS', key, String(pick([0, 1, 0, 1, 2]))], int(0, 4), ['BIT', 'BYTE', 'x']);
    case 4: {
      const argv = ['BITOP', pick(['AND', 'OR', 'XOR', 'NOT', 'nand']), pick(keys)];
      for (let n = int(1, 4); n > 0; n--) argv.push(pick(keys));
      return argv;
    }
    case 5:
    case 6:
    case 7: {
      const argv = [pick(['BITFIELD', 'BITFIELD', 'BITFIELD_RO']), key];
      for (let n = int(0, 4); n > 0; n--) {
        const op = pick(['GET', 'SET', 'INCRBY', 'OVERFLOW', 'get', 'bad']);
        const at = (): string => pick([String(int(0, 200)), '#' + int(0, 9)]);
        if (op === 'OVERFLOW') argv.push(op, pick(['WRAP', 'SAT', 'FAIL', 'fail', 'x']));
        else if (op.toUpperCase() === 'GET') argv.push(op, fieldType(), rand() < 0.8 ? at() : num());
        else argv.push(op, fieldType(), at(), num());
      }
      return argv;
    }
    case 8:
      return pick([
        ['SET', key, String(int(0, 1000))],
        ['SET', key, 'x'.repeat(int(0, 80))],
        ['APPEND', key, '\xff\x00'],
        ['DEL', key],
        ['STRLEN', key],
        ['OBJECT', 'ENCODING', key],
      ]);
    default:
      return ['GET', key];
  }
}

describe('bit commands: seeded random lines vs redis-server', function () {
  this.timeout(60000);
  const servers = useBothServers();
  const clients: RespClient[] = [];
  after(() => {
    for (const c of clients) c.close();
  });

  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1000000);
  it(`answers 3000 random bit command lines byte for byte as redis-server does (FUZZ_SEED=${seed})`, async () => {
    const want = await RespClient.connect(servers.real.port);
    const got = await RespClient.connect(servers.ref.port);
    clients.push(want, got);
    for (const c of [want, got]) {
      await c.call(['CONFIG', 'RESETSTAT']);
      await c.call(['RPUSH', 'l', 'x']);
    }
    const rand = seededRandom(seed);
    for (let i = 0; i < 3000; i++) {
      const argv = randomBitCommand(rand);
      const [w, g] = await Promise.all([want.call(argv), got.call(argv)]);
      expect(g, `seed ${seed} line ${i}: ${JSON.stringify(argv)}`).to.equal(w);
    }
    const hits = async (c: RespClient): Promise<string> => {
      const info = String(await c.call(['INFO', 'stats']));
      return `${/keyspace_hits:\d+/.exec(info)?.[0]} ${/keyspace_misses:\d+/.exec(info)?.[0]}`;
    };
    expect(await hits(got)).to.equal(await hits(want));
  });
});
