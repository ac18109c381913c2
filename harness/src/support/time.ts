/**
 * Deadlines for every layer: timeouts scale with CHAOS_TIME_SCALE so slow machines (or CI) can stretch
 * every deadline at once, and waiting is for a condition with a deadline, never a bare sleep.
 */
export function timeScale(): number {
  const raw = process.env['CHAOS_TIME_SCALE'];
  if (raw === undefined || raw === '') return 1;
  const v = Number(raw);
  return Number.isFinite(v) && v > 0 ? v : 1;
}

export function scaled(ms: number): number {
  return Math.round(ms * timeScale());
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Thrown from a wait condition when waiting longer cannot help (e.g. the process exited). */
export class FatalWaitError extends Error {}

/**
 * Polls `cond` until it returns a truthy value or the (scaled) deadline passes; the error names what was
 * awaited and the condition's last error. A FatalWaitError from the condition ends the wait at once.
 */
export async function waitFor<T>(
  what: string,
  cond: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = performance.now() + scaled(timeoutMs);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
      lastErr = undefined;
    } catch (e) {
      if (e instanceof FatalWaitError) throw e;
      lastErr = e;
    }
    if (performance.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new Error(`timed out after ${scaled(timeoutMs)} ms waiting for ${what}${why}`);
    }
    await delay(intervalMs);
  }
}
