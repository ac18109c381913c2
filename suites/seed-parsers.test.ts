/** The parsers the seed scenarios read redis-cli output with, on the seeds' own output. */
import { expect } from 'chai';
import { parseInfo } from '../harness/src/observer/observer.js';
import { parseSentinelMaster } from '../harness/src/scenarios/seed-sentinel.js';
import { hostsWithSeveralMasters, parseClusterNodes } from '../harness/src/scenarios/seed-cluster.js';
import { shipped } from './lib/params.js';

describe('seed scenario parsers', () => {
  it('reads master0 from INFO sentinel as the seed prints it', () => {
    const info = parseInfo('# Sentinel\r\nsentinel_masters:1\r\nsentinel_tilt:0\r\nmaster0:name=master01,status=ok,address=192.168.9.96:6379,slaves=1,sentinels=1\r\n');
    expect(parseSentinelMaster(info)).to.deep.equal({ name: 'master01', status: 'ok', address: '192.168.9.96:6379', slaves: '1', sentinels: '1' });
    expect(parseSentinelMaster(parseInfo('# Sentinel\r\nsentinel_masters:0\r\n'))).to.equal(undefined);
  });

  it('reads CLUSTER NODES as the seed prints it after redis1 failed', () => {
    const text = [
      '182e5cffc9c31c231de69ddbaf507ec1fe17bb09 192.168.9.51:6382@16382 slave,fail d499af3672b3063c7239572ec311ad3160f280ae 1569509904727 1569509900000 4 connected',
      '485ffb786e9763955e6f10ffc59247690ad9bc11 192.168.9.53:6381@16381 master - 0 1569510017272 7 connected 0-5460',
      'e92cb96fd6c20db7509662a248902e3751ebe95f 192.168.9.51:6381@16381 master,fail - 1569509906731 1569509901721 1 connected',
      'd499af3672b3063c7239572ec311ad3160f280ae 192.168.9.52:6382@16382 myself,master - 0 1569510017000 2 connected 5461-10922',
    ].join('\n');
    const nodes = parseClusterNodes(text);
    expect(nodes.filter((n) => n.flags.includes('fail')).map((n) => n.addr)).to.deep.equal(['192.168.9.51:6382', '192.168.9.51:6381']);
    expect(nodes[1]).to.deep.include({ addr: '192.168.9.53:6381', masterId: '-', slots: '0-5460' });
    expect(nodes[0]!.masterId).to.equal('d499af3672b3063c7239572ec311ad3160f280ae');
  });

  it('flags a host holding two masters after a failover (seed 004\'s warning), and only then', () => {
    const t = shipped('cluster-3x2');
    const roles = (masters: string[]): Map<string, { role: string }> => new Map(t.redis.map((r) => [r.name, { role: masters.includes(r.name) ? 'master' : r.name === 'm1' ? 'down' : 'replica' }]));
    expect(hostsWithSeveralMasters(t, roles(['m1', 'm2', 'm3']))).to.deep.equal({});
    // The seed: redis1 down, S1 on redis3 promoted next to M3.
    expect(hostsWithSeveralMasters(t, roles(['s1', 'm2', 'm3']))).to.deep.equal({ redis3: ['m3', 's1'] });
  });
});
