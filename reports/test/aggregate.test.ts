import { expect } from 'chai';
import { bucketize, chooseBucketMs, MAX_BUCKETS, masterOverlaps, roleClass, roleSequence } from '../src/aggregate.js';
import { html, inlineJson, printable, raw } from '../src/html.js';
import { ScenarioHistory } from '../src/load.js';
import type { HistoryEvent } from '../../harness/src/history/events.js';

function history(events: HistoryEvent[]): ScenarioHistory {
  const h = new ScenarioHistory();
  for (const e of events) h.add(e);
  return h;
}

const obs = (instance: string, role: string, time: number, writable?: boolean): HistoryEvent => ({ type: 'observation', scenario: 's', source: 'info', instance, role, writable, time });

describe('report aggregation', () => {
  it('finds the windows where two writable masters overlap', () => {
    const h = history([
      obs('a', 'master', 0, true),
      obs('b', 'replica', 0, false),
      obs('b', 'master', 100, true),
      obs('a', 'master', 150, true),
      obs('a', 'replica', 300, false),
      obs('c', 'master', 400, false),
    ]);
    h.finish(500);
    expect(masterOverlaps(h.roles.values())).to.deep.equal([{ start: 100, end: 300 }]);
    expect(roleSequence(h.roles.get('a')!)).to.deep.equal(['master', 'replica']);
    expect(roleSequence(h.roles.get('b')!)).to.deep.equal(['replica', 'master']);
  });

  it('maps cluster flags and INFO roles to colours', () => {
    expect(roleClass('myself,master')).to.equal('master');
    expect(roleClass('slave')).to.equal('replica');
    expect(roleClass('master,fail')).to.equal('down');
    expect(roleClass('master,fail?')).to.equal('down');
    expect(roleClass('down')).to.equal('down');
    expect(roleClass('sentinel')).to.equal('other');
  });

  it('pairs invokes with completions per process and buckets rates and latencies', () => {
    const ops: HistoryEvent[] = [];
    for (let i = 0; i < 100; i++) {
      ops.push({ type: 'op', scenario: 's', process: 1, f: 'write', via: 'haproxy', phase: 'invoke', time: i * 10 });
      ops.push({ type: 'op', scenario: 's', process: 1, f: 'write', via: 'haproxy', phase: i < 90 ? 'ok' : 'fail', time: i * 10 + 2 });
    }
    const h = history(ops);
    expect(h.counts).to.deep.equal({ ok: 90, fail: 10, info: 0 });
    expect(h.failureCount).to.equal(10);
    expect(h.failures[0]!.latencyMs).to.equal(2);
    const b = bucketize(h, 0, 1000);
    expect(b.bucketMs).to.equal(2);
    const total = b.rate.ok.reduce((a, x) => a + (x * b.bucketMs) / 1000, 0);
    expect(Math.round(total)).to.equal(90);
    expect(b.p99.ok.filter((x) => x !== null).every((x) => x === 2)).to.equal(true);
    expect(chooseBucketMs(3_600_000)).to.be.at.most(Math.ceil(3_600_000 / MAX_BUCKETS) * 10);
    expect(3_600_000 / chooseBucketMs(3_600_000)).to.be.at.most(MAX_BUCKETS);
  });

  it('closes fault windows by name and targets, a heal closes everything open', () => {
    const fault = (name: string, targets: string[], phase: 'start' | 'end', time: number): HistoryEvent => ({ type: 'fault', scenario: 's', name, targets, phase, time });
    const h = history([
      fault('kill', ['r1'], 'start', 10),
      fault('partition-isolate', ['r2'], 'start', 20),
      fault('kill', ['r1'], 'end', 30),
      fault('pause', ['r3'], 'start', 35),
      fault('heal', [], 'end', 50),
    ]);
    expect(h.faults.map((f) => [f.name, f.start, f.end])).to.deep.equal([
      ['kill', 10, 30],
      ['partition-isolate', 20, 50],
      ['pause', 35, 50],
    ]);
  });

  it('escapes interpolations and makes control bytes visible', () => {
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    expect(html`<p title="${hostile}">${hostile}</p>`.value).to.equal(
      '<p title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;</p>',
    );
    expect(html`${raw('<b>')}${['<', html`<i>`]}`.value).to.equal('<b>&lt;<i>');
    expect(printable('a\u0000b\u001b[31m\u007f\ud800z😀')).to.equal('a\\x00b\\x1b[31m\\x7f\\ud800z😀');
    expect(inlineJson({ k: '</script><!--\u2028' }).value).to.equal('{"k":"\\u003c/script\\u003e\\u003c!--\\u2028"}');
    expect(JSON.parse(inlineJson({ k: '</script>&' }).value)).to.deep.equal({ k: '</script>&' });
  });
});
