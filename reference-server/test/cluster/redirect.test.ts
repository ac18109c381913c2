import { expect } from 'chai';
import { Cluster } from '../../cluster/cluster.js';
import { keyHashSlot } from '../../cluster/keyslot.js';
import { ClusterNode, NodeFlag } from '../../cluster/nodes.js';
import { getNodeByQuery, redirectError, type QueryContext } from '../../cluster/redirect.js';
import { SlotIndex } from '../../cluster/slot-index.js';
import { FakeHost } from './engine-util.js';

/** An engine that never touches the network: a table with myself and one other master. */
function table(): { cluster: Cluster; other: ClusterNode } {
  const cluster = new Cluster(new FakeHost(7000), '/nonexistent/nodes.conf');
  const me = new ClusterNode('a'.repeat(40), NodeFlag.MYSELF | NodeFlag.MASTER);
  me.ip = '127.0.0.1';
  me.port = 7000;
  cluster.state.addNode(me);
  cluster.state.myself = me;
  const other = new ClusterNode('b'.repeat(40), NodeFlag.MASTER);
  other.ip = '127.0.0.2';
  other.port = 7001;
  other.hostname = 'other.example';
  cluster.state.addNode(other);
  for (let s = 0; s < 8192; s++) cluster.state.addSlot(me, s);
  for (let s = 8192; s < 16000; s++) cluster.state.addSlot(other, s);
  cluster.state.state = 'ok';
  return { cluster, other };
}

function query(keys: string[], over: Partial<QueryContext> = {}, isWrite = false): QueryContext {
  return {
    commands: [{ keys, isWrite }], askingCommand: false, isMigrate: false, isPubsubShard: false, clientAsking: false,
    clientReadonly: false, keyExists: () => false, allowReadsWhenDown: false, allowPubsubshardWhenDown: true, ...over,
  };
}

