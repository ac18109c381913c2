import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEvent } from '../../harness/src/history/events.js';
import type { RunResults } from '../../harness/src/results/types.js';
import { renderRunReport } from '../src/index.js';

/** A hand-written cluster run: three masters at once is normal there, not a split brain. */
function clusterRun(withSingleMasterCheck: boolean): { results: RunResults; history: HistoryEvent[] } {
  const history: HistoryEvent[] = [{ type: 'mark', scenario: 'c', name: 'scenario-start', time: 100 }];
  for (let t = 100; t <= 2000; t += 100) {
    for (const m of ['m1', 'm2', 'm3']) history.push({ type: 'observation', scenario: 'c', source: withSingleMasterCheck ? 'info' : 'cluster', instance: m, role: 'master', writable: true, time: t });
    history.push({ type: 'op', scenario: 'c', process: 0, f: 'write', via: 'cluster', phase: 'invoke', key: 'k', time: t });
    history.push({ type: 'op', scenario: 'c', process: 0, f: 'write', via: 'cluster', phase: 'ok', key: 'k', time: t + 1 });
  }
  const results: RunResults = {
    tool: 'redis-ha-chaos',
    version: '0.1.0',
    runId: 'cluster-run',
    topology: 'cluster-3x2',
    topologyFile: 'topologies/cluster-3x2.yml',
    target: 'redis',
    driver: 'local',
    seed: 1,
    command: 'redis-ha-chaos run topologies/cluster-3x2.yml --scenario c --seed 1',
    versions: {},
    startedAt: '2026-11-22T00:00:00.000Z',
    durationMs: 2000,
    verdict: 'pass',
    history: 'history.jsonl',
    scenarios: [
      {
        name: 'c',
        description: 'cluster',
        topology: 'cluster-3x2',
        target: 'redis',
        driver: 'local',
        verdict: 'pass',
        checks: withSingleMasterCheck ? [{ name: 'single-master', verdict: 'pass', detail: 'ok' }] : [],
        writes: { attempted: 20, acknowledged: 20, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
        lostSample: [],
        unexpectedSample: [],
        startedAt: 0,
        durationMs: 2000,
        configFiles: [],
      },
    ],
  };
  return { results, history };
}

describe('report views of multi-master topologies', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reports-cluster-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function render(withCheck: boolean): Promise<string> {
    const { results, history } = clusterRun(withCheck);
    await writeFile(join(dir, 'results.json'), JSON.stringify(results));
    await writeFile(join(dir, 'history.jsonl'), history.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return readFile(await renderRunReport(dir), 'utf8');
  }

  it('does not call a cluster\'s masters a split brain', async () => {
    const page = await render(false);
    expect(page).not.to.contain('class="seg split"');
    expect(page).to.contain('cluster: a master per shard');
    expect(page).to.contain('data-scenario-timeline="0"');
  });

  it('trusts a single-master check that reported no intervals', async () => {
    const page = await render(true);
    expect(page).not.to.contain('class="seg split"');
    expect(page).to.contain('per checker');
  });

  it('falls back to observed roles when nothing checked for two masters', async () => {
    const { results, history } = clusterRun(true);
    results.scenarios[0]!.checks = [];
    await writeFile(join(dir, 'results.json'), JSON.stringify(results));
    await writeFile(join(dir, 'history.jsonl'), history.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const page = await readFile(await renderRunReport(dir), 'utf8');
    expect(page).to.contain('class="seg split"');
    expect(page).to.contain('from observed roles');
  });
});
