/** One check per seed walk-through step: each must have been reached and seen as the seed shows. */
import type { ScenarioFacts } from '../history/events.js';
import type { CheckResult } from '../results/types.js';

export function observationChecks(facts: ScenarioFacts, expected: string[]): CheckResult[] {
  const obs = facts.seedSteps ?? [];
  return expected.map((step) => {
    const o = obs.filter((x) => x.step === step);
    if (o.length === 0) return { name: `seed-${step}`, verdict: 'fail' as const, detail: 'the run never reached this step' };
    const bad = o.find((x) => !x.ok);
    return { name: `seed-${step}`, verdict: bad ? ('fail' as const) : ('pass' as const), detail: (bad ?? o[o.length - 1]!).detail };
  });
}
