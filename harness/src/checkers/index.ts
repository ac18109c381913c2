/** Checkers compose: a scenario's verdict is the worst of its checks. */
import type { CheckResult, Verdict } from '../results/types.js';

export * from './writes.js';
export * from './masters.js';
export * from './availability.js';
export * from './cluster.js';
export * from './timeline.js';
export * from './fault-evidence.js';
export * from './evidence.js';
export * from './routing.js';
export * from './toxics.js';
export * from './reshard.js';

const RANK: Record<Verdict, number> = { pass: 0, skip: 1, fail: 2, error: 3 };

/** Worst verdict; all skipped -> skip, anything failing -> fail, a harness error -> error. */
export function combineVerdicts(checks: Pick<CheckResult, 'verdict'>[]): Verdict {
  if (checks.length === 0) return 'skip';
  let worst: Verdict = 'pass';
  let allSkip = true;
  for (const c of checks) {
    if (c.verdict !== 'skip') allSkip = false;
    if (c.verdict !== 'skip' && RANK[c.verdict] > RANK[worst]) worst = c.verdict;
  }
  return allSkip ? 'skip' : worst;
}

export interface Budget {
  name: string;
  value: number | null | undefined;
  max: number;
  unit?: string;
}

/** Threshold checker: every measured value within its budget (null = never happened = fail). */
export function checkThresholds(budgets: Budget[]): CheckResult {
  const over = budgets.filter((b) => b.value === null || (b.value !== undefined && b.value > b.max));
  const seen = budgets.map((b) => `${b.name} ${b.value === null ? 'never' : b.value === undefined ? 'n/a' : Math.round(b.value)}${b.unit ?? ' ms'} <= ${b.max}${b.unit ?? ' ms'}`);
  return {
    name: 'budgets',
    verdict: over.length ? 'fail' : 'pass',
    detail: over.length ? `over budget: ${over.map((b) => b.name).join(', ')} (${seen.join('; ')})` : seen.join('; '),
  };
}

/** Strips checker-specific extras so only CheckResult fields reach results.json. */
export function asCheck(c: CheckResult): CheckResult {
  const out: CheckResult = { name: c.name, verdict: c.verdict, detail: c.detail };
  if (c.data) out.data = c.data;
  return out;
}
