/**
 * Faults as operations (Jepsen's nemesis): each applies to the Deployment or to Toxiproxy, and knows how
 * to undo itself. The executor records a FaultEvent when a fault takes effect and when it is undone.
 */
import type { Deployment, PartitionSpec } from '../drivers/driver.js';
import type { HistoryWriter } from '../history/writer.js';
import { ToxiproxyClient } from '../toxiproxy/client.js';
import { ExpectationNotMet } from '../results/expectation.js';

import type { FaultKind, ScheduledFault, ToxicType } from '../history/events.js';

export type { FaultKind, ScheduledFault, ToxicType };

export const ALL_FAULT_KINDS: FaultKind[] = [
  'kill',
  'terminate',
  'pause',
  'restart',
  'stop-host',
  'partition-isolate',
  'partition-split',
  'partition-one-way',
  'toxic-latency',
  'toxic-bandwidth',
  'toxic-timeout',
  'toxic-reset_peer',
  'toxic-slicer',
  'toxic-limit_data',
  'toxic-down',
];

export function isToxic(kind: FaultKind): kind is `toxic-${ToxicType}` {
  return kind.startsWith('toxic-');
}

export function isPartition(kind: FaultKind): boolean {
  return kind.startsWith('partition-');
}

export function partitionSpecOf(f: ScheduledFault): PartitionSpec {
  switch (f.fault) {
    case 'partition-isolate':
      return { kind: 'isolate', host: f.targets[0]! };
    case 'partition-split': {
      const at = f.splitAt ?? 1;
      return { kind: 'split', sides: [f.targets.slice(0, at), f.targets.slice(at)] };
    }
    case 'partition-one-way':
      return { kind: 'one-way', from: f.targets[0]!, to: f.targets[1]! };
    default:
      throw new Error(`${f.fault} is not a partition`);
  }
}

const DEFAULT_TOXIC_ATTRIBUTES: Record<Exclude<ToxicType, 'down'>, Record<string, number>> = {
  latency: { latency: 500, jitter: 100 },
  bandwidth: { rate: 16 },
  timeout: { timeout: 0 },
  reset_peer: { timeout: 0 },
  slicer: { average_size: 8, size_variation: 4, delay: 1000 },
  limit_data: { bytes: 4096 },
};

/** A fault whose target is not there to break (a kill of a process that already exited): no fault, so not recorded as one. */
export class FaultNotApplicable extends ExpectationNotMet {
  constructor(message: string) {
    super('fault-applied', message);
  }
}

/** Instance faults need a running process; killing a dead one would be recorded as a fault that never happened. */
function requireRunning(dep: Deployment, f: ScheduledFault): void {
  const gone = f.targets.filter((t) => !dep.isRunning(t));
  if (gone.length) throw new FaultNotApplicable(`${f.fault} ${gone.join(', ')}: not running, so there is nothing to ${f.fault}`);
}

type InstanceStep = (dep: Deployment, target: string) => Promise<void>;
const nothing: InstanceStep = async () => undefined;

/** Faults on one process or host: what applies them and what undoes them (a restart is its own undo). */
const INSTANCE_FAULTS: Record<'kill' | 'terminate' | 'pause' | 'restart' | 'stop-host', [apply: InstanceStep, undo: InstanceStep]> = {
  kill: [(d, t) => d.kill(t), (d, t) => d.start(t)],
  terminate: [(d, t) => d.terminate(t), (d, t) => d.start(t)],
  pause: [(d, t) => d.pause(t), (d, t) => d.resume(t)],
  restart: [(d, t) => d.restart(t), nothing],
  'stop-host': [(d, t) => d.stopHost(t), (d, t) => d.startHost(t)],
};

/** Applies one fault and returns its undo, recording start/end in the history. */
export async function applyFault(dep: Deployment, history: HistoryWriter, f: ScheduledFault): Promise<() => Promise<void>> {
  const detail = f.attributes ? JSON.stringify(f.attributes) : f.splitAt !== undefined ? `splitAt=${f.splitAt}` : undefined;
  const record = (phase: 'start' | 'end'): void => {
    history.fault({ name: f.fault, targets: f.targets, phase, ...(detail !== undefined ? { detail } : {}) });
  };
  const each = async (fn: (t: string) => Promise<void>): Promise<void> => {
    for (const t of f.targets) await fn(t);
  };
  let undo: () => Promise<void>;
  if (f.fault in INSTANCE_FAULTS && f.fault !== 'stop-host') requireRunning(dep, f);
  switch (f.fault) {
    case 'kill':
    case 'terminate':
    case 'pause':
    case 'restart':
    case 'stop-host': {
      const [apply, undoIt] = INSTANCE_FAULTS[f.fault];
      await each((t) => apply(dep, t));
      undo = () => each((t) => undoIt(dep, t));
      break;
    }
    case 'partition-isolate':
    case 'partition-split':
    case 'partition-one-way':
      if (dep.partitionUnsupportedReason) throw new Error(`partitions unsupported: ${dep.partitionUnsupportedReason}`);
      await dep.partition(partitionSpecOf(f));
      undo = () => dep.heal();
      break;
    default: {
      if (!dep.toxiproxyUrl) throw new Error(`${f.fault} needs Toxiproxy, and the topology routes no link through it`);
      const api = new ToxiproxyClient(dep.toxiproxyUrl);
      const type = f.fault.slice('toxic-'.length) as ToxicType;
      if (type === 'down') {
        await each((t) => api.setEnabled(t, false));
        undo = () => each((t) => api.setEnabled(t, true));
      } else {
        const name = `chaos-${type}`;
        const attrs = { ...DEFAULT_TOXIC_ATTRIBUTES[type], ...(f.attributes ?? {}) };
        await each(async (t) => void (await api.addToxic(t, { type, name, attributes: attrs })));
        undo = () => each((t) => api.removeToxic(t, name));
      }
    }
  }
  record('start');
  if (f.fault === 'restart') {
    record('end');
    return async () => undefined;
  }
  let undone = false;
  return async () => {
    if (undone) return;
    undone = true;
    await undo();
    record('end');
  };
}
