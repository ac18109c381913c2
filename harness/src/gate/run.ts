/**
 * Runs a gate: each run entry through the engine (its own run folder with results.json, junit.xml, history and
 * report), then judges every scenario against the gate's thresholds. Exit 0 when all hold, 1 when any is
 * broken, 3 when the harness itself failed.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadTopology } from '../topology/load.js';
import { runScenarios } from '../engine/run.js';
import type { RunResults, ScenarioResult } from '../results/types.js';
import { xmlEscape } from '../results/junit.js';
import { EXIT_CHECK_FAILED, EXIT_HARNESS_ERROR, EXIT_PASS } from '../results/exit-code.js';
import type { Driver } from '../drivers/driver.js';
import type { Gate, GateThresholds } from './file.js';
import { EVIDENCE_CHECKS } from '../checkers/evidence.js';

export interface ThresholdVerdict {
  /** e.g. 'max-failover', 'max-lost-writes', 'check:promotion', 'ran'. */
  name: string;
  ok: boolean;
  detail: string;
}

export interface GateScenarioOutcome {
  scenario: string;
  verdict: ScenarioResult['verdict'];
  thresholds: ThresholdVerdict[];
  /** Every threshold held (and the scenario ran, or skipping is allowed). */
  ok: boolean;
  /** The harness failed (exit 3), which outranks broken thresholds. */
  harnessError?: string;
}

export interface GateRunOutcome {
  topology: string;
  topologyFile: string;
  target: string;
  dir: string;
  scenarios: GateScenarioOutcome[];
}

export interface GateOutcome {
  gate: string;
  file: string;
  seed: number;
  driver: string;
  outDir: string;
  startedAt: string;
  durationMs: number;
  verdict: 'pass' | 'fail' | 'error';
  exitCode: number;
  runs: GateRunOutcome[];
}

export interface GateOptions {
  outDir: string;
  seed?: number;
  driver?: 'local' | 'docker';
  log?: (line: string) => void;
  /** Renders each run folder's report.html (the CLI passes the report renderer; tests may omit it). */
  renderReport?: (runDir: string) => Promise<string>;
  /** Injected driver (tests). */
  driverInstance?: Driver;
  commandLine?: string;
}

/** Checks that say whether a run tested anything at all, or that the system never did what was waited for. */
function isEvidence(c: ScenarioResult['checks'][number]): boolean {
  return (EVIDENCE_CHECKS as readonly string[]).includes(c.name) || c.data?.['expectation'] === true;
}

