/**
 * Each Toxiproxy toxic must have had its own effect on the writes that crossed it while it was in effect,
 * otherwise "no write was lost under the toxic" proves nothing about that toxic.
 */
import type { HistoryEvent, OpEvent } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { ops } from './timeline.js';

const WRITE_FS = new Set(['add', 'write', 'incr']);
/** Writes in flight when a toxic lands may still complete; judge those invoked after this grace. */
const GRACE_MS = 200;
/** The connection broke under the write: reset or closed with it in flight (ioredis: max retries), or already down when it was sent. */
const CONNECTION_ERROR = /ECONNRESET|reset by peer|Connection is closed|connection closed|EPIPE|socket hang up|ECONNREFUSED|max retries per request|Stream isn't writeable/i;

export type JudgedToxic = 'latency' | 'timeout' | 'reset_peer' | 'limit_data';

interface Outcome {
  invokedAt: number;
  end: number;
  phase: OpEvent['phase'];
  error?: string;
}

/** Writes invoked in [from, to] with how and when they ended. */
function writesInvokedIn(events: HistoryEvent[], from: number, to: number, via?: string): Outcome[] {
  const open = new Map<number, number>();
  const out: Outcome[] = [];
  for (const o of ops(events, (x) => WRITE_FS.has(x.f) && (via === undefined || x.via === via))) {
    if (o.phase === 'invoke') open.set(o.process, o.time);
    else {
      const at = open.get(o.process);
      open.delete(o.process);
      if (at !== undefined && at >= from && at <= to) out.push({ invokedAt: at, end: o.time, phase: o.phase, ...(o.error !== undefined ? { error: o.error } : {}) });
    }
  }
  return out;
}

export function medianWriteLatency(events: HistoryEvent[], from: number, to: number, via?: string): number | undefined {
  const lat = writesInvokedIn(events, from, to, via).filter((w) => w.phase === 'ok' && w.end <= to).map((w) => w.end - w.invokedAt).sort((a, b) => a - b);
  return lat.length ? lat[Math.floor(lat.length / 2)] : undefined;
}

export function checkToxicEffect(events: HistoryEvent[], toxic: JudgedToxic, window: [number, number] | undefined, opts: { latencyMs?: number; via?: string } = {}): CheckResult {
  const name = `${toxic.replace('_', '-')}-toxic-effective`;
  if (!window) return { name, verdict: 'fail', detail: `the ${toxic} toxic was never applied` };
  const [start, end] = window;
  const judged = writesInvokedIn(events, start + GRACE_MS, end, opts.via);
  if (judged.length === 0) return { name, verdict: 'fail', detail: `no write was attempted while the ${toxic} toxic was in effect, so its effect is unknown` };
  const ackedInside = judged.filter((w) => w.phase === 'ok' && w.end <= end).length;
  const connErrors = judged.filter((w) => w.phase !== 'ok' && CONNECTION_ERROR.test(w.error ?? '')).length;
  const ok = (pass: boolean, detail: string, data: Record<string, unknown>): CheckResult => ({ name, verdict: pass ? 'pass' : 'fail', detail, data });
  switch (toxic) {
    case 'latency': {
      const want = opts.latencyMs ?? 0;
      const median = medianWriteLatency(events, start, end, opts.via);
      if (median === undefined) return ok(false, `no write was acknowledged while the ${want} ms latency toxic was in effect`, { attempted: judged.length });
      return ok(median >= want * 0.9, `median write latency ${Math.round(median)} ms under a ${want} ms latency toxic`, { medianMs: median });
    }
    case 'timeout':
      // A stalled link delivers nothing: no write sent during it can be acknowledged before it is removed.
      return ok(ackedInside === 0, ackedInside === 0 ? `the link stalled: none of ${judged.length} writes sent under the timeout toxic was acknowledged while it was in effect` : `${ackedInside} of ${judged.length} writes sent under the timeout toxic were acknowledged while it was in effect: the link did not stall`, { attempted: judged.length, acknowledged: ackedInside });
    case 'reset_peer':
      return ok(connErrors > 0 && ackedInside === 0, connErrors > 0 && ackedInside === 0 ? `connections were reset: ${connErrors} of ${judged.length} writes ended with a connection error, none acknowledged` : `under reset_peer ${ackedInside} of ${judged.length} writes were acknowledged and ${connErrors} ended with a connection error: the resets did not happen`, { attempted: judged.length, acknowledged: ackedInside, connectionErrors: connErrors });
    case 'limit_data':
      return ok(connErrors > 0, connErrors > 0 ? `connections were cut after the data limit: ${connErrors} of ${judged.length} writes ended with a connection error` : `none of ${judged.length} writes under limit_data ended with a connection error: the limit never cut a connection`, { attempted: judged.length, connectionErrors: connErrors });
  }
}
