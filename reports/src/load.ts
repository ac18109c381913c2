/** Reads a run folder (results.json + history.jsonl) and folds the history into what the report shows. */
import { createReadStream } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FaultEvent, HistoryEvent, MarkEvent, OpEvent, RoleObservation } from '../../harness/src/history/events.js';
import type { RunResults } from '../../harness/src/results/types.js';

/** Raw rows kept per scenario for failed and indeterminate operations. */
export const FAILURE_ROWS_KEPT = 500;

export type Outcome = 'ok' | 'fail' | 'info';

export interface FailureRow {
  time: number;
  process: number;
  f: string;
  via: string;
  phase: 'fail' | 'info';
  key?: string;
  value?: unknown;
  error?: string;
  latencyMs: number | null;
}

export interface FaultWindow {
  name: string;
  targets: string[];
  detail?: string;
  start: number;
  /** null when the fault never ended within the history. */
  end: number | null;
}

export interface RoleSegment {
  start: number;
  end: number;
  role: string;
  writable?: boolean;
  master?: string;
}

export interface InstanceRoles {
  instance: string;
  source: RoleObservation['source'];
  segments: RoleSegment[];
}

export interface SentinelEvent {
  time: number;
  sentinel: string;
  /** The Sentinel channel, e.g. '+sdown', '+odown', '+switch-master'. */
  event: string;
  message?: string;
  /** For '+switch-master': the new master address. */
  master?: string;
}

/** Sentinel events kept per scenario: the chatter ('__sentinel__:hello' every 2 s) is dropped first. */
export const SENTINEL_EVENTS_KEPT = 2000;

export interface ErrorSummary {
  error: string;
  fail: number;
  info: number;
  first: number;
  last: number;
}

/** Distinct error messages counted per scenario; the rest are summed under one row. */
export const ERROR_KINDS_KEPT = 50;
const OTHER_ERRORS = '(other messages)';

/** The id the acknowledged-writes checker gives a write ('add': the value; 'write': key=value), so lost ids can be placed in time. */
export function writeId(op: OpEvent): string | undefined {
  if (op.f === 'add') return op.value === undefined ? undefined : String(op.value);
  if (op.f === 'write') return op.key !== undefined && op.value !== undefined ? `${op.key}=${String(op.value)}` : undefined;
  return undefined;
}

/** Everything the history says about one scenario, in compact form. */
export class ScenarioHistory {
  readonly completionTime: number[] = [];
  readonly completionOutcome: Outcome[] = [];
  /** NaN when the matching invoke was not recorded. */
  readonly completionLatency: number[] = [];
  invokes = 0;
  readonly counts: Record<Outcome, number> = { ok: 0, fail: 0, info: 0 };
  readonly failures: FailureRow[] = [];
  failureCount = 0;
  readonly faults: FaultWindow[] = [];
  readonly marks: MarkEvent[] = [];
  readonly sentinelEvents: SentinelEvent[] = [];
  readonly roles = new Map<string, InstanceRoles>();
  readonly errors = new Map<string, ErrorSummary>();
  /** Acknowledgement time and path of every acknowledged write, by checker id. */
  readonly acknowledged = new Map<string, { time: number; via: string }>();
  firstTime = Infinity;
  lastTime = -Infinity;
  private readonly pending = new Map<number, number>();

  add(event: HistoryEvent): void {
    if (Number.isFinite(event.time)) {
      this.firstTime = Math.min(this.firstTime, event.time);
      this.lastTime = Math.max(this.lastTime, event.time);
    }
    switch (event.type) {
      case 'op':
        this.addOp(event);
        break;
      case 'fault':
        this.addFault(event);
        break;
      case 'observation':
        this.addObservation(event);
        break;
      case 'mark':
        this.marks.push(event);
        break;
    }
  }

