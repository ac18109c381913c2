/**
 * Deliberately broken HA configurations (suites/fixtures/broken/): each fails its gate with exit 1 and a reason a
 * person can act on, never a harness error (exit 3). The shipped configurations passing gates/default.yml is
 * gate.test.ts's end-to-end case.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../harness/src/cli/main.js';
import { loadGate } from '../harness/src/gate/file.js';
import type { GateOutcome } from '../harness/src/gate/run.js';
import { packageRoot } from '../harness/src/topology/paths.js';

const FIXTURES = path.join(packageRoot(), 'suites', 'fixtures', 'broken');

/** Fixture -> the threshold that must break and what its detail must say. */
const BROKEN: { name: string; threshold: string; reason: RegExp }[] = [
  { name: 'sentinel-slow-down-after', threshold: 'checks', reason: /promotion \(no replica was promoted within 20 s of killing redis1: check down-after-milliseconds \(60000 ms here\)/ },
  { name: 'sentinel-no-promotable-replica', threshold: 'checks', reason: /promotion \(no replica was promoted within 20 s of killing redis1: .*replica-priority/ },
  { name: 'haproxy-all-backends-down', threshold: 'checks', reason: /haproxy-routing \(HAProxy never routed to the master within \d+ s of starting \(.*"redis1":"DOWN".*\): check its health check \(AUTH with its password/ },
  { name: 'haproxy-routes-to-replica', threshold: 'checks', reason: /haproxy-routing \(\d+ writes via haproxy reached a replica \(READONLY\)/ },
  { name: 'replica-wrong-masterauth', threshold: 'checks', reason: /replication \(redis2 replication link to redis1 up: not within \d+ s of starting: check redis2's replicaof and masterauth/ },
  { name: 'cluster-no-failover', threshold: 'checks', reason: /promotion \(s\d was not promoted to master within 20 s of stopping host redis\d: check cluster-node-timeout/ },
];

describe('broken configurations fail the gate (exit 1) with the reason', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'chaos-broken-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every fixture is a valid gate over a valid topology (a typo must not pass for a broken configuration)', () => {
    for (const b of BROKEN) expect(() => loadGate(path.join(FIXTURES, `${b.name}.gate.yml`)), b.name).to.not.throw();
  });

  for (const b of BROKEN) {
    it(`${b.name}: exit 1, ${b.threshold} broken`, async () => {
      const out: string[] = [];
      const folder = path.join(dir, b.name);
      const code = await main(['gate', path.join(FIXTURES, `${b.name}.gate.yml`), '--out', folder], { out: (l) => out.push(l), err: (l) => out.push(l) });
      const outcome = JSON.parse(readFileSync(path.join(folder, 'gate.json'), 'utf8')) as GateOutcome;
      const s = outcome.runs[0]!.scenarios[0]!;
      const broken = s.thresholds.filter((t) => !t.ok);
      console.log(`      ${b.name}: exit ${code}; ${broken.map((t) => `${t.name}: ${t.detail}`).join(' | ').slice(0, 600)}`);
      expect(code, out.slice(-15).join('\n')).to.equal(1);
      expect(s.harnessError, 'not a harness error').to.equal(undefined);
      const t = s.thresholds.find((x) => x.name === b.threshold)!;
      expect(t.ok).to.equal(false);
      expect(t.detail).to.match(b.reason);
    });
  }
});
