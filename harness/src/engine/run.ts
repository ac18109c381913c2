/**
 * Runs scenarios against a topology: a fresh deployment per scenario (independent scenarios), the
 * observer and nemesis around the scenario's steps, checks over the history, and the run folder's
 * results.json, history.jsonl and junit.xml. Teardown always happens.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Deployment, Driver } from '../drivers/driver.js';
import { createDriver } from '../drivers/index.js';
import { retarget, withRedisConfig, type Target, type Topology } from '../topology/model.js';
import type { RunResults, ScenarioResult, Verdict } from '../results/types.js';
import { HistoryWriter } from '../history/writer.js';
import { applyFact, factsOf, type HistoryEvent } from '../history/events.js';
import { Observer } from '../observer/observer.js';
import { NemesisExecutor } from '../nemesis/executor.js';
import { Prng } from '../random/prng.js';
import { Workload, type WorkloadOptions } from '../workload/workload.js';
import { ClientWorkload, resolveAdapter, type AdapterSpec } from '../adapters/index.js';
import { combineVerdicts, asCheck, faultEvidence } from '../checkers/index.js';
import { toJUnit } from '../results/junit.js';
import { BadInputError, exitCodeFor } from '../results/exit-code.js';
import { isExpectationNotMet, type ExpectationNotMet } from '../results/expectation.js';
import { allScenarios, getScenario } from '../scenarios/index.js';
import type { Scenario, ScenarioContext, ScenarioFacts } from '../scenarios/types.js';

export { exitCodeFor, exitCodeForError, BadInputError, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_HARNESS_ERROR, EXIT_PASS } from '../results/exit-code.js';
export { listScenarios } from '../scenarios/index.js';

export interface RunOptions {
  topology: Topology;
  /** Scenario names; 'all' runs every scenario written for this topology's kind. */
  scenarios?: string[];
  /** One name, or 'all', or a comma-separated list (the CLI's --scenario). */
  scenario?: string;
  target?: Target;
  driverName?: 'local' | 'docker';
  /** The CLI's spelling of driverName. */
  driver?: 'local' | 'docker';
  seed: number;
  outDir?: string;
  /** The CLI's spelling of outDir (the run folder). */
  runDir?: string;
  runId?: string;
  /** Keep each scenario's work folder (logs, data) even when it passed. */
  keep?: boolean;
  log?: (line: string) => void;
  commandLine?: string;
  /** The CLI's spelling of commandLine. */
  command?: string;
  profile?: string;
  /** Injected driver (tests); default createDriver(driverName). */
  driverInstance?: Driver;
  /** Client adapter for the client-* scenarios: a shipped name or a command line (default ioredis). */
  client?: string;
  /** Scenarios given as objects instead of names (tests of the engine's verdicts). */
  scenarioObjects?: Scenario[];
}

interface Normalized {
  topology: Topology;
  scenarios: string[];
  target?: Target;
  driverName: 'local' | 'docker';
  seed: number;
  outDir: string;
  runId?: string;
  keep: boolean;
  log: (line: string) => void;
  commandLine: string;
  driverInstance?: Driver;
  client: AdapterSpec;
  scenarioObjects?: Scenario[];
}

function normalize(o: RunOptions): Normalized {
  const outDir = o.outDir ?? o.runDir;
  if (!outDir) throw new BadInputError('runScenarios: no output folder (outDir)');
  const names = o.scenarios ?? (o.scenario ? o.scenario.split(',').map((x) => x.trim()).filter(Boolean) : ['all']);
  const n: Normalized = {
    // Scenarios, skip reasons and results all see what is deployed: the topology with --target applied.
    topology: retarget(o.topology, o.target),
    scenarios: names,
    driverName: o.driverName ?? o.driver ?? 'local',
    seed: o.seed >>> 0,
    outDir: resolve(outDir),
    keep: o.keep ?? false,
    log: o.log ?? (() => undefined),
    commandLine: o.commandLine ?? o.command ?? '',
    client: resolveAdapter(o.client ?? 'ioredis'),
  };
  if (o.target) n.target = o.target;
  if (o.runId) n.runId = o.runId;
  if (o.driverInstance) n.driverInstance = o.driverInstance;
  if (o.scenarioObjects) n.scenarioObjects = o.scenarioObjects;
  return n;
}

const VERSION = '0.1.0';

