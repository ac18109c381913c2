/**
 * history.jsonl writer: events are appended to memory (checkers read them from there) and to a
 * buffer that is written out at phase ends and on close, so recording never blocks the workload.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RunClock } from './clock.js';
import type { FactEvent, FactItemEvent, FactName, FactValue, FaultEvent, ListFactName, HistoryEvent, MarkEvent, OpEvent, RoleObservation, ScenarioFacts } from './events.js';

type Untimed<T> = T extends HistoryEvent ? Omit<T, 'time' | 'scenario'> & { time?: number } : never;

export class HistoryWriter {
  readonly clock: RunClock;
  private buffer: string[] = [];
  private bufferedChars = 0;
  private all: HistoryEvent[] = [];
  private closed = false;
  scenario = '';

  /** `path` undefined keeps the history in memory only (unit tests). */
  constructor(readonly path?: string, clock?: RunClock) {
    this.clock = clock ?? new RunClock();
    if (path) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, '');
    }
  }

  now(): number {
    return this.clock.now();
  }

  append(ev: HistoryEvent): void {
    if (this.closed) return;
    this.all.push(ev);
    if (this.path) {
      const line = JSON.stringify(ev);
      this.buffer.push(line);
      this.bufferedChars += line.length;
      // Long phases must not grow the buffer without bound.
      if (this.bufferedChars > 4_000_000) this.flush();
    }
  }

  /** Stamps the current scenario and time on an event and appends it. */
  record(ev: Untimed<HistoryEvent>): HistoryEvent {
    const full = { ...ev, scenario: this.scenario, time: ev.time ?? this.now() } as HistoryEvent;
    this.append(full);
    return full;
  }

  op(ev: Omit<OpEvent, 'type' | 'scenario' | 'time'>): void {
    this.append({ type: 'op', scenario: this.scenario, time: this.now(), ...ev });
  }

  fault(ev: Omit<FaultEvent, 'type' | 'scenario' | 'time'>): void {
    this.append({ type: 'fault', scenario: this.scenario, time: this.now(), ...ev });
  }

  observation(ev: Omit<RoleObservation, 'type' | 'scenario' | 'time'>): void {
    this.append({ type: 'observation', scenario: this.scenario, time: this.now(), ...ev });
  }

  mark(name: string, detail?: string): MarkEvent {
    const ev: MarkEvent = { type: 'mark', scenario: this.scenario, name, time: this.now() };
    if (detail !== undefined) ev.detail = detail;
    this.append(ev);
    return ev;
  }

  /** Records what a scenario's step saw, as a typed fact the checkers read back from the history. */
  fact<K extends FactName>(name: K, value: FactValue<K>): FactEvent {
    const ev = { type: 'fact', scenario: this.scenario, name, value, time: this.now() } as FactEvent;
    this.append(ev);
    return ev;
  }

  /** Records one more item of an accumulating fact (a seed step, a probe). */
  factItem<K extends ListFactName>(name: K, value: NonNullable<ScenarioFacts[K]>[number]): FactItemEvent {
    const ev = { type: 'fact-item', scenario: this.scenario, name, value, time: this.now() } as FactItemEvent;
    this.append(ev);
    return ev;
  }

  /** Events of one scenario (all events when no name is given). */
  events(scenario?: string): HistoryEvent[] {
    return scenario === undefined ? this.all.slice() : this.all.filter((e) => e.scenario === scenario);
  }

  flush(): void {
    if (!this.path || this.buffer.length === 0) return;
    appendFileSync(this.path, this.buffer.join('\n') + '\n');
    this.buffer = [];
    this.bufferedChars = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }
}
