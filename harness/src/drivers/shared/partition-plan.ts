/**
 * Which addresses each host drops for a partition, apart from how a driver installs the rules (nft in a
 * namespace, nsenter into a container's): both drivers cut the same way.
 */
import type { PartitionSpec } from '../driver.js';

export interface DropSets {
  from: Set<string>;
  to: Set<string>;
}

/** Per touched host (in the order they are touched), the addresses it drops inbound (`from`) and outbound (`to`). */
export function planPartition(spec: PartitionSpec, hosts: string[], address: (host: string) => string): Map<string, DropSets> {
  const plan = new Map<string, DropSets>();
  const rules = (h: string) => {
    let r = plan.get(h);
    if (!r) plan.set(h, (r = { from: new Set(), to: new Set() }));
    return r;
  };
  const cut = (a: string, bs: string[]) => {
    const r = rules(a);
    for (const b of bs) {
      if (b === a) continue;
      r.from.add(address(b));
      r.to.add(address(b));
    }
  };
  if (spec.kind === 'isolate') {
    address(spec.host);
    cut(spec.host, hosts);
  } else if (spec.kind === 'split') {
    const [a, b] = spec.sides;
    [...a, ...b].forEach(address);
    a.forEach((h) => cut(h, b));
    b.forEach((h) => cut(h, a));
  } else {
    // Packets from `from` never arrive at `to`; `to`'s own packets still leave.
    const from = address(spec.from);
    rules(spec.to).from.add(from);
  }
  return plan;
}

/** Partitions add up until heal(): merges a plan into the drops in force and returns the hosts whose rules changed. */
export function addDrops(drops: Map<string, DropSets>, plan: Map<string, DropSets>): string[] {
  for (const [h, p] of plan) {
    let r = drops.get(h);
    if (!r) drops.set(h, (r = { from: new Set(), to: new Set() }));
    p.from.forEach((a) => r.from.add(a));
    p.to.forEach((a) => r.to.add(a));
  }
  return [...plan.keys()];
}
