import { expect } from 'chai';
import path from 'node:path';
import { generateConfigs, type ConfigLayout } from '../src/config-gen/index.js';
import { loadTopology } from '../src/topology/load.js';
import { shippedTopologiesDir } from '../src/topology/paths.js';
import type { Topology } from '../src/topology/model.js';

// Host names stand in for addresses so the output compares line for line with the seed's text.
const layout: ConfigLayout = {
  address: (h) => h,
  instanceDir: (n) => `/run/rhc/instances/${n}`,
  announce: false,
};

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

function file(t: Topology, instance: string, l = layout): string {
  const f = generateConfigs(t, l).find((x) => x.instance === instance);
  if (!f) throw new Error(`no file for ${instance}`);
  return f.content;
}

describe('config generation', () => {
  const sh = loadTopology(path.join(shippedTopologiesDir(), 'sentinel-haproxy.yml'));

  it('writes the seed sentinel.conf directives', () => {
    const conf = lines(file(sh, 'sentinel1'));
    const seed = [
      'sentinel monitor master01 redis1 6379 1',
      'sentinel down-after-milliseconds master01 3000',
      'sentinel failover-timeout master01 6000',
      'sentinel parallel-syncs master01 1',
      'sentinel auth-pass master01 TestPass',
    ];
    expect(conf.filter((l) => l.startsWith('sentinel '))).to.deep.equal(seed);
    expect(conf).to.include.members(['bind redis3', 'port 26379', 'daemonize no', 'dir /run/rhc/instances/sentinel1']);
  });

  it('writes the seed redis.conf for master and replica, never daemonized, with its own dir and no snapshots', () => {
    const m = lines(file(sh, 'redis1'));
    const r = lines(file(sh, 'redis2'));
    expect(m).to.include.members(['requirepass TestPass', 'bind redis1', 'port 6379', 'daemonize no', 'save ""', 'dir /run/rhc/instances/redis1/data']);
    expect(m.some((l) => l.startsWith('replicaof'))).to.equal(false);
    expect(r).to.include.members(['replicaof redis1 6379', 'masterauth TestPass', 'requirepass TestPass', 'bind redis2']);
    expect([...m, ...r].some((l) => /^protected-mode/.test(l))).to.equal(false);
  });

  it('keeps the seed HAProxy backend: tcp-check AUTH/PING/info replication/role:master/QUIT and one server per Redis', () => {
    const t = structuredClone(sh);
    t.haproxy!.check.interMs = 3000;
    const cfg = lines(file(t, 'haproxy'));
    const seedBackend = [
      'backend bk_redis',
      'mode tcp',
      'option tcp-check',
      'tcp-check connect',
      'tcp-check send AUTH\\ TestPass\\r\\n',
      'tcp-check expect string +OK',
      'tcp-check send PING\\r\\n',
      'tcp-check expect string +PONG',
      'tcp-check send info\\ replication\\r\\n',
      'tcp-check expect string role:master',
      'tcp-check send QUIT\\r\\n',
      'tcp-check expect string +OK',
    ];
    const at = cfg.indexOf('backend bk_redis');
    expect(cfg.slice(at, at + seedBackend.length)).to.deep.equal(seedBackend);
    const servers = cfg.slice(at + seedBackend.length);
    expect(servers).to.have.length(2);
    expect(servers[0].startsWith('server Redis1 redis1:6379 check inter 3s')).to.equal(true);
    expect(servers[1].startsWith('server Redis2 redis2:6379 check inter 3s')).to.equal(true);
    const front = cfg.indexOf('frontend ft_redis');
    expect(cfg.slice(front, front + 4)).to.deep.equal(['frontend ft_redis', 'bind redis3:6379 name redis', 'mode tcp', 'default_backend bk_redis']);
    expect(cfg).to.include.members(['timeout client 1h', 'timeout server 1h']);
  });

  it('writes the seed cluster template for every node of cluster-3x2', () => {
    const t = loadTopology(path.join(shippedTopologiesDir(), 'cluster-3x2.yml'));
    for (const r of t.redis) {
      const c = lines(file(t, r.name));
      expect(c, r.name).to.include.members([
        `bind ${r.host}`, 'protected-mode no', `port ${r.port}`, 'cluster-enabled yes', `cluster-config-file nodes-${r.port}.conf`, 'cluster-node-timeout 15000',
      ]);
    }
    const ci = loadTopology(path.join(shippedTopologiesDir(), 'cluster-3x2.yml'), { profile: 'ci' });
    expect(lines(file(ci, 'm1'))).to.include('cluster-node-timeout 3000');
  });

  it('is identical for both targets', () => {
    const asRedis = structuredClone(sh);
    const asRef = structuredClone(sh);
    for (const r of asRedis.redis) r.target = 'redis';
    for (const r of asRef.redis) r.target = 'reference';
    for (const s of asRef.sentinels) s.target = 'reference';
    expect(generateConfigs(asRef, layout)).to.deep.equal(generateConfigs(asRedis, layout));
  });

  it('announces its own address only on loopback aliases, and appends extra directives last', () => {
    const t = structuredClone(sh);
    t.redis[1].config = { 'repl-timeout': '5', 'rename-command': ['FLUSHALL ""', 'DEBUG ""'] };
    const alias = lines(file(t, 'redis2', { ...layout, announce: true }));
    expect(alias).to.include('replica-announce-ip redis2');
    expect(lines(file(t, 'redis2'))).to.not.include('replica-announce-ip redis2');
    expect(alias.slice(-3)).to.deep.equal(['repl-timeout 5', 'rename-command FLUSHALL ""', 'rename-command DEBUG ""']);
    expect(lines(file(sh, 'sentinel1', { ...layout, announce: true }))).to.include('sentinel announce-ip redis3');
  });
});
