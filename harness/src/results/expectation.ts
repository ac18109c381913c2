/**
 * The system under test never did what a scenario waited for (no promotion, no recovery, a replica that never
 * rejoined). That is the configuration failing, so the engine turns it into a failed check (exit 1); exit 3 stays
 * for the harness's own failures.
 */
export class ExpectationNotMet extends Error {
  constructor(
    /** The check the unmet expectation fails, e.g. 'promotion', 'failback', 'recovery'. */
    readonly check: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExpectationNotMet';
  }
}

export function isExpectationNotMet(e: unknown): e is ExpectationNotMet {
  return e instanceof ExpectationNotMet || (e instanceof Error && e.name === 'ExpectationNotMet' && typeof (e as { check?: unknown }).check === 'string');
}
