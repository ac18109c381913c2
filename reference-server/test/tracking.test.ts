import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { useBothServers } from './util/servers.js';

/**
 * CLIENT TRACKING with REDIRECT (client ids differ between servers, so the differential script cannot name them):
 * the same steps against redis-server and the reference server must give the same frames.
 */
describe('client tracking: redirection, broken redirection, table limit', function () {
  this.timeout(20000);
  const servers = useBothServers();

  async function scenario(port: number): Promise<string[]> {
    const out: string[] = [];
    const main = await RespClient.connect(port);
    const sub = await RespClient.connect(port);
    const writer = await RespClient.connect(port);
    const rd = async (c: RespClient): Promise<void> => {
      out.push((await c.read(3000))?.raw ?? '<none>');
    };
    try {
      await main.call(['FLUSHALL']);
      const subId = ((await sub.call(['CLIENT', 'ID'])) ?? '').slice(1, -2);
      out.push((await sub.call(['SUBSCRIBE', '__redis__:invalidate'])) ?? '');
      // RESP2 redirection to a subscriber: invalidations arrive as pub/sub messages whose payload is an array of keys.
      out.push((await main.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', subId])) ?? '');
      out.push(((await main.call(['CLIENT', 'GETREDIR'])) ?? '') === `:${subId}\r\n` ? 'getredir ok' : 'getredir wrong');
      await main.call(['SET', 'a', '1']);
      await main.call(['GET', 'a']);
      await writer.call(['SET', 'a', '2']);
      await rd(sub);
      // The table limit: lowering it drops keys, and their invalidation is sent.
      await main.call(['MSET', 'k1', '1', 'k2', '2']);
      await main.call(['MGET', 'k1', 'k2']);
      await main.call(['CONFIG', 'SET', 'tracking-table-max-keys', '1']);
      await rd(sub);
      // Redis drops a random key: either one is right.
      out.push(out.pop()!.replace(/\$2\r\nk[12]\r\n/, '$2\r\nkN\r\n'));
      await main.call(['CONFIG', 'SET', 'tracking-table-max-keys', '1000000']);
      // A flush reaches the subscriber as a null payload.
      await writer.call(['FLUSHALL']);
      await rd(sub);
      // Redirection target gone: a RESP3 client is told with a tracking-redir-broken push, and the flag shows it.
      await main.call(['CLIENT', 'TRACKING', 'off']);
      await main.call(['HELLO', '3']);
      out.push((await main.call(['CLIENT', 'TRACKING', 'on', 'REDIRECT', subId])) ?? '');
      await main.call(['GET', 'b']);
      sub.close();
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && ((await writer.call(['CLIENT', 'LIST', 'ID', subId])) ?? '') !== '$0\r\n\r\n') {
        await new Promise((r) => setTimeout(r, 10));
      }
      await writer.call(['SET', 'b', '1']);
      await rd(main);
      out.push(out.pop()!.replace(/:\d+\r\n$/, ':ID\r\n'));
      const info = (await main.call(['CLIENT', 'TRACKINGINFO'])) ?? '';
      out.push(info.replace(/:\d+\r\n/, ':N\r\n'));
      return out;
    } finally {
      main.close();
      sub.close();
      writer.close();
    }
  }

  it('gives the frames redis-server gives', async () => {
    const fromReal = await scenario(servers.real.port);
    expect(fromReal[3]).to.contain('__redis__:invalidate');
    expect(await scenario(servers.ref.port)).to.deep.equal(fromReal);
  });
});
