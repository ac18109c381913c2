#!/usr/bin/env -S node --max-semi-space-size=2
/** redis-ref-sentinel: a drop-in for redis-sentinel (`redis-ref-sentinel /path/to/sentinel.conf [options]`). */
import { main } from '../sentinel/main.js';

main(process.argv.slice(2).filter((a) => a !== '--sentinel')).catch((e: unknown) => {
  process.stderr.write(`redis-ref-sentinel: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
