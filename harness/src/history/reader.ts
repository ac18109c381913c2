/** Reads history.jsonl back; a torn last line (crash mid-write) is skipped unless asked to be strict, anything else malformed is an error. */
import { readFileSync } from 'node:fs';
import type { HistoryEvent } from './events.js';

const TYPES = new Set(['op', 'fault', 'observation', 'mark', 'fact', 'fact-item']);

export interface ParseOptions {
  /** A torn last line is an error too (analyze judges a run only from a complete history). */
  strict?: boolean;
}

export function parseHistory(text: string, source = 'history.jsonl', opts: ParseOptions = {}): HistoryEvent[] {
  const lines = text.split('\n');
  const out: HistoryEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      const last = i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '');
      if (last && !opts.strict) return;
      throw new Error(`${source}:${i + 1}: not a JSON line${last ? ' (the history is truncated: the run stopped while writing it)' : ''}`);
    }
    if (typeof v !== 'object' || v === null || !TYPES.has(String((v as { type?: unknown }).type))) {
      throw new Error(`${source}:${i + 1}: not a history event (type must be op, fault, observation, mark, fact or fact-item)`);
    }
    const e = v as { scenario?: unknown; time?: unknown };
    if (typeof e.time !== 'number') throw new Error(`${source}:${i + 1}: field "time" must be a number`);
    if (typeof e.scenario !== 'string') throw new Error(`${source}:${i + 1}: field "scenario" must be a string`);
    out.push(v as HistoryEvent);
  });
  return out;
}

export function readHistory(path: string, opts: ParseOptions = {}): HistoryEvent[] {
  return parseHistory(readFileSync(path, 'utf8'), path, opts);
}

