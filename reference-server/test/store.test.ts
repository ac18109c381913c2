import { expect } from 'chai';
import { createDb, KeyspaceDb, type DbHooks } from '../store/db.js';
import type { Db } from '../store/types.js';
import { parseLD, addLD, formatLD } from '../store/longdouble.js';
import { parseLL, addLL, parseLongDouble } from '../store/numbers.js';
import { DEFAULT_LIMITS, encodingOf, noteHashWrite } from '../store/encoding.js';

interface TestHooks extends DbHooks {
  time: number;
  replica: boolean;
  master: boolean;
  expired: string[];
  modified: string[];
  flushed: number;
}

function hooks(): TestHooks {
  const h: TestHooks = {
    time: 1_700_000_000_000,
    replica: false,
    master: false,
    expired: [],
    modified: [],
    flushed: 0,
    now: () => h.time,
    isReplica: () => h.replica,
    fromMaster: () => h.master,
    onExpired: (_db: Db, key: string) => void h.expired.push(key),
    onModified: (_db: Db, key: string) => void h.modified.push(key),
    onFlushed: () => void h.flushed++,
  };
  return h;
}

describe('store/db: keyspace', () => {
  it('stores, overwrites, deletes and counts keys', () => {
    const h = hooks();
    const db = createDb(3, h);
    expect(db.index).to.equal(3);
    db.set('a', '1');
    db.add('b', new Map([['f', 'v']]));
    expect(db.get('a')).to.equal('1');
    expect(db.size()).to.equal(2);
    db.set('a', '2');
    expect(db.get('a')).to.equal('2');
    expect(db.delete('a')).to.equal(true);
    expect(db.delete('a')).to.equal(false);
    expect(db.has('a')).to.equal(false);
    expect([...db.keys()]).to.deep.equal(['b']);
    expect(h.modified).to.deep.equal(['a', 'b', 'a', 'a']);
  });

  it('expires lazily on access and reports each expiry once', () => {
    const h = hooks();
    const db = createDb(0, h);
    db.set('k', 'v');
    db.setExpire('k', h.time + 1000);
    expect(db.getExpire('k')).to.equal(h.time + 1000);
    h.time += 999;
    expect(db.get('k')).to.equal('v');
    h.time += 1;
    expect(db.get('k')).to.equal(undefined);
    expect(db.has('k')).to.equal(false);
    expect(db.size()).to.equal(0);
    expect(h.expired).to.deep.equal(['k']);
    // Never comes back.
    expect(db.get('k')).to.equal(undefined);
    expect(h.expired).to.deep.equal(['k']);
  });

  it('set clears the TTL unless keepTtl, and keepTtl on an expired key starts fresh', () => {
    const h = hooks();
    const db = createDb(0, h);
    db.set('k', 'v');
    db.setExpire('k', h.time + 5000);
    db.set('k', 'w', true);
    expect(db.getExpire('k')).to.equal(h.time + 5000);
    db.set('k', 'x');
    expect(db.getExpire('k')).to.equal(undefined);
    db.setExpire('k', h.time + 10);
    h.time += 20;
    db.set('k', 'y', true);
    expect(db.getExpire('k')).to.equal(undefined);
    expect(db.get('k')).to.equal('y');
  });

  it('persist removes a TTL and reports whether there was one', () => {
    const h = hooks();
    const db = createDb(0, h);
    db.set('k', 'v');
    expect(db.persist('k')).to.equal(false);
    db.setExpire('k', h.time + 100);
    expect(db.expiresCount()).to.equal(1);
    expect(db.persist('k')).to.equal(true);
    expect(db.expiresCount()).to.equal(0);
    expect(db.persist('missing')).to.equal(false);
  });

  it('active expiry removes expired keys within its budget and leaves live ones', () => {
    const h = hooks();
    const db = createDb(0, h);
    for (let i = 0; i < 1000; i++) {
      db.set(`k${i}`, 'v');
      db.setExpire(`k${i}`, h.time + (i % 2 === 0 ? 10 : 100_000));
    }
    db.set('forever', 'v');
    h.time += 50;
    let removed = db.activeExpireCycle(100);
    expect(removed).to.be.at.most(100).and.above(0);
    for (let round = 0; round < 100 && db.size() > 501; round++) removed += db.activeExpireCycle(100);
    expect(removed).to.equal(500);
    expect(db.size()).to.equal(501);
    expect(h.expired.length).to.equal(500);
    expect(h.expired.every((k) => Number(k.slice(1)) % 2 === 0)).to.equal(true);
    expect(db.get('k1')).to.equal('v');
    expect(db.avgTtl()).to.be.closeTo(100_000 - 50, 1);
  });

  it('on a replica hides expired keys but never deletes them; the master stream still sees them', () => {
    const h = hooks();
    h.replica = true;
    const db = createDb(0, h);
    db.set('k', 'v');
    db.setExpire('k', h.time + 10);
    h.time += 100;
    expect(db.get('k')).to.equal(undefined);
    expect(db.has('k')).to.equal(false);
    expect([...db.keys()]).to.deep.equal([]);
    expect(db.activeExpireCycle(100)).to.equal(0);
    expect(db.size()).to.equal(1);
    expect(h.expired).to.deep.equal([]);
    h.master = true;
    expect(db.get('k')).to.equal('v');
    h.master = false;
    // The master's DEL removes it physically.
    db.delete('k');
    expect(db.size()).to.equal(0);
    // A write from the master over a hidden key replaces it.
    db.set('j', 'old');
    db.setExpire('j', h.time - 1);
    db.add('j', 'new');
    expect(db.get('j')).to.equal('new');
    expect(db.getExpire('j')).to.equal(undefined);
  });

  it('SCAN returns every key present for the whole scan despite concurrent inserts and deletes', () => {
    const h = hooks();
    const db = createDb(0, h);
    for (let i = 0; i < 2000; i++) db.set(`stable${i}`, 'v');
    for (let i = 0; i < 2000; i++) db.set(`churn${i}`, 'v');
    const seen = new Set<string>();
    let cursor = 0;
    let step = 0;
    let churn = 2000;
    const live: string[] = [];
    for (let i = 0; i < 2000; i++) live.push(`churn${i}`);
    do {
      cursor = db.scan(cursor, 25, (k) => seen.add(k));
      // Replace 30 random churn keys between calls; their freed slots get reused by the new ones.
      for (let j = 0; j < 30; j++) {
        const at = Math.floor(Math.random() * live.length);
        db.delete(live[at]);
        live[at] = `churn${churn++}`;
        db.set(live[at], 'v');
      }
      step++;
    } while (cursor !== 0 && step < 10_000);
    expect(cursor).to.equal(0);
    for (let i = 0; i < 2000; i++) expect(seen.has(`stable${i}`), `stable${i}`).to.equal(true);
  });

  it('SCAN keeps its guarantee while the table grows and shrinks between calls', () => {
    const h = hooks();
    const db = createDb(0, h);
    for (let i = 0; i < 300; i++) db.set(`stable${i}`, 'v');
    const seen = new Set<string>();
    let cursor = 0;
    let step = 0;
    do {
      cursor = db.scan(cursor, 10, (k) => seen.add(k));
      // Grow to thousands of keys, then shrink back: buckets double several times and halve again.
      if (step < 20) for (let j = 0; j < 500; j++) db.set(`tmp${step}_${j}`, 'v');
      else if (step < 40) for (let j = 0; j < 500; j++) db.delete(`tmp${step - 20}_${j}`);
      step++;
    } while (cursor !== 0 && step < 100_000);
    expect(cursor).to.equal(0);
    for (let i = 0; i < 300; i++) expect(seen.has(`stable${i}`), `stable${i}`).to.equal(true);
  });

  it('SCAN skips expired keys and ends with cursor 0 on an empty db', () => {
    const h = hooks();
    const db = createDb(0, h);
    expect(db.scan(0, 10, () => undefined)).to.equal(0);
    db.set('a', 'v');
    db.set('b', 'v');
    db.setExpire('b', h.time + 1);
    h.time += 2;
    const seen: string[] = [];
    expect(db.scan(0, 10, (k) => seen.push(k))).to.equal(0);
    expect(seen).to.deep.equal(['a']);
  });

  it('randomKey returns live keys only and undefined when empty or all expired', () => {
    const h = hooks();
    const db = createDb(0, h);
    expect(db.randomKey()).to.equal(undefined);
    for (let i = 0; i < 50; i++) db.set(`k${i}`, 'v');
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) seen.add(db.randomKey() as string);
    expect(seen.size).to.be.above(30);
    for (let i = 0; i < 50; i++) db.setExpire(`k${i}`, h.time + 1);
    h.time += 5;
    expect(db.randomKey()).to.equal(undefined);
    // Sparse after deletes: still finds the survivor.
    for (let i = 0; i < 1000; i++) db.set(`s${i}`, 'v');
    for (let i = 1; i < 1000; i++) db.delete(`s${i}`);
    expect(db.randomKey()).to.equal('s0');
  });

  it('flush empties the db through onFlushed; swap exchanges contents and TTLs', () => {
    const h = hooks();
    const a = createDb(0, h) as KeyspaceDb;
    const b = createDb(1, h) as KeyspaceDb;
    a.set('x', '1');
    a.setExpire('x', h.time + 5000);
    b.set('y', '2');
    a.swapWith(b);
    expect(a.get('y')).to.equal('2');
    expect(b.get('x')).to.equal('1');
    expect(b.getExpire('x')).to.equal(h.time + 5000);
    expect(a.index).to.equal(0);
    expect(h.flushed).to.equal(2);
    a.flush();
    expect(a.size()).to.equal(0);
    expect(h.flushed).to.equal(3);
  });

  it('tracks last access with one-second resolution and can date it back', () => {
    const h = hooks();
    const db = createDb(0, h) as KeyspaceDb;
    db.set('k', 'v');
    expect(db.lastAccess('k')).to.be.closeTo(h.time, 1000);
    h.time += 10_000;
    expect(h.time - (db.lastAccess('k') as number)).to.be.closeTo(10_000, 1000);
    db.get('k');
    expect(h.time - (db.lastAccess('k') as number)).to.be.below(1000);
    db.setLastAccess('k', h.time - 3_600_000);
    expect(Math.floor((h.time - (db.lastAccess('k') as number)) / 1000)).to.be.closeTo(3600, 1);
    expect(db.lastAccess('missing')).to.equal(undefined);
  });
});