  private addOp(op: OpEvent): void {
    if (op.phase === 'invoke') {
      this.invokes++;
      this.pending.set(op.process, op.time);
      return;
    }
    const started = this.pending.get(op.process);
    this.pending.delete(op.process);
    const latency = started === undefined ? NaN : op.time - started;
    this.completionTime.push(op.time);
    this.completionOutcome.push(op.phase);
    this.completionLatency.push(latency);
    this.counts[op.phase]++;
    if (op.phase === 'ok') {
      const id = writeId(op);
      if (id !== undefined) this.acknowledged.set(id, { time: op.time, via: op.via });
    } else {
      this.countError(op.error ?? '(no error message)', op.phase, op.time);
      this.failureCount++;
      if (this.failures.length < FAILURE_ROWS_KEPT) {
        this.failures.push({
          time: op.time,
          process: op.process,
          f: op.f,
          via: op.via,
          phase: op.phase,
          key: op.key,
          value: op.value,
          error: op.error,
          latencyMs: Number.isNaN(latency) ? null : latency,
        });
      }
    }
  }

  private countError(message: string, phase: 'fail' | 'info', time: number): void {
    let key = message.length > 300 ? message.slice(0, 300) + '…' : message;
    if (!this.errors.has(key) && this.errors.size >= ERROR_KINDS_KEPT) key = OTHER_ERRORS;
    let e = this.errors.get(key);
    if (!e) {
      e = { error: key, fail: 0, info: 0, first: time, last: time };
      this.errors.set(key, e);
    }
    e[phase]++;
    e.first = Math.min(e.first, time);
    e.last = Math.max(e.last, time);
  }

  private addFault(fault: FaultEvent): void {
    if (fault.phase === 'start') {
      this.faults.push({ name: fault.name, targets: fault.targets, detail: fault.detail, start: fault.time, end: null });
      return;
    }
    const sameTargets = (w: FaultWindow): boolean => w.targets.join('\u0000') === fault.targets.join('\u0000');
    const open = this.faults.filter((w) => w.end === null);
    // A 'heal' ends whatever is open; otherwise match name and targets, then targets alone.
    const match =
      open.reverse().find((w) => w.name === fault.name && sameTargets(w)) ??
      open.find(sameTargets) ??
      (fault.name === 'heal' || fault.targets.length === 0 ? open[0] : undefined);
    if (match) {
      if (fault.name === 'heal') {
        for (const w of this.faults) if (w.end === null) w.end = fault.time;
      } else {
        match.end = fault.time;
      }
    } else {
      this.faults.push({ name: fault.name, targets: fault.targets, detail: fault.detail, start: fault.time, end: fault.time });
    }
  }

  private addObservation(obs: RoleObservation): void {
    if (obs.source === 'sentinel') {
      const event = obs.role === 'sentinel-switch' ? '+switch-master' : obs.role;
      if (event.startsWith('__') || this.sentinelEvents.length >= SENTINEL_EVENTS_KEPT) return;
      const message = obs.detail?.message;
      this.sentinelEvents.push({ time: obs.time, sentinel: obs.instance, event, message: message === undefined ? undefined : String(message), master: obs.master });
      return;
    }
    let entry = this.roles.get(obs.instance);
    if (!entry) {
      entry = { instance: obs.instance, source: obs.source, segments: [] };
      this.roles.set(obs.instance, entry);
    }
    const last = entry.segments[entry.segments.length - 1];
    if (last && last.role === obs.role && last.writable === obs.writable && last.master === obs.master) {
      last.end = Math.max(last.end, obs.time);
      return;
    }
    if (last) last.end = obs.time;
    entry.segments.push({ start: obs.time, end: obs.time, role: obs.role, writable: obs.writable, master: obs.master });
  }

