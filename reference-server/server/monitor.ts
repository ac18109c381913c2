/** MONITOR: every executed command, as "+<unix>.<us> [<db> <addr>] "arg" ...", to each monitoring client. */
import { performance } from 'node:perf_hooks';
import type { Client } from './connection.js';
import { reprString } from '../resp/splitargs.js';

export function feedMonitors(monitors: ReadonlySet<Client>, c: Client, argv: string[], dbIndex: number): void {
  const now = Date.now();
  const us = Math.floor((performance.timeOrigin * 1000 + performance.now() * 1000) % 1000000);
  let line = `+${Math.floor(now / 1000)}.${String(us).padStart(6, '0')} [${dbIndex} ${c.addr}]`;
  for (const a of argv) line += ' ' + reprString(a);
  line += '\r\n';
  for (const m of monitors) {
    if (m === c) continue;
    m.reply.raw(line);
    m.flush();
  }
}
