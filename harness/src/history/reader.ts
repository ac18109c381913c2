/** Reads history.jsonl back; a torn last line (crash mid-write) is skipped, anything else malformed is an error. */
import { readFileSync } from 'node:fs';
import type { HistoryEvent } from './events.js';

const TYPES = new Set(['op', 'fault', 'observation', 'mark', 'fact', 'fact-item']);

export function parseHistory(text: string, source = 'history.jsonl'): HistoryEvent[] {
  const lines = text.split('\n');
  const out: HistoryEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      if (i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '')) return;
      throw new Error(`${source}:${i + 1}: not a JSON line`);
    }
    if (typeof v !== 'object' || v === null || !TYPES.has(String((v as { type?: unknown }).type))) {
      throw new Error(`${source}:${i + 1}: not a history event (type must be op, fault, observation, mark, fact or fact-item)`);
    }
    out.push(v as HistoryEvent);
  });
  return out;
}

export function readHistory(path: string): HistoryEvent[] {
  return parseHistory(readFileSync(path, 'utf8'), path);
}