describe('store: numbers, long doubles and encodings', () => {
  it('parses integers with string2ll rules', () => {
    expect(parseLL('0')).to.equal(0);
    expect(parseLL('-12')).to.equal(-12);
    expect(parseLL('9223372036854775807')).to.equal(9223372036854775807n);
    expect(parseLL('-9223372036854775808')).to.equal(-9223372036854775808n);
    for (const bad of ['', '-', '-0', '01', '+1', ' 1', '1 ', '1.0', '9223372036854775808', 'abc']) {
      expect(parseLL(bad), bad).to.equal(null);
    }
    expect(addLL(9223372036854775806n, 1)).to.equal(9223372036854775807n);
    expect(addLL(9223372036854775807n, 1)).to.equal(null);
    expect(addLL(-5, 3)).to.equal(-2);
  });

  it('accepts floats the way strtold does and rejects what Redis rejects', () => {
    expect(parseLongDouble('1.5')).to.equal(1.5);
    expect(parseLongDouble('.5')).to.equal(0.5);
    expect(parseLongDouble('5.')).to.equal(5);
    expect(parseLongDouble('-inf')).to.equal(-Infinity);
    expect(parseLongDouble('0x10')).to.equal(16);
    for (const bad of ['', ' 1', '1 ', 'nan', '1e', 'abc', '1.2.3']) expect(parseLongDouble(bad), bad).to.equal(null);
  });

  it('adds and prints 80-bit long doubles like Redis on x86-64', () => {
    const step = (a: string, b: string): string => {
      const x = parseLD(a);
      const y = parseLD(b);
      if (x === null || y === null) throw new Error('parse');
      return formatLD(addLD(x, y));
    };
    expect(step('10.5', '0.1')).to.equal('10.6');
    expect(step('10.6', '5000')).to.equal('5010.60000000000000009');
    // Redis: INCRBYFLOAT 10.5 0.1 then 5.0e3 prints 5005.60000000000000009.
    expect(step(step(step('10.5', '0.1'), '-5'), '5.0e3')).to.equal('5005.60000000000000009');
    expect(step('3.0e3', '0')).to.equal('3000');
    expect(step('-0', '0')).to.equal('0');
    expect(step('5', '-5')).to.equal('0');
    expect(step('1', '-1.5')).to.equal('-0.5');
    expect(parseLD('1e5000')).to.equal(null);
    expect(parseLD('nan')).to.equal(null);
    expect(parseLD('inf')?.inf).to.equal(true);
    expect(step('1e400', '0')).to.match(/^1000000000000000000028/);
  });

  it('reports OBJECT ENCODING for strings and hashes as Redis 7.0 does', () => {
    expect(encodingOf('123', DEFAULT_LIMITS)).to.equal('int');
    expect(encodingOf('-9223372036854775808', DEFAULT_LIMITS)).to.equal('int');
    expect(encodingOf('0123', DEFAULT_LIMITS)).to.equal('embstr');
    expect(encodingOf('a'.repeat(44), DEFAULT_LIMITS)).to.equal('embstr');
    expect(encodingOf('a'.repeat(45), DEFAULT_LIMITS)).to.equal('raw');
    const h = new Map([['f', 'v']]);
    expect(encodingOf(h, DEFAULT_LIMITS)).to.equal('listpack');
    h.set('g', 'x'.repeat(65));
    noteHashWrite(h, DEFAULT_LIMITS, 'g', h.get('g'));
    h.delete('g');
    // Redis never converts back while running.
    expect(encodingOf(h, DEFAULT_LIMITS)).to.equal('hashtable');
    expect(encodingOf(new Set(['1', '2']), DEFAULT_LIMITS)).to.equal('intset');
    expect(encodingOf(new Set(['1', 'a']), DEFAULT_LIMITS)).to.equal('hashtable');
  });
});
