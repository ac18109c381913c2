/** Encoding limits are per server: two servers in one process, configured differently, never share them. */
import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { freePort } from './util/servers.js';
import { buildCommandTable } from '../commands/table.js';
import { Config } from '../config/config.js';
import { RedisServer } from '../server/server.js';
import { createServerDb } from '../server/dbfactory.js';

async function start(limits: string): Promise<RedisServer> {
  const config = new Config();
  config.loadString(`port ${await freePort()}\nbind 127.0.0.1\nsave ""\nlogfile /dev/null\n${limits}`);
  const server = new RedisServer({ config, createDb: createServerDb, commands: buildCommandTable() });
  await server.listen();
  return server;
}

describe('encoding limits: per server', function () {
  this.timeout(20000);
  let small: RedisServer;
  let large: RedisServer;
  let a: RespClient;
  let b: RespClient;

  before(async () => {
    small = await start('hash-max-listpack-entries 2\nzset-max-listpack-entries 2\nset-max-intset-entries 2');
    large = await start('hash-max-listpack-entries 100\nzset-max-listpack-entries 100\nset-max-intset-entries 100');
    a = await RespClient.connect(small.tcpPort);
    b = await RespClient.connect(large.tcpPort);
  });
  after(() => {
    a?.close();
    b?.close();
    small?.close();
    large?.close();
  });

  it('each server converts by its own config, whichever wrote last', async () => {
    for (const [key, write] of [['h', ['HSET', 'h', 'f1', 'v', 'f2', 'v', 'f3', 'v']], ['z', ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c']], ['s', ['SADD', 's', '1', '2', '3']]] as const) {
      // Interleaved: the large server writes after the small one, then the small one is asked.
      expect(await a.call([...write])).to.equal(':3\r\n');
      expect(await b.call([...write])).to.equal(':3\r\n');
      const smallEnc = await a.call(['OBJECT', 'ENCODING', key]);
      const largeEnc = await b.call(['OBJECT', 'ENCODING', key]);
      expect({ key, smallEnc, largeEnc }).to.deep.equal({
        key,
        smallEnc: key === 'h' ? '$9\r\nhashtable\r\n' : key === 'z' ? '$8\r\nskiplist\r\n' : '$9\r\nhashtable\r\n',
        largeEnc: key === 'h' ? '$8\r\nlistpack\r\n' : key === 'z' ? '$8\r\nlistpack\r\n' : '$6\r\nintset\r\n',
      });
    }
  });

  it('CONFIG SET on one server leaves the other alone', async () => {
    expect(await a.call(['CONFIG', 'SET', 'zset-max-listpack-entries', '1000'])).to.equal('+OK\r\n');
    expect(await b.call(['CONFIG', 'SET', 'zset-max-listpack-entries', '1'])).to.equal('+OK\r\n');
    expect(await a.call(['ZADD', 'z2', '1', 'a', '2', 'b'])).to.equal(':2\r\n');
    expect(await b.call(['ZADD', 'z2', '1', 'a', '2', 'b'])).to.equal(':2\r\n');
    expect(await a.call(['OBJECT', 'ENCODING', 'z2'])).to.equal('$8\r\nlistpack\r\n');
    expect(await b.call(['OBJECT', 'ENCODING', 'z2'])).to.equal('$8\r\nskiplist\r\n');
    expect(small.encodingLimits).to.not.equal(large.encodingLimits);
  });
});
