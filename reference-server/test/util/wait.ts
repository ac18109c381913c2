/** Waiting with a deadline, for every test here: poll a condition instead of sleeping a guessed time. */

/** Resolves with fn's first value that is neither undefined nor false; a throw counts as not yet (its message is kept for the timeout error). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves once cond holds. */
export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15000, everyMs = 50): Promise<void> {
  await waitFor(what, async () => (await cond()) || undefined, timeoutMs, everyMs);
}
