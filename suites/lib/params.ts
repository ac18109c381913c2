/**
 * What the suites run against comes from the environment, never from editing a file:
 *   CHAOS_TARGETS=redis,reference   data instances on real Redis, on the reference server, or "topology" (as the YAML says)
 *   CHAOS_DRIVERS=local[,docker]    how the deployment is started
 *   CHAOS_SEED=N                    the seed every scenario uses (printed with each result)
 *   CHAOS_KEEP=1                    keep every run folder (failed ones are always kept)
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';

import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTopology } from '../../harness/src/topology/load.js';
import { packageRoot, shippedTopologiesDir } from '../../harness/src/topology/paths.js';
import type { Target, Topology } from '../../harness/src/topology/model.js';

export type SuiteTarget = Target | 'topology';
export type SuiteDriver = 'local' | 'docker';

function listFromEnv<T extends string>(name: string, allowed: readonly T[], fallback: T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i as T));
  if (bad.length) throw new Error(`${name}=${raw}: unknown value ${bad.join(', ')}; expected a comma-separated list of ${allowed.join(', ')}`);
  return [...new Set(items)] as T[];
}

export function targets(): SuiteTarget[] {
  return listFromEnv<SuiteTarget>('CHAOS_TARGETS', ['redis', 'reference', 'topology'], ['redis', 'reference']);
}

export function drivers(): SuiteDriver[] {
  return listFromEnv<SuiteDriver>('CHAOS_DRIVERS', ['local', 'docker'], ['local']);
}

export function seed(): number {
  const raw = process.env['CHAOS_SEED'];
  const n = raw === undefined || raw === '' ? 20261122 : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`CHAOS_SEED=${raw}: expected a non-negative integer`);
  return n;
}

export function keepRuns(): boolean {
  return process.env['CHAOS_KEEP'] === '1';
}

/** A shipped topology with its ci profile (short down-after / node-timeout) when it has one. */
export function shipped(name: string): Topology {
  const file = path.join(shippedTopologiesDir(), `${name}.yml`);
  const base = loadTopology(file);
  return base.profiles?.includes('ci') ? loadTopology(file, { profile: 'ci' }) : base;
}

/** Why the reference server cannot play this topology's data instances, or undefined. */
export function referenceUnsupported(t: Topology): string | undefined {
  if (t.kind !== 'cluster') return undefined;
  const dir = path.join(packageRoot(), 'dist', 'reference-server', 'cluster');
  const built = existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.js'));
  return built ? undefined : 'the reference server has no cluster mode yet (no module in reference-server/cluster)';
}

/** Why this driver cannot run here, or undefined (checked once per suite, before deploying). */
export function driverUnavailable(d: SuiteDriver): string | undefined {
  if (d === 'docker') {
    if (!existsSync(path.join(packageRoot(), 'dist', 'harness', 'src', 'drivers', 'docker', 'index.js'))) return 'the docker driver is not built';
  }
  return undefined;
}

/** A folder for a suite's run folders, made on first use; removed at the end unless a failed run's folder was kept in it. */
export function tempRoot(label: string): { readonly dir: string; remove(): void } {
  let made: string | undefined;
  return {
    get dir(): string {
      // Short: HAProxy's admin socket lives below it and unix socket paths are limited to about 100 bytes.
      made ??= mkdtempSync(path.join(tmpdir(), `rhc-${label.slice(0, 3)}-`));
      return made;
    },
    remove: () => {
      if (made && existsSync(made) && readdirSync(made).length === 0) rmSync(made, { recursive: true, force: true });
    },
  };
}
