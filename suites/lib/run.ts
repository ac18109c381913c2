/**
 * Runs one engine scenario for a suite and records the outcome for the end-of-run summary. A scenario that
 * cannot run is recorded as skipped with its reason, then skipped in mocha (never passed).
 */
import { expect } from 'chai';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { runScenarios } from '../../harness/src/engine/run.js';
import { readHistory } from '../../harness/src/history/reader.js';
import type { HistoryEvent, OpEvent } from '../../harness/src/history/events.js';
import type { CheckResult, ScenarioResult } from '../../harness/src/results/types.js';
import type { Topology } from '../../harness/src/topology/model.js';
import { keepRuns, seed, type SuiteDriver, type SuiteTarget } from './params.js';

export interface TallyEntry {
  suite: string;
  scenario: string;
  topology: string;
  target: string;
  driver: string;
  verdict: 'pass' | 'fail' | 'skip' | 'error';
  reason?: string;
  durationMs: number;
}

const tally: TallyEntry[] = [];

export function recorded(): readonly TallyEntry[] {
  return tally;
}

export function recordSkip(ctx: Mocha.Context, e: Omit<TallyEntry, 'verdict' | 'durationMs'> & { reason: string }): never {
  tally.push({ ...e, verdict: 'skip', durationMs: 0 });
  ctx.skip();
}

export interface SuiteRun {
  result: ScenarioResult;
  /** The scenario's history (ops, faults, observations), for direct assertions. */
  events: HistoryEvent[];
  dir: string;
}

export interface RunArgs {
  suite: string;
  topology: Topology;
  scenario: string;
  target: SuiteTarget;
  driver: SuiteDriver;
  root: string;
  /** Client adapter for the client-* scenarios. */
  client?: string;
  /** Another seed than the suite's (CHAOS_SEED), for a test that needs a scenario's other random choice. */
  seed?: number;
}

let counter = 0;
let lastDir: string | undefined;

export async function runScenario(ctx: Mocha.Context, a: RunArgs): Promise<SuiteRun> {
  const dir = path.join(a.root, String(++counter).padStart(2, '0'));
  const base = { suite: a.suite, scenario: a.scenario, topology: a.topology.name, target: a.target, driver: a.driver };
  const lines: string[] = [];
  const t0 = Date.now();
  const runSeed = a.seed ?? seed();
  const results = await runScenarios({
    topology: a.topology,
    scenarios: [a.scenario],
    ...(a.target !== 'topology' ? { target: a.target } : {}),
    driverName: a.driver,
    seed: runSeed,
    outDir: dir,
    keep: keepRuns(),
    log: (l) => lines.push(l),
    ...(a.client !== undefined ? { client: a.client } : {}),
    commandLine: `redis-ha-chaos run ${a.topology.name} --scenario ${a.scenario}${a.target !== 'topology' ? ` --target ${a.target}` : ''} --driver ${a.driver} --seed ${runSeed}${a.topology.profile ? ` --profile ${a.topology.profile}` : ''}${a.client !== undefined ? ` --client ${JSON.stringify(a.client)}` : ''}`,
  });
  const result = results.scenarios[0]!;
  const entry: TallyEntry = { ...base, verdict: result.verdict, durationMs: Date.now() - t0 };
  if (result.skipReason) entry.reason = result.skipReason;
  if (result.error) entry.reason = result.error;
  // A failed run names its failed checks in the summary table: CI logs are often read from their tail only.
  const failed = result.checks.filter((c) => c.verdict === 'fail');
  if (result.verdict === 'fail' && failed.length) entry.reason = failed.map((c) => `${c.name}: ${c.detail}`).join('; ');
  tally.push(entry);
  if (result.verdict === 'skip' && result.checks.length === 0) {
    rmSync(dir, { recursive: true, force: true });
    ctx.skip();
  }
  const events = readHistory(path.join(dir, 'history.jsonl')).filter((e) => e.scenario === a.scenario);
  if (result.verdict === 'error') throw new Error(`${a.scenario} on ${a.topology.name} [${a.target}/${a.driver}]: harness error: ${result.error}\nrun folder: ${dir}\n${lines.slice(-15).join('\n')}`);
  lastDir = dir;
  return { result, events, dir };
}

export function describeChecks(r: ScenarioResult): string {
  return `${r.name} [${r.target}/${r.driver}] ${r.verdict}${r.error ? ` (${r.error})` : ''}\n${r.checks.map((c) => `  ${c.verdict.toUpperCase().padEnd(5)} ${c.name}: ${c.detail}`).join('\n')}${r.warnings?.length ? `\n  warnings: ${r.warnings.join(' | ')}` : ''}`;
}

/** The named check; fails the test (with every check's detail) when it is missing. */
export function check(r: ScenarioResult, name: string): CheckResult {
  const c = r.checks.find((x) => x.name === name);
  expect(c, `no check "${name}" in\n${describeChecks(r)}`).to.not.equal(undefined);
  return c!;
}

export function expectCheckPass(r: ScenarioResult, ...names: string[]): void {
  for (const n of names) expect(check(r, n).verdict, `${n}\n${describeChecks(r)}`).to.equal('pass');
}

export function expectScenarioPass(run: SuiteRun): void {
  expect(run.result.verdict, `${describeChecks(run.result)}\nrun folder: ${run.dir}`).to.equal('pass');
}

/** Registers an afterEach that removes a passed test's run folder (unless CHAOS_KEEP=1) and names a failed one's. */
export function tidyRunFolders(): void {
  afterEach(function () {
    const dir = lastDir;
    lastDir = undefined;
    if (!dir) return;
    if (this.currentTest?.state === 'failed') console.log(`      run folder kept: ${dir}`);
    else if (!keepRuns()) rmSync(dir, { recursive: true, force: true });
  });
}

export /** Lost writes computed straight from the history (acknowledged adds absent from the final read), independently of the checker under test. */
function lostFromHistory(events: HistoryEvent[]): Set<string> {
  const reads = events.filter((e): e is OpEvent => e.type === 'op' && e.f === 'read-all' && e.phase === 'ok');
  const present = new Set(((reads[reads.length - 1]?.value as unknown[] | undefined) ?? []).map(String));
  return new Set(events.filter((e): e is OpEvent => e.type === 'op' && e.f === 'add' && e.phase === 'ok').map((e) => String(e.value)).filter((v) => !present.has(v)));
}
