/** SLOWLOG's entries (Redis's slowlog.c): arguments cut to 32, each to 128 bytes, newest first. */
import type { SlowlogEntry } from '../commands/command.js';
import type { Client } from './connection.js';

export type { SlowlogEntry };

const MAX_ARGS = 32;
const MAX_ARG_BYTES = 128;

export class Slowlog {
  readonly entries: SlowlogEntry[] = [];
  nextId = 0;

  push(c: Client, argv: string[], micros: number, maxLen: number): void {
    const args: string[] = [];
    const n = Math.min(argv.length, MAX_ARGS);
    for (let i = 0; i < n; i++) {
      if (i === MAX_ARGS - 1 && argv.length > MAX_ARGS) {
        args.push(`... (${argv.length - MAX_ARGS + 1} more arguments)`);
        break;
      }
      const a = argv[i];
      args.push(a.length > MAX_ARG_BYTES ? `${a.slice(0, MAX_ARG_BYTES)}... (${a.length - MAX_ARG_BYTES} more bytes)` : a);
    }
    this.entries.unshift({ id: this.nextId++, time: Math.floor(Date.now() / 1000), micros, argv: args, addr: c.addr, name: c.name });
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }
}
