import { expect } from 'chai';
import { LatencyMonitor } from '../server/latency-monitor.js';
import { highestEquivalent, LatencyHistogram } from '../server/latency-histogram.js';
import { RespClient } from './util/resp-client.js';
import { useBothServers } from './util/servers.js';

describe('latency monitor: event samples', () => {
  it('keeps one sample per second (the highest), the all-time max, and 160 seconds at most', () => {
    let now = 1000;
    const m = new LatencyMonitor(() => now);
    m.add('command', 120);
    m.add('command', 300);
    m.add('command', 150);
    expect(m.history('command')).to.deep.equal([[1000, 300]]);
    for (let i = 1; i <= 200; i++) {
      now = 1000 + i;
      m.add('command', 100 + i);
    }
    const h = m.history('command')!;
    expect(h).to.have.length(160);
    expect(h[0]).to.deep.equal([1041, 141]);
    expect(h[159]).to.deep.equal([1200, 300]);
    expect(m.latest()).to.deep.equal([['command', 1200, 300, 300]]);
    expect(m.history('nope')).to.equal(undefined);
  });

  it('RESET drops the named events (counting those that existed) or all of them', () => {
    const m = new LatencyMonitor(() => 5);
    m.add('command', 1);
    m.add('fast-command', 2);
    m.add('expire-cycle', 3);
    expect(m.reset('nope')).to.equal(0);
    expect(m.reset('command')).to.equal(1);
    expect(m.reset()).to.equal(2);
    expect(m.latest()).to.deep.equal([]);
  });

  it('GRAPH draws latency.c\'s filled sparkline with the age labels under it', () => {
    let now = 100;
    const m = new LatencyMonitor(() => now);
    m.add('command', 100);
    now = 101;
    m.add('command', 200);
    now = 102;
    m.add('command', 300);
    // Steps 0, 6 and 11 of 12 (3 chars x 4 rows), labels 2s, 1s, 0s written downwards after one blank row.
    expect(m.graph('command')).to.equal(
      `command - high 300 ms, low 100 ms (all time high 300 ms)\n${'-'.repeat(80)}\n  #\n _|\n ||\n_||\n   \n210\nsss\n`,
    );
    expect(m.graph('other')).to.equal(undefined);
  });

  it('DOCTOR: disabled, quiet, and the advice for command spikes', () => {
    const m = new LatencyMonitor(() => 10);
    const settings = { threshold: 0, slowlogSlowerThan: 10000, hz: 10 };
    expect(m.doctor(settings)).to.match(/^I'm sorry, Dave, I can't do that\. Latency monitoring is disabled/);
    expect(m.doctor({ ...settings, threshold: 100 })).to.match(/^Dave, no latency spike was observed/);
    m.add('command', 250);
    const report = m.doctor({ ...settings, threshold: 100, slowlogSlowerThan: -1 });
    expect(report).to.contain('1. command: 1 latency spikes (average 250ms, mean deviation 0ms, period 1.00 sec). Worst all time event 250ms.\n');
    expect(report).to.contain("'CONFIG SET slowlog-log-slower-than 100000'");
  });
});

describe('latency histogram (HDR, 2 significant digits)', () => {
  it('reports percentiles and the CDF at the values Redis\'s HDR histogram gives', () => {
    const h = new LatencyHistogram();
    for (const us of [0, 0, 1, 2, 100]) h.record(us);
    expect(h.total).to.equal(5);
    // 1000 ns shares its slot with 1000..1003, 100000 with 99840..100351 (a 512-wide slot at that magnitude).
    expect(h.valueAtPercentile(50)).to.equal(1003);
    expect(h.valueAtPercentile(99)).to.equal(100351);
    expect(h.valueAtPercentile(0)).to.equal(1);
    expect(h.cdf()).to.deep.equal([[1, 3], [2, 4], [132, 5]]);
  });

  it('keeps every value within 1% of its slot and clamps to 1 ns .. 1 s', () => {
    for (let v = 1; v < 2_000_000; v = Math.ceil(v * 1.37)) {
      const hi = highestEquivalent(v);
      expect(hi).to.be.at.least(v);
      expect((hi - v) / v).to.be.below(0.01);
    }
    const h = new LatencyHistogram();
    h.record(5_000_000);
    expect(h.valueAtPercentile(100)).to.equal(highestEquivalent(1_000_000_000));
  });
});

