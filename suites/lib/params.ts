/**
 * What the suites run against comes from the environment, never from editing a file:
 *   CHAOS_TARGETS=redis,reference   every Redis instance and Sentinel on real Redis or on the reference server (as
 *                                   `run --target` does), or "topology": each as the YAML says
 *   CHAOS_SENTINEL_TARGETS=topology with CHAOS_TARGETS=topology: Sentinels as the YAML says (default), or all
 *                                   redis-sentinel / all reference Sentinels
 *   CHAOS_DRIVERS=local[,docker]    how the deployment is started; default local, and docker when an engine answers
 *   CHAOS_SEED=N                    the seed every scenario uses (printed with each result)
 *   CHAOS_KEEP=1                    keep every run folder (failed ones are always kept)
 *   CHAOS_FULL=1                    the whole client matrix: every shipped adapter through every client scenario
 *                                   (by default the newer ones run with ioredis only, and the broken client fixtures
 *                                   on the first target only, to keep npm test well under CI's limit)
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

export function sentinelTargets(): SuiteTarget[] {
  return listFromEnv<SuiteTarget>('CHAOS_SENTINEL_TARGETS', ['redis', 'reference', 'topology'], ['topology']);
}

/** The topology with every Sentinel on `target` ('topology' keeps what the YAML says). */
export function withSentinelTarget(t: Topology, target: SuiteTarget): Topology {
  if (target === 'topology') return t;
  return { ...t, sentinels: t.sentinels.map((s) => ({ ...s, target })) };
}

/** True when the drivers were named in CHAOS_DRIVERS: then a driver that cannot run fails its suites instead of skipping. */
function driversNamed(): boolean {
  return (process.env['CHAOS_DRIVERS'] ?? '').trim() !== '';
}

export function drivers(): SuiteDriver[] {
  return listFromEnv<SuiteDriver>('CHAOS_DRIVERS', ['local', 'docker'], ['local', 'docker']);
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

/** driver -> why it cannot run here ('' = it can), settled once per mocha process by prepareDriver. */
const readiness = new Map<SuiteDriver, Promise<string>>();

const readinessSettled = new Map<SuiteDriver, string>();

async function probeDriver(d: SuiteDriver): Promise<string> {
  if (d !== 'docker') return '';
  if (!existsSync(path.join(packageRoot(), 'dist', 'harness', 'src', 'drivers', 'docker', 'index.js'))) return 'the docker driver is not built';
  const { dockerUnavailableReason } = await import('../../harness/src/drivers/docker/cleanup.js');
  const why = await dockerUnavailableReason();
  if (why) return why;
  // Offline stand-ins from the machine's own binaries; cached by content, so this is seconds once built.
  const { buildLocalImages } = await import('../../harness/src/images/build.js');
  await buildLocalImages();
  return '';
}

/**
 * Registers a before hook that readies the driver (docker: an engine answers, the offline images are built).
 * A driver the user named in CHAOS_DRIVERS that cannot run fails the suite; one that is only there by default is skipped.
 */
export function prepareDriver(d: SuiteDriver): void {
  before(async function () {
    this.timeout(600_000);
    if (!readiness.has(d)) readiness.set(d, probeDriver(d).catch((e: unknown) => `preparing the ${d} driver failed: ${e instanceof Error ? e.message : String(e)}`));
    const why = await readiness.get(d)!;
    readinessSettled.set(d, why);
    if (why && driversNamed()) throw new Error(`CHAOS_DRIVERS names ${d}, but it cannot run here: ${why}`);
  });
}

/** Why this driver cannot run here, or undefined (read in each test, after prepareDriver's hook settled it). */
export function driverUnavailable(d: SuiteDriver): string | undefined {
  const why = readinessSettled.get(d);
  if (why === undefined) return d === 'local' ? undefined : `the ${d} driver was not prepared (prepareDriver missing in this suite)`;
  return why === '' ? undefined : why;
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

/** CHAOS_FULL=1: every shipped client through every client scenario (slow; by default ioredis takes the newer ones). */
export function fullMatrix(): boolean {
  return process.env['CHAOS_FULL'] === '1';
}
