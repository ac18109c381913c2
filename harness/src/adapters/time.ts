/** Deadlines for adapters, stretched by CHAOS_TIME_SCALE like the rest of the harness (kept here: adapters/ stands alone). */
export function scaledMs(ms: number): number {
  const v = Number(process.env['CHAOS_TIME_SCALE'] ?? '');
  return Math.round(ms * (Number.isFinite(v) && v > 0 ? v : 1));
}
