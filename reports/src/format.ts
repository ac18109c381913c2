/** Number and time formatting shared by the HTML pages and the plain-text summary. */
import type { ScenarioResult, Verdict } from '../../harness/src/results/types.js';

/** A duration for people: "850 ms", "4.31 s", "2 min 05 s"; null means it never happened. */
export function formatMs(ms: number | null | undefined, missing = '—'): string {
  if (ms === undefined) return missing;
  if (ms === null) return 'never';
  if (!Number.isFinite(ms)) return missing;
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const min = Math.floor(ms / 60_000);
  const sec = Math.round((ms % 60_000) / 1000);
  return `${min} min ${String(sec).padStart(2, '0')} s`;
}

export function formatCount(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US');
}

export function verdictLabel(v: Verdict): string {
  return v.toUpperCase();
}

/** A scenario that passed by reproducing a documented anomaly (lost writes Redis warns about) is not a plain pass. */
export function isAnomalyReproduced(s: Pick<ScenarioResult, 'verdict' | 'reproduces'>): boolean {
  return s.verdict === 'pass' && s.reproduces !== undefined;
}

/** The verdict column's words: "ANOMALY REPRODUCED" for such a pass, else the verdict. */
export function scenarioVerdictLabel(s: Pick<ScenarioResult, 'verdict' | 'reproduces'>): string {
  return isAnomalyReproduced(s) ? 'ANOMALY REPRODUCED' : verdictLabel(s.verdict);
}

/** "anomaly reproduced: 6,849 acknowledged writes lost, as Redis documents (…)" for the headline and notes. */
export function anomalyLine(s: Pick<ScenarioResult, 'verdict' | 'reproduces' | 'writes' | 'splitBrainIntervals'>): string {
  const lost = s.writes.lost;
  const split = s.splitBrainIntervals?.length ?? 0;
  const what = lost > 0 ? `${formatCount(lost)} acknowledged write${lost === 1 ? '' : 's'} lost` : split > 0 ? `${split} split-brain window${split === 1 ? '' : 's'}` : 'detected';
  return `anomaly reproduced: ${what}, as Redis documents (${s.reproduces ?? ''})`;
}

/** Seconds since scenario start, for tables next to the timeline. */
export function formatOffset(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

const VERDICT_ORDER: Record<Verdict, number> = { error: 0, fail: 1, skip: 2, pass: 3 };
export function verdictRank(v: Verdict): number {
  return VERDICT_ORDER[v] ?? 4;
}
