/** Shared by the local driver tests: bring-up with cleanup on failure, and the "nothing left behind" assertion. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalDeployment, LocalDriver, type HostMode } from '../src/drivers/local/index.js';
import { newRunId } from '../src/run-folder/index.js';
import { stateDir } from '../src/cleanup/state.js';
import type { Target, Topology } from '../src/topology/model.js';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export class Deployments {
  private started: LocalDeployment[] = [];
  private dirs: string[] = [];

  async up(topo: Topology, opts: { target?: Target; hostMode?: HostMode } = {}): Promise<LocalDeployment> {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'rhc-test-'));
    this.dirs.push(runDir);
    const driver = new LocalDriver(opts.hostMode ? { hostMode: opts.hostMode } : {});
    const d = (await driver.up(topo, { runId: newRunId(), runDir, ...(opts.target ? { target: opts.target } : {}) })) as LocalDeployment;
    this.started.push(d);
    return d;
  }

  /** Stops everything, then asserts nothing is left: processes, namespaces, bridge, iptables rule, marker. */
  async downAll(): Promise<void> {
    const ds = this.started;
    this.started = [];
    await Promise.all(ds.map((d) => d.down()));
    for (const d of ds) assertNothingLeft(d);
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.dirs = [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function assertNothingLeft(d: LocalDeployment): void {
  expect(d.processIds().filter(alive), 'processes left').to.deep.equal([]);
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const n of d.namespaces()) expect(ns, 'namespace left').to.not.match(new RegExp(`^${n}\\b`, 'm'));
  const br = d.bridgeName();
  if (br) {
    expect(spawnSync('ip', ['link', 'show', br], { stdio: 'ignore' }).status, 'bridge left').to.not.equal(0);
    for (const chain of ['DOCKER-USER', 'FORWARD']) {
      expect(spawnSync('iptables', ['-S', chain], { encoding: 'utf8' }).stdout ?? '', `iptables ${chain} rule left`).to.not.include(br);
    }
  }
  if (isRoot) expect(spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' }).stdout ?? '').to.not.include('rhc_partition');
  expect(existsSync(path.join(stateDir(), 'runs', `${d.runId}.json`)), 'run marker left').to.equal(false);
}
