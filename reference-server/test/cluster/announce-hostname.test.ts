/**
 * CONFIG SET cluster-announce-hostname validates as Redis 7.0.15's isValidAnnouncedHostname (cluster suite unit 27):
 * shorter than 256 characters, letters, digits, hyphens and dots only; compared with redis-server reply by reply.
 */
import { expect } from 'chai';
import { RespClient } from '../util/resp-client.js';
import { useBothServers } from '../util/servers.js';

describe('cluster-announce-hostname validation (redis-server and the reference server)', function () {
  const pair = useBothServers();

  it('too long, a bad character, a valid name and the empty name answer as redis-server does', async () => {
    const values = ['x'.repeat(256), 'x'.repeat(255), '?.com', 'host_1.com', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.', ''];
    const replies = async (port: number): Promise<(string | null)[]> => {
      const c = await RespClient.connect(port);
      const out: (string | null)[] = [];
      for (const v of values) out.push(await c.call(['CONFIG', 'SET', 'cluster-announce-hostname', v]));
      c.close();
      return out;
    };
    const expected = await replies(pair.real.port);
    expect(expected[0]).to.include('Hostnames must be less than 256 characters');
    expect(await replies(pair.ref.port)).to.deep.equal(expected);
  });
});
