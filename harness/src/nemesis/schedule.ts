/**
 * The nemesis generator: a pure function from (seed, topology, options) to a list of faults, so the same
 * seed always gives the same faults, targets and offsets.
 */
import type { Topology } from '../topology/model.js';
import { Prng } from '../random/prng.js';
import { isPartition, isToxic, type FaultKind, type ScheduledFault } from './faults.js';

export interface ScheduleOptions {
  /** Total length the faults must fit in, ms. */
  durationMs: number;
  /** Fault kinds to draw from. */
  faults: FaultKind[];
  /** Quiet time before the first fault and between faults. */
  minGapMs?: number;
  maxGapMs?: number;
  minFaultMs?: number;
  maxFaultMs?: number;
  /** Leave partitions out (e.g. no root); the caller says why in the results. */
  partitions?: boolean;
  /** Limit instance faults to these instances (default: every redis instance). */
  instances?: string[];
  /**
   * Share of instance faults aimed at MASTER_TARGET (whatever is master when the fault fires) rather than a
   * fixed instance; the schedule stays a pure function, the executor resolves the symbol. Default 0.5.
   */
  masterBias?: number;
}

/** Symbolic target: the current master, resolved when the fault is applied. */
export const MASTER_TARGET = '@master';

/** Fault kinds possible on this topology (instances, hosts, toxiproxy links). */
export function applicableFaults(topology: Topology, kinds: FaultKind[], partitions: boolean): FaultKind[] {
  return kinds.filter((k) => {
    if (isToxic(k)) return (topology.toxiproxy?.links.length ?? 0) > 0;
    if (isPartition(k)) return partitions && topology.hosts.length >= 2;
    if (k === 'stop-host') return topology.hosts.length >= 2;
    return topology.redis.length > 0;
  });
}

export function generateSchedule(seed: number, topology: Topology, opts: ScheduleOptions): ScheduledFault[] {
  const rng = new Prng(seed).fork('nemesis');
  const minGap = opts.minGapMs ?? 2000;
  const maxGap = Math.max(minGap, opts.maxGapMs ?? 5000);
  const minFault = opts.minFaultMs ?? 2000;
  const maxFault = Math.max(minFault, opts.maxFaultMs ?? 6000);
  const kinds = applicableFaults(topology, opts.faults, opts.partitions ?? true);
  if (kinds.length === 0) return [];
  const instances = opts.instances ?? topology.redis.map((r) => r.name);
  const dataHosts = [...new Set(topology.redis.map((r) => r.host))];
  const links = topology.toxiproxy?.links.map((l) => l.name) ?? [];
  const out: ScheduledFault[] = [];
  let t = rng.int(minGap, maxGap);
  for (;;) {
    const fault = rng.pick(kinds);
    const duration = fault === 'restart' ? 0 : rng.int(minFault, maxFault);
    if (t + duration > opts.durationMs) break;
    const f: ScheduledFault = { at: t, fault, targets: [], duration };
    switch (fault) {
      case 'partition-isolate':
      case 'stop-host':
        f.targets = [rng.pick(dataHosts)];
        break;
      case 'partition-split': {
        const shuffled = rng.shuffle(topology.hosts.map((h) => h.name));
        f.targets = shuffled;
        // The smaller side is the minority, as in Jepsen's majority/minority split.
        f.splitAt = Math.max(1, Math.floor((shuffled.length - 1) / 2));
        break;
      }
      case 'partition-one-way': {
        const [a, b] = rng.shuffle(topology.hosts.map((h) => h.name));
        f.targets = [a!, b!];
        break;
      }
      default:
        if (isToxic(fault)) f.targets = [rng.pick(links)];
        else f.targets = [rng.next() < (opts.masterBias ?? 0.5) ? MASTER_TARGET : rng.pick(instances)];
    }
    out.push(f);
    t += duration + rng.int(minGap, maxGap);
  }
  return out;
}
