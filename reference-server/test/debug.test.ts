import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { useBothServers } from './util/servers.js';

const TYPES = ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push', 'verbatim', 'true', 'false', 'bogus'];

describe('DEBUG (enabled) matches redis-server byte for byte', function () {
  this.timeout(30000);
  const servers = useBothServers(['--enable-debug-command', 'yes']);

  async function transcript(port: number, commands: string[][]): Promise<string[]> {
    const c = await RespClient.connect(port);
    const out: string[] = [];
    try {
      for (const argv of commands) out.push((await c.call(argv)) ?? '<none>');
    } finally {
      c.close();
    }
    return out;
  }

  it('PROTOCOL replies in RESP3 and RESP2, and the usual subcommand errors', async () => {
    const cmds: string[][] = [['HELLO', '3'], ...TYPES.map((t) => ['DEBUG', 'PROTOCOL', t]), ['HELLO', '2'], ...TYPES.map((t) => ['DEBUG', 'PROTOCOL', t]),
      ['DEBUG', 'bogus'], ['DEBUG', 'object'], ['DEBUG', 'SLEEP', 'abc'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'], ['SET', 'i', '12345'], ['SET', 's', 'hello'],
      ['DEBUG', 'OBJECT', 'missing'], ['DEBUG', 'LOG', 'from the test']];
    const [want, got] = await Promise.all([transcript(servers.real.port, cmds), transcript(servers.ref.port, cmds)]);
    // HELLO replies carry the client id; mask it and compare everything else exactly.
    const mask = (a: string[]) => a.map((r) => r.replace(/id\r\n:\d+\r\n/, 'id\r\n:N\r\n'));
    expect(mask(got)).to.deep.equal(mask(want));
  });

  it('OBJECT reports the encoding and serialized length Redis reports', async () => {
    const cmds = [['SET', 'i', '12345'], ['SET', 's', 'hello'], ['SET', 'big', 'x'.repeat(100)], ['DEBUG', 'OBJECT', 'i'], ['DEBUG', 'OBJECT', 's'], ['DEBUG', 'OBJECT', 'big'],
      ['RPUSH', 'l', 'a', 'b', '7', '-300', '100000', 'y'.repeat(70)], ['SADD', 'is', '1', '2'], ['SADD', 'ss', 'a'], ['HSET', 'h', 'f', 'v'], ['ZADD', 'z', '1', 'm'],
      ['DEBUG', 'OBJECT', 'l'], ['DEBUG', 'OBJECT', 'is'], ['DEBUG', 'OBJECT', 'ss'], ['DEBUG', 'OBJECT', 'h'], ['DEBUG', 'OBJECT', 'z']];
    const norm = (r: string) => r.replace(/at:0x[0-9a-f]+/, 'at:X').replace(/lru:\d+/, 'lru:L').replace(/lru_seconds_idle:\d+/, 'idle:I');
    const [want, got] = await Promise.all([transcript(servers.real.port, cmds), transcript(servers.ref.port, cmds)]);
    expect(got.map(norm)).to.deep.equal(want.map(norm));
  });

  it('DIGEST and DIGEST-VALUE equal redis-server digests for the same data', async () => {
    const cmds = [['FLUSHALL'], ['DEBUG', 'DIGEST'], ['SET', 'str', 'v'], ['SET', 'num', '12345'], ['RPUSH', 'list', 'a', 'b', 'c'], ['SADD', 'set', 'x', 'y', '3'],
      ['HSET', 'hash', 'f1', 'v1', 'f2', 'v2'], ['ZADD', 'zset', '1.5', 'a', '0.1', 'b', '-3', 'c'], ['SET', 'ttl', 'x', 'EX', '1000'],
      ['SELECT', '3'], ['SET', 'other', 'db'], ['SELECT', '0'], ['DEBUG', 'DIGEST'],
      ['DEBUG', 'DIGEST-VALUE', 'str', 'num', 'list', 'set', 'hash', 'zset', 'ttl', 'missing']];
    const [want, got] = await Promise.all([transcript(servers.real.port, cmds), transcript(servers.ref.port, cmds)]);
    expect(got).to.deep.equal(want);
  });
});