const fmtS = (ms: number | null | undefined): string => (ms === null ? 'never' : ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

/** Client scenarios: client-side failover per round, the longest unsettled wait, and no command left unsettled. */
function judgeClient(s: ScenarioResult, t: GateThresholds, out: GateScenarioOutcome): void {
  const c = s.client;
  if (!c) {
    if (t.maxClientFailoverSeconds !== undefined || t.maxStuckSeconds !== undefined) out.thresholds.push({ name: 'client', ok: true, detail: 'not a client scenario: no client thresholds apply' });
    return;
  }
  if (t.maxClientFailoverSeconds !== undefined) {
    const max = t.maxClientFailoverSeconds * 1000;
    const worst = c.rounds.length === 0 ? null : c.rounds.some((r) => r.clientFailoverMs === null) ? null : Math.max(...c.rounds.map((r) => r.clientFailoverMs ?? 0));
    const ok = worst !== null && worst <= max;
    out.thresholds.push({ name: 'max-client-failover', ok, detail: `${c.name}: client-side failover ${fmtS(worst)} ${ok ? '<=' : '>'} ${t.maxClientFailoverSeconds} s` });
  }
  if (t.maxStuckSeconds !== undefined) {
    const stuck = c.rounds.length ? Math.max(...c.rounds.map((r) => r.stuckMs)) : 0;
    const ok = stuck <= t.maxStuckSeconds * 1000;
    out.thresholds.push({ name: 'max-stuck', ok, detail: `${c.name}: the longest command waited ${fmtS(stuck)} ${ok ? '<=' : '>'} ${t.maxStuckSeconds} s` });
  }
  const unsettled = c.rounds.reduce((n, r) => n + r.unsettled, 0);
  out.thresholds.push({ name: 'no-unsettled', ok: unsettled === 0, detail: unsettled === 0 ? `${c.name}: every command settled` : `${c.name}: ${unsettled} command(s) never settled` });
}

/** Judges one scenario result against thresholds; pure. */
export function judgeScenario(s: ScenarioResult, t: GateThresholds): GateScenarioOutcome {
  const out: GateScenarioOutcome = { scenario: s.name, verdict: s.verdict, thresholds: [], ok: true };
  if (s.verdict === 'error') {
    out.harnessError = s.error ?? 'harness error';
    out.ok = false;
    out.thresholds.push({ name: 'ran', ok: false, detail: `harness error: ${out.harnessError}` });
    return out;
  }
  if (s.verdict === 'skip') {
    // Skipped before running, or ran with every check skipped: either way nothing was verified.
    const ok = t.allowSkip;
    out.ok = ok;
    const why = s.checks.length === 0 ? `skipped: ${s.skipReason ?? 'no reason given'}` : `every check was skipped (${s.checks.map((c) => `${c.name}: ${c.detail}`).join('; ')})`;
    out.thresholds.push({ name: 'ran', ok, detail: `${why}${ok ? ' (allowSkip)' : '; the gate cannot vouch for it (set allowSkip: true to accept)'}` });
    return out;
  }
  if (t.maxFailoverSeconds !== undefined) {
    const max = t.maxFailoverSeconds * 1000;
    if (s.failoverMs === undefined) out.thresholds.push({ name: 'max-failover', ok: true, detail: `no failover measured in this scenario (limit ${t.maxFailoverSeconds} s)` });
    else {
      const ok = s.failoverMs !== null && s.failoverMs <= max;
      out.thresholds.push({ name: 'max-failover', ok, detail: `failover ${fmtS(s.failoverMs)} ${ok ? '<=' : '>'} ${t.maxFailoverSeconds} s` });
    }
  }
  if (t.maxUnavailabilitySeconds !== undefined) {
    const max = t.maxUnavailabilitySeconds * 1000;
    if (s.unavailabilityMs === undefined) out.thresholds.push({ name: 'max-unavailability', ok: true, detail: `no unavailability measured in this scenario (limit ${t.maxUnavailabilitySeconds} s)` });
    else {
      const ok = s.unavailabilityMs !== null && s.unavailabilityMs <= max;
      out.thresholds.push({ name: 'max-unavailability', ok, detail: `longest unavailability ${fmtS(s.unavailabilityMs)} ${ok ? '<=' : '>'} ${t.maxUnavailabilitySeconds} s` });
    }
  }
  judgeClient(s, t, out);
  const writesCheck = s.checks.find((c) => c.name === 'acknowledged-writes');
  if (t.maxLostWrites && writesCheck && (writesCheck.verdict !== 'pass' || writesCheck.data?.['verified'] === false)) {
    // Lost writes counted by a check that failed or never read back prove nothing either way.
    out.thresholds.push({ name: 'max-lost-writes', ok: false, detail: `cannot be judged: the acknowledged-writes check ${writesCheck.verdict === 'skip' ? 'was skipped' : 'failed'}: ${writesCheck.detail}` });
  } else if (t.maxLostWrites && !writesCheck && s.writes.attempted === 0) {
    out.thresholds.push({ name: 'max-lost-writes', ok: true, detail: 'this scenario runs no write workload' });
  } else if (t.maxLostWrites) {
    const { lost, acknowledged } = s.writes;
    if ('count' in t.maxLostWrites) {
      const ok = lost <= t.maxLostWrites.count;
      out.thresholds.push({ name: 'max-lost-writes', ok, detail: `${lost} of ${acknowledged} acknowledged writes lost ${ok ? '<=' : '>'} ${t.maxLostWrites.count}` });
    } else {
      const frac = acknowledged > 0 ? lost / acknowledged : 0;
      const ok = frac <= t.maxLostWrites.fraction;
      out.thresholds.push({ name: 'max-lost-writes', ok, detail: `${lost} of ${acknowledged} acknowledged writes lost (${(frac * 100).toFixed(3)}%) ${ok ? '<=' : '>'} ${(t.maxLostWrites.fraction * 100).toFixed(3)}%` });
    }
  }
  if (t.checks === 'all') {
    const failed = s.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'error');
    out.thresholds.push({ name: 'checks', ok: failed.length === 0, detail: failed.length ? `failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}` : `all ${s.checks.length} checks passed` });
  } else {
    for (const name of t.checks) {
      const c = s.checks.find((x) => x.name === name);
      const ok = c?.verdict === 'pass';
      out.thresholds.push({ name: `check:${name}`, ok, detail: c ? `${c.verdict}: ${c.detail}` : `the scenario has no check named "${name}" (it has ${s.checks.map((x) => x.name).join(', ')})` });
    }
    // A named list picks what to judge, never whether the run tested anything: evidence checks always count.
    const unproven = s.checks.filter((c) => !t.checks.includes(c.name) && c.verdict !== 'pass' && (isEvidence(c) || (c.name === 'acknowledged-writes' && c.data?.['verified'] !== true)));
    if (unproven.length) out.thresholds.push({ name: 'evidence', ok: false, detail: `the run proves nothing: ${unproven.map((c) => `${c.name} (${c.detail})`).join('; ')}` });
  }
  out.ok = out.thresholds.every((x) => x.ok);
  return out;
}

