import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { embeddedTopology, loadTopology, loadTopologyText, TopologyError, validateTopologyFile } from '../src/topology/load.js';
import { EMBEDDED_DEFAULT_YAML } from '../src/topology/embedded.js';
import { shippedTopologiesDir } from '../src/topology/paths.js';

function problemsOf(text: string, file = 't.yml', profile?: string): string[] {
  try {
    loadTopologyText(text, file, profile ? { profile } : {});
  } catch (e) {
    if (e instanceof TopologyError) return e.problems;
    throw e;
  }
  return [];
}

const SENTINEL_BASE = `name: t
kind: sentinel
redis:
  - name: r1
    host: a
  - name: r2
    host: b
    replicaof: r1
sentinels:
  - name: s1
    host: c
`;

describe('topology loading', () => {
  const dir = shippedTopologiesDir();

  it('accepts every shipped topology and every profile, and each names the schema for editors', () => {
    const shipped = readdirSync(dir).filter((f) => f.endsWith('.yml'));
    expect(shipped).to.include.members(['sentinel-haproxy.yml', 'sentinel-3.yml', 'cluster-3x2.yml', 'cluster-6.yml']);
    for (const f of shipped) {
      const file = path.join(dir, f);
      expect(readFileSync(file, 'utf8').split('\n')[0]).to.equal('# yaml-language-server: $schema=./schema.json');
      const t = validateTopologyFile(file);
      expect(t.profiles, f).to.include('ci');
    }
  });

  it('fills the seed values and defaults into the sentinel-haproxy model', () => {
    const t = loadTopology(path.join(dir, 'sentinel-haproxy.yml'));
    expect(t.hosts.map((h) => h.name)).to.deep.equal(['redis1', 'redis2', 'redis3']);
    expect(t.redis.map((r) => [r.name, r.host, r.port, r.replicaof ?? null, r.password, r.masterauth])).to.deep.equal([
      ['redis1', 'redis1', 6379, null, 'TestPass', 'TestPass'],
      ['redis2', 'redis2', 6379, 'redis1', 'TestPass', 'TestPass'],
    ]);
    const s = t.sentinels[0];
    expect([s.host, s.masterName, s.monitors, s.quorum, s.downAfterMs, s.failoverTimeoutMs, s.parallelSyncs, s.authPass, s.target])
      .to.deep.equal(['redis3', 'master01', 'redis1', 1, 3000, 6000, 1, 'TestPass', 'redis']);
    expect(t.haproxy).to.include({ host: 'redis3', port: 6379 });
    expect(t.haproxy!.check).to.include({ interMs: 1000, rise: 2, fall: 3, roleCheck: true });
  });

  it('merges a profile over the base, list items by name', () => {
    const base = loadTopology(path.join(dir, 'cluster-3x2.yml'));
    const ci = loadTopology(path.join(dir, 'cluster-3x2.yml'), { profile: 'ci' });
    expect(base.cluster!.nodeTimeoutMs).to.equal(15000);
    expect(ci.cluster!.nodeTimeoutMs).to.equal(3000);
    expect(ci.cluster!.nodes).to.deep.equal(['m1', 'm2', 'm3', 's2', 's3', 's1']);
    expect(ci.profile).to.equal('ci');
    const merged = loadTopologyText(`${SENTINEL_BASE}profiles:\n  fast:\n    sentinels:\n      - name: s1\n        downAfterMs: 1000\n`, 't.yml', { profile: 'fast' });
    expect(merged.sentinels[0]).to.include({ name: 's1', host: 'c', downAfterMs: 1000 });
  });

  it('keeps the profile patches of the schema in step with the full definitions', () => {
    const schema = JSON.parse(readFileSync(path.join(dir, 'schema.json'), 'utf8')) as { definitions: Record<string, { properties: object; required?: string[] }> };
    for (const k of ['redis', 'sentinel', 'haproxy']) {
      expect(schema.definitions[`${k}Patch`].properties, k).to.deep.equal(schema.definitions[k].properties);
    }
    expect(schema.definitions.redisPatch.required).to.deep.equal(['name']);
  });

  it('embeds the sentinel-haproxy-reference file as the default: reference Redis and reference Sentinel behind HAProxy', () => {
    expect(EMBEDDED_DEFAULT_YAML).to.equal(readFileSync(path.join(dir, 'sentinel-haproxy-reference.yml'), 'utf8'));
    const t = embeddedTopology();
    expect(t.redis.every((r) => r.target === 'reference')).to.equal(true);
    expect(t.sentinels.every((s) => s.target === 'reference')).to.equal(true);
    expect(t.haproxy).to.not.equal(undefined);
    // The same deployment as the seed's file, only the Sentinel target differs.
    const seed = loadTopology(path.join(dir, 'sentinel-haproxy.yml'));
    expect(t.sentinels.map((s) => ({ ...s, target: 'redis' }))).to.deep.equal(seed.sentinels);
  });

  describe('refuses a bad topology with file:line:column: field: expectation', () => {
    it('YAML syntax', () => {
      const p = problemsOf('name: t\nkind: [sentinel\nredis: []\n');
      expect(p).to.have.length.greaterThan(0);
      expect(p[0]).to.match(/^t\.yml:\d+:\d+: \(yaml syntax\): /);
    });

    it('unknown field, at the key', () => {
      expect(problemsOf(SENTINEL_BASE.replace('  - name: r2\n', '  - name: r2\n    prot: 1\n'))).to.deep.equal([
        't.yml:7:5: redis[1].prot: unknown field; expected one of name, host, port, replicaof, password, masterauth, config, configFile, target',
      ]);
    });

    it('wrong type and out of range, at the value', () => {
      const p = problemsOf(SENTINEL_BASE.replace('    host: a\n', '    host: a\n    port: "6379"\n').replace('    host: c\n', '    host: c\n    quorum: 0\n'));
      expect(p).to.deep.equal([
        't.yml:6:11: redis[0].port: expected an integer, got string',
        't.yml:13:13: sentinels[0].quorum: expected a number >= 1',
      ]);
    });

    it('missing required field and bad enum', () => {
      const p = problemsOf('name: t\nkind: sentinal\n');
      expect(p).to.deep.equal([
        't.yml:2:7: kind: expected one of "sentinel", "cluster", "standalone"',
        't.yml:1:1: (document): missing required field "redis"',
      ]);
    });

    it('a replica of a missing master', () => {
      expect(problemsOf(SENTINEL_BASE.replace('replicaof: r1', 'replicaof: r9'))).to.deep.equal([
        't.yml:8:16: redis[1].replicaof: expected the name of a Redis instance (r1, r2); "r9" does not exist',
      ]);
    });

    it('a port clash on a host', () => {
      expect(problemsOf(SENTINEL_BASE.replace('    host: b\n', '    host: a\n'))).to.deep.equal([
        't.yml:6:5: redis[1].port: expected a free port on host a; port 6379 is already used by r1',
      ]);
    });

    it('a cluster with fewer than 3 masters', () => {
      const text = 'name: c\nkind: cluster\nredis:\n' + [1, 2, 3, 4].map((i) => `  - { name: n${i}, host: h, port: ${7000 + i} }\n`).join('') + 'cluster:\n  nodes: [n1, n2, n3, n4]\n';
      expect(problemsOf(text)).to.deep.equal([
        't.yml:9:10: cluster.nodes: expected at least 3 masters to cover all 16384 slots; 4 nodes with 1 replica(s) per master make 2',
      ]);
    });

    it('replicas that do not fit', () => {
      const text = 'name: c\nkind: cluster\nredis:\n' + [1, 2, 3, 4, 5, 6].map((i) => `  - { name: n${i}, host: h, port: ${7000 + i} }\n`).join('') + 'cluster:\n  replicasPerMaster: 2\n';
      expect(problemsOf(text)).to.deep.equal([
        't.yml:11:22: cluster.replicasPerMaster: expected at least 3 masters to cover all 16384 slots; 6 nodes with 2 replica(s) per master make 2',
      ]);
    });

    it('a cluster bus port that clashes with another instance', () => {
      const text = 'name: c\nkind: cluster\nredis:\n' + [0, 1, 2, 3, 4, 5].map((i) => `  - { name: n${i}, host: h, port: ${7000 + i} }\n`).join('') + '  - { name: x, host: h, port: 17002 }\n';
      expect(problemsOf(text)).to.have.length(1);
      expect(problemsOf(text)[0]).to.equal('t.yml:6:32: redis[2].port: expected a free port on host h; cluster bus port 17002 is already used by x');
    });

    it('a problem inside a selected profile points into the profile', () => {
      const text = `${SENTINEL_BASE}profiles:\n  bad:\n    redis:\n      - name: r2\n        replicaof: nope\n`;
      expect(problemsOf(text, 't.yml', 'bad')).to.deep.equal([
        't.yml:16:20: redis[1].replicaof: expected the name of a Redis instance (r1, r2); "nope" does not exist',
      ]);
      expect(problemsOf(text, 't.yml', 'other')[0]).to.equal('t.yml:1:1: profiles: no profile "other"; expected one of bad');
      const adds = `${SENTINEL_BASE}profiles:\n  more:\n    redis:\n      - name: r3\n        replicaof: r1\n`;
      expect(problemsOf(adds, 't.yml', 'more')).to.deep.equal(['t.yml:15:9: redis[2]: missing required field "host"']);
    });

    it('a missing file', () => {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'rhc-topo-'));
      try {
        expect(() => loadTopology(path.join(tmp, 'none.yml'))).to.throw(TopologyError, /none\.yml: cannot read the topology: ENOENT/);
        writeFileSync(path.join(tmp, 'a.yml'), SENTINEL_BASE.replace('    host: c\n', '    host: c\n    configFile: ./mine.conf\n'));
        expect(() => loadTopology(path.join(tmp, 'a.yml'))).to.throw(TopologyError, /a\.yml:12:17: sentinels\[0\]\.configFile: expected an existing file/);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
});
