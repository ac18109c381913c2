/** Expiry in a running reference server: lazy on access, active in the background cron, counted in INFO. */
import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { startRefInProcess, type RunningServer } from './util/servers.js';
import { waitUntil } from './util/wait.js';

function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  return waitUntil(what, check, timeoutMs, 20);
}

async function expiredKeys(c: RespClient): Promise<number> {
  const info = (await c.call(['INFO', 'stats'])) ?? '';
  return Number(/^expired_keys:(\d+)/m.exec(info)?.[1] ?? NaN);
}

describe('keys expiry in a running server', function () {
  this.timeout(30_000);
  let ref: RunningServer;
  let c: RespClient;

  before(async () => {
    ref = await startRefInProcess();
    c = await RespClient.connect(ref.port);
  });

  after(async () => {
    c?.close();
    await ref?.stop();
  });

  it('a key with PX disappears once its time passes and never comes back', async () => {
    expect(await c.call(['SET', 'lazy', 'v', 'PX', '100'])).to.equal('+OK\r\n');
    expect(await c.call(['GET', 'lazy'])).to.equal('$1\r\nv\r\n');
    await until('lazy to expire', async () => (await c.call(['GET', 'lazy'])) === '$-1\r\n');
    expect(await c.call(['EXISTS', 'lazy'])).to.equal(':0\r\n');
    expect(await c.call(['TTL', 'lazy'])).to.equal(':-2\r\n');
  });

  it('active expiry removes untouched keys in the background and counts them', async () => {
    expect(await c.call(['FLUSHALL'])).to.equal('+OK\r\n');
    const before = await expiredKeys(c);
    const args = ['MSET'];
    for (let i = 0; i < 2000; i++) args.push(`vol${i}`, 'v');
    expect(await c.call(args)).to.equal('+OK\r\n');
    for (let i = 0; i < 2000; i++) c.send(['PEXPIRE', `vol${i}`, '50']);
    for (let i = 0; i < 2000; i++) expect((await c.read())?.raw).to.equal(':1\r\n');
    expect(await c.call(['SET', 'keep', 'v'])).to.equal('+OK\r\n');
    // DBSIZE counts expired keys until they are removed, so it only drops through active expiry.
    await until('active expiry to empty the volatile keys', async () => (await c.call(['DBSIZE'])) === ':1\r\n');
    expect((await expiredKeys(c)) - before).to.equal(2000);
    expect(await c.call(['GET', 'keep'])).to.equal('$1\r\nv\r\n');
  });
});
