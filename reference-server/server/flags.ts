/** Command flags as bits, computed once per spec, so the hot path tests bits instead of scanning flag arrays. */
import type { CommandSpec } from '../commands/command.js';

export const F_WRITE = 1, F_MAYREP = 2, F_PROTECTED = 4, F_NOAUTH = 8, F_NOMULTI = 16, F_SKIPSLOW = 32, F_SKIPMON = 64,
  F_ADMIN = 128, F_DENYOOM = 256, F_FAST = 512, F_READONLY = 1024, F_MOVABLE = 2048, F_ASKING = 4096;

const flagCache = new WeakMap<CommandSpec, number>();
let lastBitsSpec: CommandSpec | null = null;
let lastBits = 0;

export function flagBits(spec: CommandSpec): number {
  if (spec === lastBitsSpec) return lastBits;
  let b = flagCache.get(spec);
  if (b === undefined) {
    const f = spec.flags;
    b = (f.includes('write') ? F_WRITE : 0) | (f.includes('may_replicate') ? F_MAYREP : 0) | (f.includes('protected') ? F_PROTECTED : 0) |
      (f.includes('no_auth') ? F_NOAUTH : 0) | (f.includes('no_multi') ? F_NOMULTI : 0) | (f.includes('skip_slowlog') ? F_SKIPSLOW : 0) |
      (f.includes('skip_monitor') ? F_SKIPMON : 0) | (f.includes('admin') ? F_ADMIN : 0) | (f.includes('denyoom') ? F_DENYOOM : 0) |
      (f.includes('fast') ? F_FAST : 0) | (f.includes('readonly') ? F_READONLY : 0) |
      (f.includes('movablekeys') || spec.getKeys !== undefined ? F_MOVABLE : 0) | (f.includes('asking') ? F_ASKING : 0);
    flagCache.set(spec, b);
  }
  lastBitsSpec = spec;
  lastBits = b;
  return b;
}
