/** Exit codes of the CLI: 0 pass, 1 a check failed, 2 bad input, 3 the harness itself failed. */
import type { RunResults, Verdict } from './types.js';

export const EXIT_PASS = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_HARNESS_ERROR = 3;

/** A mistake in what the user asked for (unknown scenario, bad topology, ...). */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

export function exitCodeForVerdict(v: Verdict): number {
  switch (v) {
    case 'pass':
    case 'skip':
      return EXIT_PASS;
    case 'fail':
      return EXIT_CHECK_FAILED;
    case 'error':
      return EXIT_HARNESS_ERROR;
  }
}

/** A harness error outranks a failed check: the failing run could not be judged fully. */
export function exitCodeFor(results: RunResults): number {
  if (results.scenarios.some((s) => s.verdict === 'error')) return EXIT_HARNESS_ERROR;
  if (results.scenarios.some((s) => s.verdict === 'fail')) return EXIT_CHECK_FAILED;
  // A run where nothing ran verified nothing; CI must not read that as a pass.
  if (nothingVerified(results)) return EXIT_CHECK_FAILED;
  return exitCodeForVerdict(results.verdict === 'error' ? 'error' : results.verdict === 'fail' ? 'fail' : 'pass');
}

/** Every scenario was skipped (or there were none): the run verified nothing. */
export function nothingVerified(results: RunResults): boolean {
  return results.scenarios.every((s) => s.verdict === 'skip');
}

/** For exceptions that escape a run: bad input (BadInputError or a TopologyError) is 2, anything else 3. */
export function exitCodeForError(err: unknown): number {
  const name = err instanceof Error ? err.name : '';
  return name === 'BadInputError' || name === 'TopologyError' ? EXIT_BAD_INPUT : EXIT_HARNESS_ERROR;
}