describe('LATENCY against redis-server', function () {
  this.timeout(20000);
  const servers = useBothServers(['--enable-debug-command', 'yes']);

  /** Replies with every integer masked: times and measured latencies differ between any two runs. */
  async function transcript(port: number, script: string[][]): Promise<string[]> {
    const c = await RespClient.connect(port);
    try {
      const out: string[] = [];
      for (const argv of script) out.push(((await c.call(argv)) ?? 'timeout').replace(/:\d+\r\n/g, ':N\r\n'));
      return out;
    } finally {
      c.close();
    }
  }

  it('answers HELP, errors, DOCTOR, RESET, LATEST and HISTORY of a DEBUG SLEEP spike with redis-server\'s shapes and texts', async () => {
    const script = [
      ['LATENCY', 'HELP'], ['LATENCY', 'HELP', 'x'], ['LATENCY', 'NOPE'], ['LATENCY', 'GRAPH', 'command'],
      ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'LATEST'], ['LATENCY', 'DOCTOR'], ['LATENCY', 'RESET'],
      ['CONFIG', 'SET', 'latency-monitor-threshold', '50'], ['LATENCY', 'DOCTOR'],
      ['DEBUG', 'SLEEP', '0.1'], ['LATENCY', 'LATEST'], ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'RESET', 'command', 'x'],
      ['LATENCY', 'LATEST'], ['LATENCY', 'RESET'],
    ];
    const fromReal = await transcript(servers.real.port, script);
    expect(fromReal[11]).to.match(/^\*1\r\n\*4\r\n\$7\r\ncommand\r\n/);
    expect(await transcript(servers.ref.port, script)).to.deep.equal(fromReal);
  });

  it('HISTOGRAM reports calls and cumulative power-of-two buckets for the commands asked, subcommands included', async () => {
    const histo = async (port: number): Promise<{ raw: string; calls: Record<string, number>; buckets: number[] }> => {
      const c = await RespClient.connect(port);
      try {
        await c.call(['CONFIG', 'RESETSTAT']);
        await c.call(['SET', 'a', 'b']);
        await c.call(['SET', 'c', 'd']);
        await c.call(['CLIENT', 'ID']);
        const raw = (await c.call(['LATENCY', 'HISTOGRAM', 'set', 'client', 'blabla', 'get'])) ?? '';
        const calls: Record<string, number> = {};
        for (const m of raw.matchAll(/\$\d+\r\n([a-z|]+)\r\n\*4\r\n\$5\r\ncalls\r\n:(\d+)/g)) calls[m[1]!] = Number(m[2]);
        const buckets = [...raw.matchAll(/histogram_usec\r\n\*(\d+)\r\n((?::\d+\r\n)+)/g)].flatMap((m) => m[2]!.split('\r\n').filter((x) => x !== '').map((x) => Number(x.slice(1))));
        return { raw, calls, buckets };
      } finally {
        c.close();
      }
    };
    const r = await histo(servers.real.port);
    const f = await histo(servers.ref.port);
    expect(f.calls).to.deep.equal({ set: 2, 'client|id': 1 });
    expect(f.calls).to.deep.equal(r.calls);
    // Bucket bounds are HDR levels 2^k ns (k >= 10) at their highest equivalent value: 1, 2, 4, 8, 16, 33, 66 ... µs.
    const levels = new Set(Array.from({ length: 20 }, (_, i) => Math.floor((2 ** (i + 10) + 2 ** (i + 3) - 1) / 1000)));
    for (let i = 0; i < f.buckets.length; i += 2) expect(levels.has(f.buckets[i]!), `level ${f.buckets[i]}`).to.equal(true);
    expect(f.raw.startsWith('*4\r\n')).to.equal(r.raw.startsWith('*4\r\n'));
  });
});