/** A key of the given slot range, found by search. */
function keyIn(from: number, to: number, prefix = 'k'): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}${i}`;
    const s = keyHashSlot(k);
    if (s >= from && s <= to) return k;
  }
}

describe('cluster redirection (getNodeByQuery)', () => {
  it('serves local keys and keyless commands here', () => {
    const { cluster } = table();
    expect(getNodeByQuery(cluster, query([keyIn(0, 8191)])).code).to.equal('none');
    expect(getNodeByQuery(cluster, query([])).node).to.equal(cluster.myself);
  });

  it('MOVED to the owner, with ip, hostname or empty endpoint', () => {
    const { cluster, other } = table();
    const key = keyIn(8192, 15999);
    const r = getNodeByQuery(cluster, query([key]));
    expect(r).to.deep.include({ node: other, code: 'moved', slot: keyHashSlot(key) });
    expect(redirectError(r.code, r.node, r.slot, 'ip')).to.equal(`MOVED ${r.slot} 127.0.0.2:7001`);
    expect(redirectError(r.code, r.node, r.slot, 'hostname')).to.equal(`MOVED ${r.slot} other.example:7001`);
    expect(redirectError(r.code, r.node, r.slot, 'unknown-endpoint')).to.equal(`MOVED ${r.slot} :7001`);
  });

  it('CROSSSLOT, unbound slot, and the down states', () => {
    const { cluster } = table();
    const a = keyIn(0, 8191, 'a');
    const b = keyIn(8192, 15999, 'b');
    expect(getNodeByQuery(cluster, query([a, b])).code).to.equal('crossslot');
    expect(getNodeByQuery(cluster, query([`{${a}}x`, `{${a}}y`, a])).code).to.equal('none');
    expect(getNodeByQuery(cluster, query([keyIn(16000, 16383)])).code).to.equal('unbound');
    cluster.state.state = 'fail';
    expect(getNodeByQuery(cluster, query([a])).code).to.equal('down');
    expect(getNodeByQuery(cluster, query([a], { allowReadsWhenDown: true })).code).to.equal('none');
    expect(getNodeByQuery(cluster, query([a], { allowReadsWhenDown: true }, true)).code).to.equal('down-ro');
    expect(redirectError('crossslot', null, 0, 'ip')).to.equal("CROSSSLOT Keys in request don't hash to the same slot");
    expect(redirectError('down', null, 0, 'ip')).to.equal('CLUSTERDOWN The cluster is down');
    expect(redirectError('down-ro', null, 0, 'ip')).to.equal('CLUSTERDOWN The cluster is down and only accepts read commands');
    expect(redirectError('unbound', null, 0, 'ip')).to.equal('CLUSTERDOWN Hash slot not served');
  });

  it('a migrating slot: present keys here, missing keys ASK, a mix TRYAGAIN; MIGRATE stays local', () => {
    const { cluster, other } = table();
    const k1 = keyIn(0, 8191, 'm');
    const slot = keyHashSlot(k1);
    const k2 = `{${k1}}2`;
    cluster.state.setMigrating(slot, other);
    expect(getNodeByQuery(cluster, query([k1], { keyExists: () => true })).code).to.equal('none');
    const ask = getNodeByQuery(cluster, query([k1]));
    expect(ask).to.deep.include({ node: other, code: 'ask' });
    expect(redirectError(ask.code, ask.node, ask.slot, 'ip')).to.equal(`ASK ${slot} 127.0.0.2:7001`);
    expect(getNodeByQuery(cluster, query([k1, k2], { keyExists: (k) => k === k1 })).code).to.equal('unstable');
    expect(getNodeByQuery(cluster, query([k1], { isMigrate: true })).code).to.equal('none');
    expect(redirectError('unstable', null, 0, 'ip')).to.equal('TRYAGAIN Multiple keys request during rehashing of slot');
  });

  it('an importing slot serves only after ASKING (or RESTORE-ASKING)', () => {
    const { cluster, other } = table();
    const k = keyIn(8192, 15999, 'i');
    const slot = keyHashSlot(k);
    cluster.state.setImporting(slot, other);
    expect(getNodeByQuery(cluster, query([k])).code).to.equal('moved');
    expect(getNodeByQuery(cluster, query([k], { clientAsking: true })).code).to.equal('none');
    expect(getNodeByQuery(cluster, query([k], { askingCommand: true })).code).to.equal('none');
    expect(getNodeByQuery(cluster, query([k, `{${k}}b`], { clientAsking: true, keyExists: (x) => x === k })).code).to.equal('unstable');
  });

  it('READONLY reads on a replica of the owner are served; writes still MOVED', () => {
    const { cluster, other } = table();
    const me = cluster.myself;
    cluster.state.delNodeSlots(me);
    me.flags = NodeFlag.MYSELF | NodeFlag.SLAVE;
    me.replicaOf = other;
    const k = keyIn(8192, 15999, 'r');
    expect(getNodeByQuery(cluster, query([k])).code).to.equal('moved');
    expect(getNodeByQuery(cluster, query([k], { clientReadonly: true })).code).to.equal('none');
    expect(getNodeByQuery(cluster, query([k], { clientReadonly: true }, true)).code).to.equal('moved');
  });
});

describe('cluster slot index', () => {
  it('counts and lists keys per slot', () => {
    const idx = new SlotIndex();
    idx.add('{t}a');
    idx.add('{t}b');
    idx.add('{t}a');
    idx.add('other');
    const slot = keyHashSlot('t');
    expect(idx.count(slot)).to.equal(2);
    expect(idx.keys(slot, 1)).to.deep.equal(['{t}a']);
    expect(idx.keys(slot, 10)).to.deep.equal(['{t}a', '{t}b']);
    idx.remove('{t}a');
    idx.remove('missing');
    expect(idx.count(slot)).to.equal(1);
    idx.clear();
    expect(idx.count(slot)).to.equal(0);
  });
});
