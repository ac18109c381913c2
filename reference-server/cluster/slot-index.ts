/**
 * Which keys of db 0 live in each hash slot (Redis keeps a per-slot list in the dict entries): COUNTKEYSINSLOT,
 * GETKEYSINSLOT, the dirty-slot cleanup after losing slots, and SETSLOT's "still hold keys" check read it.
 */
import { keyHashSlot } from './keyslot.js';

export class SlotIndex {
  private readonly bySlot = new Map<number, Set<string>>();

  add(key: string): void {
    const slot = keyHashSlot(key);
    let set = this.bySlot.get(slot);
    if (!set) this.bySlot.set(slot, (set = new Set()));
    set.add(key);
  }

  remove(key: string): void {
    const slot = keyHashSlot(key);
    const set = this.bySlot.get(slot);
    if (!set) return;
    set.delete(key);
    if (set.size === 0) this.bySlot.delete(slot);
  }

  count(slot: number): number {
    return this.bySlot.get(slot)?.size ?? 0;
  }

  /** Up to max keys of the slot. */
  keys(slot: number, max: number): string[] {
    const out: string[] = [];
    const set = this.bySlot.get(slot);
    if (!set) return out;
    for (const k of set) {
      if (out.length >= max) break;
      out.push(k);
    }
    return out;
  }

  clear(): void {
    this.bySlot.clear();
  }
}