async function loadDriver(name: 'local' | 'docker'): Promise<Driver> {
  return createDriver(name);
}

/** 'all' means every scenario written for this kind of topology; named ones run (or skip with a reason) as asked. */
export function resolveScenarios(names: string[], kind?: Topology['kind'], withClients = false): Scenario[] {
  // The client-* scenarios judge a client adapter; 'all' includes them only when --client names one.
  if (names.length === 0 || names.includes('all')) return allScenarios().filter((s) => (!kind || s.topologyKinds.includes(kind)) && (withClients || !s.name.startsWith('client-')));
  const out: Scenario[] = [];
  for (const n of names) {
    const s = getScenario(n);
    if (!s) throw new BadInputError(`unknown scenario "${n}"; list them with: redis-ha-chaos scenarios`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function targetOf(topology: Topology): Target | 'mixed' {
  const ts = new Set<Target>([...topology.redis.map((r) => r.target), ...topology.sentinels.map((s) => s.target)]);
  return ts.size === 1 ? [...ts][0]! : 'mixed';
}

/** Why the scenario cannot run on this topology/deployment, or undefined. */
export function skipReason(s: Scenario, t: Topology, dep?: Deployment): string | undefined {
  if (!s.topologyKinds.includes(t.kind)) return `needs a ${s.topologyKinds.join(' or ')} topology; "${t.name}" is ${t.kind}`;
  for (const r of s.requires ?? []) {
    if (r === 'haproxy' && !t.haproxy) return `needs HAProxy; topology "${t.name}" has none`;
    if (r === 'sentinel' && t.sentinels.length === 0) return `needs Sentinel; topology "${t.name}" has none`;
    if (r === 'toxiproxy' && !t.toxiproxy) return `needs Toxiproxy links; topology "${t.name}" has none`;
    if (r === 'partition' && dep?.partitionUnsupportedReason) return `needs network partitions: ${dep.partitionUnsupportedReason}`;
  }
  return s.unsupported?.(t);
}

function emptyResult(s: Scenario, opts: Normalized, startedAt: number): ScenarioResult {
  return {
    name: s.name,
    description: s.description,
    topology: opts.topology.name,
    target: targetOf(opts.topology),
    driver: opts.driverName,
    verdict: 'skip',
    checks: [],
    writes: { attempted: 0, acknowledged: 0, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
    lostSample: [],
    unexpectedSample: [],
    startedAt,
    durationMs: 0,
    configFiles: [],
    topologyModel: opts.topology,
  };
}

export async function runScenarios(options: RunOptions): Promise<RunResults> {
  const opts = normalize(options);
  const log = opts.log;
  const scenarios = opts.scenarioObjects ?? resolveScenarios(opts.scenarios, opts.topology.kind, options.client !== undefined);
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const history = new HistoryWriter(join(outDir, 'history.jsonl'));
  const runId = opts.runId ?? `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${opts.seed}`;
  const results: RunResults = {
    tool: 'redis-ha-chaos',
    version: VERSION,
    runId,
    topology: opts.topology.name,
    topologyFile: opts.topology.file,
    target: targetOf(opts.topology),
    driver: opts.driverName,
    seed: opts.seed,
    command: opts.commandLine,
    versions: {},
    startedAt: history.clock.startedAtWall.toISOString(),
    durationMs: 0,
    verdict: 'skip',
    scenarios: [],
    history: 'history.jsonl',
  };
  const write = (): void => {
    results.durationMs = Math.round(history.now());
    results.verdict = runVerdict(results.scenarios.map((s) => s.verdict));
    history.flush();
    // Written aside and renamed, so a reader never sees half a file.
    writeAtomic(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeAtomic(join(outDir, 'junit.xml'), toJUnit(results));
  };
  log(`seed ${opts.seed}; topology ${opts.topology.name} (${opts.topology.kind}); ${scenarios.length} scenario(s); driver ${opts.driverName}; output ${outDir}`);
  let driver: Driver | undefined = opts.driverInstance;
  try {
    interrupted = false;
    for (const [i, s] of scenarios.entries()) {
      if (interrupted) {
        const skipped = emptyResult(s, opts, history.now());
        skipped.skipReason = 'the run was interrupted';
        results.scenarios.push(skipped);
        continue;
      }
      const res = await runOne(s, i, opts, history, log, async () => (driver ??= await loadDriver(opts.driverName)), results);
      results.scenarios.push(res);
      write();
      log(`[${i + 1}/${scenarios.length}] ${s.name}: ${res.verdict.toUpperCase()}${res.skipReason ? ` (${res.skipReason})` : ''}${res.error ? ` (${res.error})` : ''} in ${(res.durationMs / 1000).toFixed(1)} s`);
    }
  } finally {
    write();
    history.close();
  }
  log(`verdict ${results.verdict.toUpperCase()} (exit ${exitCodeFor(results)}); results ${join(outDir, 'results.json')}`);
  return results;
}

export function writeAtomic(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

/** Set by SIGINT/SIGTERM during a run: the current scenario is torn down and the rest are skipped. */
let interrupted = false;

export function runVerdict(vs: Verdict[]): Verdict {
  if (vs.includes('error')) return 'error';
  if (vs.includes('fail')) return 'fail';
  if (vs.includes('pass')) return 'pass';
  return 'skip';
}

async function runOne(
  s: Scenario,
  index: number,
  opts: Normalized,
  history: HistoryWriter,
  log: (line: string) => void,
  getDriver: () => Promise<Driver>,
  results: RunResults,
): Promise<ScenarioResult> {
  history.scenario = s.name;
  const startedAt = history.now();
  const res = emptyResult(s, opts, startedAt);
  const preSkip = skipReason(s, opts.topology);
  if (preSkip) {
    res.skipReason = preSkip;
    history.mark('scenario-skip', preSkip);
    return res;
  }
  const runDir = join(resolve(opts.outDir), 'instances', `${String(index + 1).padStart(2, '0')}-${s.name}`);
  mkdirSync(runDir, { recursive: true });
  let dep: Deployment | undefined;
  let observer: Observer | undefined;
  let nemesis: NemesisExecutor | undefined;
  const workloads: (Workload | ClientWorkload)[] = [];
  const facts: ScenarioFacts = {};
  let ran = false;
  /** The system never did what the steps waited for: judged as a failed check, not a harness error. */
  let unmet: ExpectationNotMet | undefined;
  const phase = (name: string): void => {
    log(`  ${s.name}: ${name}`);
    history.mark(`phase-${name}`);
    history.flush();
  };
  const onSignal = (): void => {
    interrupted = true;
    void dep?.down();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    phase('up');
    const driver = await getDriver();
    dep = await driver.up(withRedisConfig(opts.topology, s.redisConfig), { runId: `${results.runId}-${index + 1}`, runDir, ...(opts.target ? { target: opts.target } : {}), log: (l) => log(`    ${l}`) });
    res.configFiles = dep.generatedFiles().map((f) => ({ instance: f.instance, kind: f.kind, content: f.content }));
    try {
      Object.assign(results.versions, await dep.versions());
    } catch {
      // Versions are informative; their absence must not fail the scenario.
    }
    const lateSkip = skipReason(s, opts.topology, dep);
    if (lateSkip) {
      res.skipReason = lateSkip;
      history.mark('scenario-skip', lateSkip);
      return res;
    }
    observer = new Observer(dep, history);
    await observer.start();
    nemesis = new NemesisExecutor(dep, history);
    const d = dep;
    const h = history;
    const addrToName = new Map<string, string>();
    for (const r of opts.topology.redis) {
      const a = d.internalAddress(r.name);
      addrToName.set(`${a.host}:${a.port}`, r.name);
    }
    const ctx: ScenarioContext = {
      dep: d,
      topology: opts.topology,
      history: h,
      observer,
      nemesis,
      rng: new Prng(opts.seed).fork(s.name),
      seed: opts.seed,
      log: (l) => log(`  ${s.name}: ${l}`),
      facts,
      note: (name, value) => applyFact(facts, h.fact(name, value)),
      noteItem: (name, value) => applyFact(facts, h.factItem(name, value)),
      startWorkload: async (w: WorkloadOptions) => {
        const wl = new Workload(d, h, w);
        workloads.push(wl);
        await wl.start();
        return wl;
      },
      clientAdapter: opts.client,
      startClient: async (o = {}) => {
        const c = await ClientWorkload.start(d, h, { ...o, spec: opts.client, log: (l) => log(`  ${s.name}: ${l}`) });
        workloads.push(c);
        return c;
      },
      addressOf: (name) => {
        const a = d.internalAddress(name);
        return `${a.host}:${a.port}`;
      },
      nameOfAddress: (addr) => addrToName.get(addr),
      endpoint: (name) => d.endpoint(name),
    };
    history.mark('scenario-start');
    phase('run');
    ran = true;
    await s.run(ctx);
    phase('check');
  } catch (e) {
    // Also during bring-up: a proxy whose check marks every backend down is the configuration failing.
    if (isExpectationNotMet(e)) {
      unmet = e;
      history.mark('expectation-not-met', `${e.check}: ${e.message}`);
      history.fact('expectationNotMet', { check: e.check, message: e.message });
      log(`  ${s.name}: ${e.check} failed: ${e.message}`);
    } else {
      res.verdict = 'error';
      res.error = e instanceof Error ? e.message : String(e);
      history.mark('scenario-error', res.error);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    phase('down');
    for (const w of workloads) await w.close().catch(() => undefined);
    if (observer && ran) res.rolesAfter = observer.roles();
    // No healAll() here: undoing a kill would restart the instance only for down() to stop it again.
    await observer?.stop().catch(() => undefined);
    await dep?.down().catch((e: unknown) => log(`  ${s.name}: teardown failed: ${e instanceof Error ? e.message : String(e)}`));
    history.mark('scenario-end');
    history.flush();
  }
  if (unmet && !ran) {
    res.checks = [{ name: unmet.check, verdict: 'fail', detail: unmet.message, data: { expectation: true } }];
    res.verdict = 'fail';
  }
  if (res.skipReason || !ran) {
    res.durationMs = Math.round(history.now() - startedAt);
    return res;
  }
  judgeScenario(s, history.events(s.name), opts.topology, res);
  res.durationMs = Math.round(history.now() - startedAt);
  if (!opts.keep && res.verdict === 'pass') rmSync(runDir, { recursive: true, force: true });
  return res;
}

/**
 * Runs a scenario's checks over its recorded events and fills the result's checks, measurements and verdict.
 * The live run and `analyze` both judge through here, so they reach the same verdicts from the same history.
 */
export function judgeScenario(s: Scenario, events: HistoryEvent[], topology: Topology, res: ScenarioResult): void {
  res.rolesBefore = rolesBefore(events);
  res.evidence = faultEvidence(events);
  if (s.reproduces) res.reproduces = s.reproduces;
  const facts = factsOf(events);
  const unmet = facts.expectationNotMet;
  try {
    const out = s.check(events, facts, topology);
    res.checks = out.checks.map(asCheck);
    if (out.writes) res.writes = out.writes;
    if (out.lostSample) res.lostSample = out.lostSample;
    if (out.unexpectedSample) res.unexpectedSample = out.unexpectedSample;
    if (out.failoverMs !== undefined) res.failoverMs = out.failoverMs;
    if (out.failoverInterval) res.failoverInterval = out.failoverInterval;
    if (out.unavailabilityMs !== undefined) res.unavailabilityMs = out.unavailabilityMs;
    if (out.unavailabilityIntervals) res.unavailabilityIntervals = out.unavailabilityIntervals;
    if (out.splitBrainIntervals) res.splitBrainIntervals = out.splitBrainIntervals;
    if (out.warnings?.length) res.warnings = out.warnings;
    if (out.client) res.client = out.client;
  } catch (e) {
    const why = `checker failed: ${e instanceof Error ? e.message : String(e)}`;
    // A scenario that already failed on an unmet expectation is judged by that; the checkers' trouble is noted.
    if (unmet) res.warnings = [...(res.warnings ?? []), why];
    else {
      res.verdict = 'error';
      res.error = why;
    }
  }
  if (unmet) {
    const failed = { name: unmet.check, verdict: 'fail' as const, detail: unmet.message, data: { expectation: true } };
    const i = res.checks.findIndex((c) => c.name === unmet.check);
    if (i >= 0) res.checks[i] = failed;
    else res.checks.unshift(failed);
  }
  if (res.verdict !== 'error') res.verdict = combineVerdicts(res.checks);
}

/** Roles from the first observation of each instance, before any fault. */
function rolesBefore(events: HistoryEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) {
    if ((e.type === 'mark' && e.name === 'fault') || e.type === 'fault') break;
    if (e.type === 'observation' && e.source !== 'sentinel') out[e.instance] = e.role;
  }
  return out;
}
