import { expect } from 'chai';
import { ClusterNode, ClusterState, NodeFlag, formatNodeFlags, isValidNodeName, randomNodeName } from '../../cluster/nodes.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function table(): { state: ClusterState; me: ClusterNode; b: ClusterNode; c: ClusterNode } {
  const state = new ClusterState();
  const me = new ClusterNode(A, NodeFlag.MYSELF | NodeFlag.MASTER);
  me.ip = '127.0.0.1';
  me.port = 7000;
  me.cport = 17000;
  const b = new ClusterNode(B, NodeFlag.MASTER);
  b.ip = '127.0.0.1';
  b.port = 7001;
  b.cport = 17001;
  const c = new ClusterNode(C, NodeFlag.SLAVE);
  c.ip = '127.0.0.1';
  c.port = 7002;
  c.cport = 17002;
  for (const n of [me, b, c]) state.addNode(n);
  state.myself = me;
  return { state, me, b, c };
}

describe('cluster node table', () => {
  it('makes 40-char hex ids and validates ids as verifyClusterNodeId', () => {
    const id = randomNodeName();
    expect(id).to.match(/^[0-9a-f]{40}$/);
    expect(isValidNodeName(id)).to.equal(true);
    expect(isValidNodeName('z'.repeat(40))).to.equal(true);
    expect(isValidNodeName('A'.repeat(40))).to.equal(false);
    expect(isValidNodeName('a'.repeat(39))).to.equal(false);
  });

  it('prints flags in Redis order, noflags when none, never meet/migrate_to', () => {
    expect(formatNodeFlags(NodeFlag.MASTER | NodeFlag.MYSELF)).to.equal('myself,master');
    expect(formatNodeFlags(NodeFlag.SLAVE | NodeFlag.FAIL | NodeFlag.PFAIL | NodeFlag.NOFAILOVER)).to.equal('slave,fail?,fail,nofailover');
    expect(formatNodeFlags(NodeFlag.HANDSHAKE | NodeFlag.NOADDR | NodeFlag.MEET)).to.equal('handshake,noaddr');
    expect(formatNodeFlags(NodeFlag.MEET | NodeFlag.MIGRATE_TO)).to.equal('noflags');
  });

  it('keeps slot bits, counts and the owner table together', () => {
    const { state, me, b } = table();
    expect(state.addSlot(me, 0)).to.equal(true);
    expect(state.addSlot(b, 0)).to.equal(false);
    expect(me.hasSlot(0)).to.equal(true);
    expect(me.slots[0]).to.equal(1);
    state.addSlot(me, 9);
    expect(me.slots[1]).to.equal(2);
    expect(me.numSlots).to.equal(2);
    expect(state.delSlot(0)).to.equal(true);
    expect(state.delSlot(0)).to.equal(false);
    expect(me.numSlots).to.equal(1);
    expect(state.slots[9]).to.equal(me);
  });

  it('describes nodes as CLUSTER NODES does', () => {
    const { state, me, b, c } = table();
    for (let s = 0; s <= 5460; s++) state.addSlot(me, s);
    state.addSlot(me, 6000);
    for (let s = 5461; s <= 5999; s++) state.addSlot(b, s);
    for (let s = 6001; s <= 16383; s++) state.addSlot(b, s);
    c.replicaOf = b;
    b.addReplica(c);
    me.configEpoch = 1n;
    b.configEpoch = 2n;
    c.configEpoch = 0n;
    b.link = { close() {} };
    b.pingSent = 0;
    b.pongReceived = 1700000000123;
    b.hostname = 'host-b';
    state.setMigrating(3, b);
    state.setImporting(7000, b);
    const text = state.describeNodes();
    expect(text.split('\n')).to.deep.equal([
      `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 6000 [3->-${B}] [7000-<-${B}]`,
      `${B} 127.0.0.1:7001@17001,host-b master - 0 1700000000123 2 connected 5461-5999 6001-16383`,
      `${C} 127.0.0.1:7002@17002 slave ${B} 0 0 2 disconnected`,
      '',
    ]);
    expect(state.describeNodes(NodeFlag.SLAVE)).to.not.include(C);
    c.pport = 6379;
    expect(state.describeNode(c, true)).to.include('127.0.0.1:6379@17002');
  });

  it('myself\'s open slots in slot order, whatever order they opened in; closed ones and slot moves show at once', () => {
    const { state, me, b } = table();
    for (let s = 0; s <= 99; s++) state.addSlot(me, s);
    for (let s = 100; s <= 16383; s++) state.addSlot(b, s);
    state.setImporting(9000, b);
    state.setMigrating(42, b);
    state.setMigrating(7, b);
    expect(state.describeNode(me)).to.match(new RegExp(` 0-99 \\[7->-${B}\\] \\[42->-${B}\\] \\[9000-<-${B}\\]$`));
    state.setMigrating(42, null);
    state.setImporting(9000, null);
    expect(state.describeNode(me)).to.match(new RegExp(` 0-99 \\[7->-${B}\\]$`));
    // The slot runs of a save are reused until the slot table changes; a moved slot shows in the next description.
    state.delSlot(7);
    state.addSlot(b, 7);
    state.setMigrating(7, null);
    expect(state.describeNodes().split('\n').slice(0, 2)).to.deep.equal([
      `${A} 127.0.0.1:7000@17000 myself,master - 0 0 0 connected 0-6 8-99`,
      `${B} 127.0.0.1:7001@17001 master - 0 0 0 disconnected 7 100-16383`,
    ]);
    state.closeAllSlots();
    state.setImporting(5, b);
    state.closeAllSlots();
    expect(state.describeNode(me)).to.not.include('[');
  });

  it('flags a master gaining a replica as a migration target and unlinks on delete', () => {
    const { state, me, b, c } = table();
    c.replicaOf = b;
    expect(b.addReplica(c)).to.equal(true);
    expect(b.addReplica(c)).to.equal(false);
    expect(b.flags & NodeFlag.MIGRATE_TO).to.equal(NodeFlag.MIGRATE_TO);
    state.addSlot(b, 100);
    b.addFailureReport(me, 1000);
    c.addFailureReport(b, 1000);
    let closed = 0;
    b.link = { close: () => closed++ };
    state.deleteNode(b, 30000, 2000);
    expect(state.lookup(B)).to.equal(undefined);
    expect(state.slots[100]).to.equal(null);
    expect(c.replicaOf).to.equal(null);
    expect(c.failReports).to.have.length(0);
    expect(closed).to.equal(1);
  });

  it('expires failure reports after their validity', () => {
    const { me, b, c } = table();
    expect(c.addFailureReport(me, 1000)).to.equal(true);
    expect(c.addFailureReport(me, 2000)).to.equal(false);
    c.addFailureReport(b, 1500);
    expect(c.failureReportCount(1000, 2500)).to.equal(2);
    expect(c.failureReportCount(1000, 2600)).to.equal(1);
    expect(c.failureReportCount(1000, 3001)).to.equal(0);
  });

  it('renames a handshake node and computes the max epoch', () => {
    const { state, b } = table();
    state.renameNode(b, 'd'.repeat(40));
    expect(state.lookup('d'.repeat(40))).to.equal(b);
    expect(state.lookup(B)).to.equal(undefined);
    b.configEpoch = 7n;
    state.currentEpoch = 5n;
    expect(state.maxEpoch()).to.equal(7n);
    state.currentEpoch = 9n;
    expect(state.maxEpoch()).to.equal(9n);
  });
});
