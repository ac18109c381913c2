import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryWriter } from '../src/history/writer.js';
import { parseHistory, readHistory } from '../src/history/reader.js';

describe('history: JSONL writer and reader', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chaos-hist-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('buffers until flush, stamps scenario and monotonic time, and reads back', () => {
    const path = join(dir, 'h.jsonl');
    const h = new HistoryWriter(path);
    h.scenario = 's1';
    h.op({ process: 0, f: 'add', via: 'haproxy', phase: 'invoke', value: '1' });
    h.fault({ name: 'kill', targets: ['redis1'], phase: 'start' });
    expect(readFileSync(path, 'utf8')).to.equal('');
    h.flush();
    h.scenario = 's2';
    h.mark('heal');
    h.close();
    h.mark('after-close');
    const ev = readHistory(path);
    expect(ev.map((e) => [e.type, e.scenario])).to.deep.equal([['op', 's1'], ['fault', 's1'], ['mark', 's2']]);
    for (let i = 1; i < ev.length; i++) expect(ev[i]!.time).to.be.at.least(ev[i - 1]!.time);
    expect(h.events('s1')).to.have.length(2);
  });

  it('tolerates a torn last line but rejects garbage in the middle', () => {
    expect(parseHistory('{"type":"mark","scenario":"s","name":"x","time":1}\n{"type":"op",')).to.have.length(1);
    expect(() => parseHistory('nope\n{"type":"mark","scenario":"s","name":"x","time":1}\n', 'f.jsonl')).to.throw('f.jsonl:1');
    const p = join(dir, 'bad.jsonl');
    writeFileSync(p, '{"type":"other","time":1}\n{"type":"mark","scenario":"s","name":"x","time":1}\n');
    expect(() => readHistory(p)).to.throw('not a history event');
  });
});
