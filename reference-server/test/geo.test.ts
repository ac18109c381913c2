/**
 * GEO commands: what they propagate (GEOADD as ZADD, the STORE variants verbatim, reads nothing), checked on the
 * in-process server's replication hook; and seeded random point sets searched side by side with redis-server.
 */
import { expect } from 'chai';
import { FrameClient, type Frame } from './util/frame-client.js';
import { startRefInProcess, useBothServers, type RunningServer } from './util/servers.js';
import type { RedisServer } from '../server/server.js';
import { seededRandom } from '../../harness/src/random/prng.js';

describe('geo: propagation', function () {
  let ref: (RunningServer & { server: RedisServer }) | undefined;
  let c: FrameClient | undefined;
  const log: string[][] = [];

  before(async () => {
    ref = await startRefInProcess();
    // A second propagate hook sees the same stream replication gets.
    ref.server.install({ name: 'test-log', propagate: (_db, argv) => log.push([...argv]) });
    c = await FrameClient.open(ref.port);
  });
  after(async () => {
    c?.close();
    await ref?.stop();
  });

  async function run(...argv: string[]): Promise<{ reply: Frame; propagated: string[][] }> {
    log.length = 0;
    const reply = await (c as FrameClient).send(...argv);
    return { reply, propagated: log.slice() };
  }

  it('GEOADD propagates as ZADD with the 52-bit score and its options; a no-op or an error propagates nothing', async () => {
    let r = await run('GEOADD', 'Sicily', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania');
    expect(r.reply).to.equal(2);
    expect(r.propagated).to.deep.equal([['zadd', 'Sicily', '3479099956230698', 'Palermo', '3479447370796909', 'Catania']]);
    r = await run('GEOADD', 'Sicily', '13.361389', '38.115556', 'Palermo');
    expect(r.reply).to.equal(0);
    expect(r.propagated).to.deep.equal([]);
    r = await run('GEOADD', 'Sicily', 'XX', 'CH', '13.5', '38.1', 'Palermo');
    expect(r.reply).to.equal(1);
    expect(r.propagated).to.have.length(1);
    expect(r.propagated[0].slice(0, 4)).to.deep.equal(['zadd', 'Sicily', 'XX', 'CH']);
    r = await run('GEOADD', 'Sicily', '13', '38', 'ok', '200', '100', 'bad');
    expect(r.reply).to.deep.equal({ error: 'ERR invalid longitude,latitude pair 200.000000,100.000000' });
    expect(r.propagated).to.deep.equal([]);
    expect(await c?.send('ZSCORE', 'Sicily', 'ok')).to.equal(null);
  });

  it('searches propagate nothing; STORE variants propagate verbatim only when they change the keyspace', async () => {
    await run('GEOADD', 'Sicily', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania');
    let r = await run('GEORADIUS', 'Sicily', '15', '37', '200', 'km', 'WITHDIST');
    expect(r.propagated).to.deep.equal([]);
    r = await run('GEOSEARCH', 'Sicily', 'FROMMEMBER', 'Palermo', 'BYBOX', '400', '400', 'km');
    expect(r.reply).to.deep.equal(['Palermo', 'Catania']);
    expect(r.propagated).to.deep.equal([]);
    const store = ['GEORADIUS', 'Sicily', '15', '37', '200', 'km', 'STORE', 'dst'];
    r = await run(...store);
    expect(r.reply).to.equal(2);
    expect(r.propagated).to.deep.equal([store]);
    const storeDist = ['GEOSEARCHSTORE', 'd2', 'Sicily', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'STOREDIST'];
    r = await run(...storeDist);
    expect(r.reply).to.equal(2);
    expect(r.propagated).to.deep.equal([storeDist]);
    expect(await c?.send('ZRANGE', 'd2', '0', '-1', 'WITHSCORES')).to.deep.equal(['Catania', '56.441257870158204', 'Palermo', '190.44242984775784']);
    // An empty result deletes the destination: propagated only when there was one to delete.
    const empty = ['GEORADIUS', 'Sicily', '0', '0', '1', 'm', 'STORE', 'dst'];
    r = await run(...empty);
    expect(r.reply).to.equal(0);
    expect(r.propagated).to.deep.equal([empty]);
    r = await run(...empty);
    expect(r.propagated).to.deep.equal([]);
    r = await run('GEORADIUS', 'nokey', '0', '0', '1', 'm', 'STORE', 'd2');
    expect(r.reply).to.equal(0);
    expect(await c?.send('EXISTS', 'd2')).to.equal(0);
    expect(r.propagated).to.deep.equal([['GEORADIUS', 'nokey', '0', '0', '1', 'm', 'STORE', 'd2']]);
  });
});

describe('geo: random points, side by side with redis-server', function () {
  this.timeout(60000);
  const servers = useBothServers();
  let a: FrameClient | undefined;
  let b: FrameClient | undefined;

  before(async () => {
    a = await FrameClient.open(servers.real.port);
    b = await FrameClient.open(servers.ref.port);
  });
  after(() => {
    a?.close();
    b?.close();
  });

  async function both(...argv: string[]): Promise<Frame> {
    const [x, y] = await Promise.all([(a as FrameClient).send(...argv), (b as FrameClient).send(...argv)]);
    expect(y, argv.join(' ')).to.deep.equal(x);
    return x;
  }

  /**
   * Stored distances in full precision: members equal, scores within 1e-13 relative. glibc's sin/cos/asin are not
   * always correctly rounded, so ~0.2% of distances differ from ours in the last bit (invisible in %.4f replies).
   */
  async function bothClose(...argv: string[]): Promise<void> {
    const [x, y] = await Promise.all([(a as FrameClient).send(...argv), (b as FrameClient).send(...argv)]);
    expect(Array.isArray(x) && Array.isArray(y), argv.join(' ')).to.equal(true);
    const xs = x as string[], ys = y as string[];
    expect(ys.length).to.equal(xs.length);
    for (let i = 0; i < xs.length; i += 2) {
      expect(ys[i]).to.equal(xs[i]);
      const d = Math.abs(Number(ys[i + 1]) - Number(xs[i + 1]));
      expect(d, `${xs[i]}: ${ys[i + 1]} vs ${xs[i + 1]}`).to.be.at.most(Math.abs(Number(xs[i + 1])) * 1e-13);
    }
  }

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: every reply equals redis-server's`, async () => {
      const rnd = seededRandom(seed);
      const between = (lo: number, hi: number): number => lo + (hi - lo) * rnd();
      await both('FLUSHALL');
      // A dense cluster (listpack when small, skiplist when not) plus points anywhere.
      const cx = between(-170, 170), cy = between(-80, 80);
      const n = seed === 2 ? 100 : 300;
      for (let i = 0; i < n; i++) {
        const near = rnd() < 0.7;
        const lon = near ? cx + between(-1, 1) : between(-180, 180);
        const lat = near ? Math.max(-85, Math.min(85, cy + between(-1, 1))) : between(-85.05, 85.05);
        await both('GEOADD', 'pts', lon.toFixed(6), lat.toFixed(6), `m${i}`);
      }
      await both('ZRANGE', 'pts', '0', '-1', 'WITHSCORES');
      let hits = 0;
      for (let q = 0; q < 150; q++) {
        const lon = (rnd() < 0.7 ? cx + between(-1.5, 1.5) : between(-180, 180)).toFixed(5);
        const lat = Math.max(-85, Math.min(85, rnd() < 0.7 ? cy + between(-1.5, 1.5) : between(-85, 85))).toFixed(5);
        const unit = ['m', 'km', 'mi', 'ft'][Math.floor(rnd() * 4)];
        const size = (between(1, 300) * ({ m: 1000, km: 1, mi: 0.62, ft: 3280 } as Record<string, number>)[unit]).toFixed(2);
        const opts = ['WITHDIST', 'WITHCOORD', 'WITHHASH'].filter(() => rnd() < 0.4);
        opts.push(rnd() < 0.5 ? 'ASC' : 'DESC');
        if (rnd() < 0.3) opts.push('COUNT', String(1 + Math.floor(rnd() * 10)));
        const shape = rnd() < 0.5 ? ['BYRADIUS', size, unit] : ['BYBOX', size, (Number(size) * between(0.2, 3)).toFixed(2), unit];
        const from = rnd() < 0.3 ? ['FROMMEMBER', `m${Math.floor(rnd() * n)}`] : ['FROMLONLAT', lon, lat];
        const r = await both('GEOSEARCH', 'pts', ...from, ...shape, ...opts);
        if (Array.isArray(r)) hits += r.length;
        await both('GEOSEARCHSTORE', 'out', 'pts', ...from, ...shape, 'STOREDIST');
        await bothClose('ZRANGE', 'out', '0', '-1', 'WITHSCORES');
      }
      const m1 = `m${Math.floor(rnd() * n)}`, m2 = `m${Math.floor(rnd() * n)}`;
      await both('GEODIST', 'pts', m1, m2, 'km');
      await both('GEOPOS', 'pts', m1, m2, 'nosuch');
      await both('GEOHASH', 'pts', m1, m2, 'nosuch');
      // The searches must have found something, or the comparison proves little.
      expect(hits).to.be.greaterThan(50);
    });
  }
});