export function gateExitCode(runs: GateRunOutcome[]): number {
  const all = runs.flatMap((r) => r.scenarios);
  if (all.some((s) => s.harnessError !== undefined)) return EXIT_HARNESS_ERROR;
  return all.every((s) => s.ok) ? EXIT_PASS : EXIT_CHECK_FAILED;
}

function writeAtomic(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

export function gateJUnit(o: GateOutcome): string {
  const suites = o.runs.map((r) => {
    const cases = r.scenarios.flatMap((s) =>
      s.thresholds.map((t) => {
        const body = t.ok ? `<system-out>${xmlEscape(t.detail)}</system-out>` : s.harnessError !== undefined ? `<error message="${xmlEscape(t.detail)}"/>` : `<failure message="${xmlEscape(t.detail)}" type="${xmlEscape(t.name)}">${xmlEscape(t.detail)}</failure>`;
        return `    <testcase classname="gate.${xmlEscape(r.topology)}.${xmlEscape(s.scenario)}" name="${xmlEscape(`${s.scenario} / ${t.name}`)}">${body}</testcase>`;
      }),
    );
    const failures = r.scenarios.filter((s) => s.harnessError === undefined).flatMap((s) => s.thresholds).filter((t) => !t.ok).length;
    const errors = r.scenarios.filter((s) => s.harnessError !== undefined).length;
    return `  <testsuite name="gate ${xmlEscape(o.gate)}: ${xmlEscape(r.topology)} (${xmlEscape(r.target)})" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0">\n${cases.join('\n')}${cases.length ? '\n' : ''}  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="redis-ha-chaos gate ${xmlEscape(o.gate)}" time="${(o.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export function gateSummary(o: GateOutcome): string[] {
  const lines: string[] = [];
  for (const r of o.runs) {
    lines.push(`${r.topology} (${r.target}):`);
    for (const s of r.scenarios) {
      lines.push(`  ${s.ok ? 'PASS' : s.harnessError !== undefined ? 'ERROR' : 'FAIL'} ${s.scenario} [${s.verdict}]`);
      for (const t of s.thresholds) if (!t.ok || process.env['CHAOS_GATE_VERBOSE']) lines.push(`      ${t.ok ? 'ok  ' : 'BROKEN'} ${t.name}: ${t.detail}`);
    }
  }
  const broken = o.runs.flatMap((r) => r.scenarios).filter((s) => !s.ok).length;
  lines.push(`gate ${o.gate}: ${o.verdict.toUpperCase()} (exit ${o.exitCode}); ${broken} scenario(s) broke a threshold; results in ${o.outDir}`);
  return lines;
}

export async function runGate(gate: Gate, opts: GateOptions): Promise<GateOutcome> {
  const log = opts.log ?? (() => undefined);
  const seed = (opts.seed ?? gate.seed ?? 1) >>> 0;
  const driver = opts.driver ?? gate.driver;
  const outDir = path.resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  const outcome: GateOutcome = { gate: gate.name, file: gate.file, seed, driver, outDir, startedAt: new Date(t0).toISOString(), durationMs: 0, verdict: 'pass', exitCode: EXIT_PASS, runs: [] };
  const save = (): void => {
    outcome.durationMs = Date.now() - t0;
    outcome.exitCode = gateExitCode(outcome.runs);
    outcome.verdict = outcome.exitCode === EXIT_PASS ? 'pass' : outcome.exitCode === EXIT_CHECK_FAILED ? 'fail' : 'error';
    writeAtomic(path.join(outDir, 'gate.json'), JSON.stringify(outcome, null, 2) + '\n');
    writeAtomic(path.join(outDir, 'junit.xml'), gateJUnit(outcome));
  };
  // Every topology is validated before anything is deployed: a mistake in the last one must not cost a whole run.
  const topologies = gate.runs.map((r) => loadTopology(r.topologyFile, r.profile !== undefined ? { profile: r.profile } : {}));
  for (const [i, r] of gate.runs.entries()) {
    const topology = topologies[i]!;
    const dir = path.join(outDir, `${String(i + 1).padStart(2, '0')}-${topology.name}${r.target ? `-${r.target}` : ''}`);
    log(`[gate] ${gate.name}: ${topology.name}${r.profile ? ` (profile ${r.profile})` : ''}, target ${r.target ?? 'per topology'}: ${r.scenarios.map((s) => s.name).join(', ')}`);
    let results: RunResults | undefined;
    let runError: string | undefined;
    try {
      results = await runScenarios({
        topology,
        scenarios: r.scenarios.map((s) => s.name),
        ...(r.client !== undefined ? { client: r.client } : {}),
        ...(r.target ? { target: r.target } : {}),
        driverName: driver,
        seed,
        outDir: dir,
        log,
        commandLine: opts.commandLine ?? `redis-ha-chaos gate ${gate.file} --seed ${seed}`,
        ...(opts.driverInstance ? { driverInstance: opts.driverInstance } : {}),
      });
      if (opts.renderReport) await opts.renderReport(dir).catch((e: unknown) => log(`[gate] report for ${dir} failed: ${e instanceof Error ? e.message : String(e)}`));
    } catch (e) {
      runError = e instanceof Error ? e.message : String(e);
    }
    const scenarios: GateScenarioOutcome[] = r.scenarios.map((gs) => {
      const res = results?.scenarios.find((x) => x.name === gs.name);
      if (!res) return { scenario: gs.name, verdict: 'error', thresholds: [{ name: 'ran', ok: false, detail: `harness error: ${runError ?? 'no result'}` }], ok: false, harnessError: runError ?? 'no result' };
      return judgeScenario(res, gs.thresholds);
    });
    outcome.runs.push({ topology: topology.name, topologyFile: r.topologyFile, target: results?.target ?? r.target ?? 'per topology', dir, scenarios });
    save();
  }
  save();
  return outcome;
}
