import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startRefInProcess } from './util/servers.js';

describe('ioredis (the harness client) works against the reference server', function () {
  this.timeout(20000);
  let ref: Awaited<ReturnType<typeof startRefInProcess>>;
  const conns: Redis[] = [];
  const open = (): Redis => {
    const r = new Redis({ port: ref.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    conns.push(r);
    return r;
  };
  before(async () => {
    ref = await startRefInProcess();
  });
  after(async () => {
    for (const c of conns) c.disconnect();
    await ref.stop();
  });

  it('commands, pipelines, transactions, pub/sub and blocking pops', async () => {
    const r = open();
    expect(await r.set('a', '1')).to.equal('OK');
    expect(await r.get('a')).to.equal('1');
    expect(await r.pipeline().set('b', '2').get('b').incr('n').exec()).to.deep.equal([[null, 'OK'], [null, '2'], [null, 1]]);
    expect(await r.multi().set('c', '3').get('c').exec()).to.deep.equal([[null, 'OK'], [null, '3']]);
    const sub = open();
    await sub.subscribe('ch');
    const got = new Promise<[string, string]>((res) => sub.on('message', (ch: string, m: string) => res([ch, m])));
    expect(await r.publish('ch', 'hi')).to.equal(1);
    expect(await got).to.deep.equal(['ch', 'hi']);
    const b = open();
    const popped = b.blpop('q', 0);
    const deadline = Date.now() + 5000;
    while (!ref.server.clients.size || ![...ref.server.clients.values()].some((c) => c.blocked)) {
      if (Date.now() > deadline) throw new Error('BLPOP never blocked');
      await new Promise((res) => setTimeout(res, 5));
    }
    await r.rpush('q', 'x');
    expect(await popped).to.deep.equal(['q', 'x']);
    expect(await r.info('server')).to.contain('redis_version:7.0.15');
  });
});
