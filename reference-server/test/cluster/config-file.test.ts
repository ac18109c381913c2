import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConfigError, atoi, loadConfig, readConfigFile, saveConfig, serializeConfig, strtoull } from '../../cluster/config-file.js';
import { ClusterNode, ClusterState, NodeFlag } from '../../cluster/nodes.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function loaded(text: string): ClusterState {
  const state = new ClusterState();
  loadConfig(state, text, 5000);
  return state;
}

function failure(text: string): ClusterConfigError {
  try {
    loaded(text);
  } catch (e) {
    expect(e).to.be.instanceOf(ClusterConfigError);
    return e as ClusterConfigError;
  }
  throw new Error('expected the load to fail');
}

describe('cluster nodes.conf', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nodesconf-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sample =
    `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461-<-${B}] [16383->-${B}]\n` +
    `${B} 127.0.0.1:7001@17001,host-b master - 0 1700000000000 2 connected 5461-16383\n` +
    `${C} 127.0.0.1:7002@17002 slave,fail ${B} 1700000000000 1700000000000 2 disconnected\n` +
    'vars currentEpoch 6 lastVoteEpoch 4\n';

  it('loads what Redis writes: ids, addresses, flags, master links, slots, open slots, vars', () => {
    const s = loaded(sample);
    expect(s.myself.name).to.equal(A);
    expect(s.currentEpoch).to.equal(6n);
    expect(s.lastVoteEpoch).to.equal(4n);
    const b = s.lookup(B)!;
    const c = s.lookup(C)!;
    expect(b.hostname).to.equal('host-b');
    expect(b.cport).to.equal(17001);
    expect(b.pongReceived).to.equal(5000);
    expect(c.replicaOf).to.equal(b);
    expect(b.replicas).to.deep.equal([c]);
    expect(c.flags).to.equal(NodeFlag.SLAVE | NodeFlag.FAIL);
    expect(c.failTime).to.equal(5000);
    expect(c.configEpoch).to.equal(0n);
    expect(s.slots[0]).to.equal(s.myself);
    expect(s.slots[5461]).to.equal(b);
    expect(s.importingFrom[5461]).to.equal(b);
    expect(s.migratingTo[16383]).to.equal(b);
    expect(s.myself.numSlots).to.equal(5461);
  });

  it('writes back the same lines (ping/pong times become load time) and skips handshake nodes', () => {
    const s = loaded(sample);
    const hs = new ClusterNode('d'.repeat(40), NodeFlag.HANDSHAKE);
    s.addNode(hs);
    const text = serializeConfig(s);
    // No link exists yet after a load, so every other node reads disconnected until the bus connects.
    expect(text).to.equal(sample.replace(/1700000000000/g, '5000').replace('2 connected 5461', '2 disconnected 5461'));
  });

  it('saves in place: a shorter payload is padded then truncated, and the file reloads', () => {
    const path = join(dir, 'nodes.conf');
    writeFileSync(path, 'x'.repeat(5000));
    const s = loaded(sample);
    saveConfig(path, s, true);
    const text = readFileSync(path, 'latin1');
    expect(statSync(path).size).to.equal(text.length);
    expect(text).to.equal(serializeConfig(s));
    const again = new ClusterState();
    loadConfig(again, readConfigFile(path)!, 5000);
    expect(serializeConfig(again)).to.equal(text);
  });

  it('treats a missing or empty file as no configuration', () => {
    expect(readConfigFile(join(dir, 'none.conf'))).to.equal(null);
    writeFileSync(join(dir, 'empty.conf'), '');
    expect(readConfigFile(join(dir, 'empty.conf'))).to.equal(null);
    const err = (() => { try { readConfigFile(dir); } catch (e) { return e as ClusterConfigError; } return null; })();
    expect(err).to.be.instanceOf(ClusterConfigError);
    expect(err!.message).to.equal(`Loading the cluster node config from ${dir}: Is a directory`);
  });

  it('reads the old address format without @cport as port + 10000, and skips blank lines', () => {
    const s = loaded(`\n${A} 10.0.0.1:6380 myself,master - 0 0 0 connected\n\n`);
    expect(s.myself.cport).to.equal(16380);
    expect(s.myself.ip).to.equal('10.0.0.1');
  });

  it('warns about unknown vars but keeps loading', () => {
    const state = new ClusterState();
    const r = loadConfig(state, `${A} :0@0 myself,master - 0 0 0 connected\nvars currentEpoch 3 futureVar 1\n`);
    expect(r.warnings).to.deep.equal(["Skipping unknown cluster config variable 'futureVar'"]);
    expect(state.currentEpoch).to.equal(3n);
  });

  it('raises currentEpoch to the largest epoch in the file', () => {
    const s = loaded(`${A} :0@0 myself,master - 0 0 9 connected\nvars currentEpoch 3 lastVoteEpoch 0\n`);
    expect(s.currentEpoch).to.equal(9n);
  });

  const corrupt: Array<[string, string]> = [
    ['a line with fewer than 8 fields', `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1\n`],
    ['an invalid node id', `${A.toUpperCase()} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected\n`],
    ['an address without a colon', `${A} localhost myself,master - 0 0 1 connected\n`],
    ['no myself line', `${B} 127.0.0.1:7001@17001 master - 0 0 1 connected\n`],
    ['a slot out of range', `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-16384\n`],
    ['an invalid master id', `${A} 127.0.0.1:7000@17000 myself,slave xyz 0 0 1 connected\n`],
    ['a vars line with an odd pair count', `${A} :0@0 myself,master - 0 0 0 connected\nvars currentEpoch\n`],
    ['unbalanced quotes', `${A} "127.0.0.1:7000@17000 myself,master - 0 0 1 connected\n`],
    ['an open slot with a bad node id', `${A} :0@0 myself,master - 0 0 0 connected [5-<-xyz]\n`],
  ];
  for (const [what, text] of corrupt) {
    it(`refuses ${what} with Redis's message and exit 1`, () => {
      const e = failure(text);
      expect(e.logLines).to.deep.equal(['Unrecoverable error: corrupted cluster config file.']);
      expect(e.ending).to.equal('exit1');
    });
  }

  it('panics on an unknown flag, as serverPanic does', () => {
    const e = failure(`${A} :0@0 myself,master,bogus - 0 0 0 connected\n`);
    expect(e.ending).to.equal('abort');
    expect(e.logLines).to.include('Guru Meditation: Unknown flag in redis cluster config file #cluster.c:292');
  });

  it('asserts on two myself lines', () => {
    const e = failure(`${A} :0@0 myself,master - 0 0 0 connected\n${B} :0@0 myself,master - 0 0 0 connected\n`);
    expect(e.ending).to.equal('abort');
    expect(e.logLines[1]).to.equal("==> cluster.c:271 'server.cluster->myself == NULL' is not true");
  });

  it('parses numbers like atoi and strtoull', () => {
    expect(atoi('  42abc')).to.equal(42);
    expect(atoi('abc')).to.equal(0);
    expect(atoi('-7')).to.equal(-7);
    expect(strtoull('18446744073709551615')).to.equal(18446744073709551615n);
    expect(strtoull('x')).to.equal(0n);
    expect(strtoull('-1')).to.equal(18446744073709551615n);
  });
});
