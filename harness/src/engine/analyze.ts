/**
 * `analyze RUN_DIR` (Jepsen's analyze): judges a recorded run again from its folder alone. results.json
 * names each scenario, its topology model, target, driver and seed; history.jsonl holds everything the
 * scenario saw. Every checker runs again over the history, and results.json and junit.xml are rewritten.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HistoryEvent } from '../history/events.js';
import { readHistory } from '../history/reader.js';
import { toJUnit } from '../results/junit.js';
import { BadInputError } from '../results/exit-code.js';
import type { RunResults, ScenarioResult, Verdict } from '../results/types.js';
import { getScenario } from '../scenarios/index.js';
import { judgeScenario, runVerdict, writeAtomic } from './run.js';

export interface AnalyzeOutcome {
  results: RunResults;
  /** Scenarios whose verdict differs from the one results.json recorded: name, before, after. */
  changed: { name: string; before: Verdict; after: Verdict }[];
}

function readResults(dir: string): RunResults {
  const path = join(dir, 'results.json');
  if (!existsSync(path)) throw new BadInputError(`${path}: missing; expected a run folder written by redis-ha-chaos run`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BadInputError(`${path}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const r = v as Partial<RunResults>;
  if (r.tool !== 'redis-ha-chaos' || !Array.isArray(r.scenarios)) throw new BadInputError(`${path}: not a redis-ha-chaos results file (field "scenarios" missing)`);
  return v as RunResults;
}

function markOf(events: HistoryEvent[], name: string): (HistoryEvent & { type: 'mark' }) | undefined {
  return events.find((e): e is HistoryEvent & { type: 'mark' } => e.type === 'mark' && e.name === name);
}

/** Re-judges every scenario that ran; throws BadInputError (exit 2) on a missing, truncated or malformed run folder. */
export function analyzeRun(runDir: string): AnalyzeOutcome {
  const dir = resolve(runDir);
  const results = readResults(dir);
  const historyPath = join(dir, results.history || 'history.jsonl');
  if (!existsSync(historyPath)) throw new BadInputError(`${historyPath}: missing; the run folder has no history to judge`);
  let all: HistoryEvent[];
  try {
    all = readHistory(historyPath, { strict: true });
  } catch (e) {
    throw new BadInputError(e instanceof Error ? e.message : String(e));
  }
  const lines = readFileSync(historyPath, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  const changed: AnalyzeOutcome['changed'] = [];
  results.scenarios = results.scenarios.map((recorded, i) => {
    const where = `${join(dir, 'results.json')}: scenarios[${i}]`;
    if (recorded.skipReason) return recorded;
    const events = all.filter((e) => e.scenario === recorded.name);
    // A scenario that never reached its steps (deployment failed) has nothing to judge: its error stands.
    if (!markOf(events, 'phase-run')) return recorded;
    if (!markOf(events, 'scenario-end')) {
      throw new BadInputError(`${historyPath}:${lines}: the history of scenario "${recorded.name}" ends without its scenario-end mark (truncated)`);
    }
    const s = getScenario(recorded.name);
    if (!s) throw new BadInputError(`${where}: unknown scenario "${recorded.name}"; list them with: redis-ha-chaos scenarios`);
    if (!recorded.topologyModel) throw new BadInputError(`${where}: field "topologyModel" missing; the run folder does not record the topology it ran on`);
    const res: ScenarioResult = {
      ...recorded,
      verdict: 'skip',
      checks: [],
      writes: { attempted: 0, acknowledged: 0, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 },
      lostSample: [],
      unexpectedSample: [],
    };
    for (const k of ['error', 'failoverMs', 'failoverInterval', 'unavailabilityMs', 'unavailabilityIntervals', 'splitBrainIntervals', 'warnings'] as const) delete res[k];
    // A step that threw is recorded in the history; the scenario stays an error whatever the checks say.
    const stepError = markOf(events, 'scenario-error');
    if (stepError) {
      res.verdict = 'error';
      res.error = stepError.detail ?? 'a scenario step failed';
    }
    judgeScenario(s, events, recorded.topologyModel, res);
    if (res.verdict !== recorded.verdict) changed.push({ name: recorded.name, before: recorded.verdict, after: res.verdict });
    return res;
  });
  results.verdict = runVerdict(results.scenarios.map((s) => s.verdict));
  writeAtomic(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeAtomic(join(dir, 'junit.xml'), toJUnit(results));
  return { results, changed };
}