  /** Ends what is still open at the scenario's end: last known roles; faults known only from 'fault'/'heal' marks. */
  finish(end: number): void {
    if (this.faults.length === 0) {
      const marks = [...this.marks].sort((a, b) => a.time - b.time);
      for (const m of marks) {
        if (m.name !== 'fault') continue;
        const heal = marks.find((x) => x.name === 'heal' && x.time >= m.time);
        const words = (m.detail ?? 'fault').split(' ');
        this.faults.push({ name: words[0] ?? 'fault', targets: words.slice(1).join(' ').split(/,\s*/).filter(Boolean), detail: 'from marks', start: m.time, end: heal ? heal.time : null });
      }
    }
    for (const entry of this.roles.values()) {
      const last = entry.segments[entry.segments.length - 1];
      if (last && last.end < end) last.end = end;
    }
  }
}

export interface LoadedRun {
  dir: string;
  results: RunResults;
  histories: Map<string, ScenarioHistory>;
  /** Lines of history.jsonl that were not valid events. */
  malformedLines: number;
  historyMissing: boolean;
}

export async function loadResults(runDir: string): Promise<RunResults> {
  const file = join(runDir, 'results.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`report: ${file} not found; give a run folder written by 'redis-ha-chaos run'`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`report: ${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!isRunResults(parsed)) {
    throw new Error(`report: ${file} is not a redis-ha-chaos results file (needs runId, verdict and scenarios[])`);
  }
  return normalise(parsed);
}

/** Older or partial results files (a run that crashed mid-way) still render: missing lists and counts become empty. */
function normalise(r: RunResults): RunResults {
  const zero = { attempted: 0, acknowledged: 0, lost: 0, unexpected: 0, recovered: 0, indeterminate: 0 };
  return {
    ...r,
    versions: r.versions ?? {},
    command: r.command ?? '',
    history: r.history ?? 'history.jsonl',
    scenarios: r.scenarios.map((s) => ({
      ...s,
      name: String(s.name ?? '(unnamed)'),
      description: s.description ?? '',
      checks: Array.isArray(s.checks) ? s.checks : [],
      writes: { ...zero, ...(s.writes ?? {}) },
      lostSample: Array.isArray(s.lostSample) ? s.lostSample.map(String) : [],
      unexpectedSample: Array.isArray(s.unexpectedSample) ? s.unexpectedSample.map(String) : [],
      configFiles: Array.isArray(s.configFiles) ? s.configFiles : [],
      startedAt: typeof s.startedAt === 'number' ? s.startedAt : 0,
      durationMs: typeof s.durationMs === 'number' ? s.durationMs : 0,
    })),
  };
}

function isRunResults(value: unknown): value is RunResults {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.runId === 'string' && typeof v.verdict === 'string' && Array.isArray(v.scenarios);
}

function isHistoryEvent(value: unknown): value is HistoryEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.type === 'op' || v.type === 'fault' || v.type === 'observation' || v.type === 'mark') &&
    typeof v.scenario === 'string' &&
    typeof v.time === 'number'
  );
}

export async function loadRun(runDir: string): Promise<LoadedRun> {
  const results = await loadResults(runDir);
  const histories = new Map<string, ScenarioHistory>();
  for (const s of results.scenarios) histories.set(s.name, new ScenarioHistory());
  const historyFile = join(runDir, results.history || 'history.jsonl');
  let malformedLines = 0;
  let historyMissing = false;
  try {
    await stat(historyFile);
  } catch {
    historyMissing = true;
  }
  if (!historyMissing) {
    const lines = createInterface({ input: createReadStream(historyFile, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        malformedLines++;
        continue;
      }
      if (!isHistoryEvent(event)) {
        malformedLines++;
        continue;
      }
      let history = histories.get(event.scenario);
      if (!history) {
        history = new ScenarioHistory();
        histories.set(event.scenario, history);
      }
      history.add(event);
    }
  }
  for (const s of results.scenarios) {
    const h = histories.get(s.name);
    if (h) h.finish(Math.max(s.startedAt + s.durationMs, h.lastTime));
  }
  return { dir: runDir, results, histories, malformedLines, historyMissing };
}

/** Whether a file exists (a run folder may lack its report or history). */
export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
