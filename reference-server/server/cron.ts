/** The 100 ms server cron (Redis's serverCron): active expiry, blocked-client timeouts, idle clients, pause end, modes' ticks. */
import { performance } from 'node:perf_hooks';
import type { RedisServer } from './server.js';

/** Keys the active expiry cycle looks at per db and tick. */
const EXPIRE_CYCLE_KEYS = 200;

export function serverCron(s: RedisServer): void {
  const now = Date.now();
  if (s.tracking.inUse) s.tracking.limit();
  const expireStart = performance.now();
  for (const db of s.activeExpire ? s.dbs : []) {
    try {
      db.activeExpireCycle(EXPIRE_CYCLE_KEYS);
    } catch (e) {
      s.log('warning', `Active expiry failed: ${(e as Error).message}`);
    }
  }
  const expireMs = Math.floor(performance.now() - expireStart);
  const thresholdUs = s.dispatcher.latencyThresholdUs;
  if (thresholdUs > 0 && expireMs * 1000 >= thresholdUs) s.latency.add('expire-cycle', expireMs);
  const idle = s.config.getNumber('timeout') * 1000;
  for (const c of s.clients.values()) {
    if (c.blocked && c.blocked.deadline > 0 && now >= c.blocked.deadline) {
      s.blocked.timeOut(c, c.blocked);
    } else if (idle > 0 && c.kind === 'normal' && !c.blocked && now - c.lastInteraction > idle) {
      s.log('verbose', `Closing idle client`);
      c.destroy();
    }
  }
  if (s.pause.until > 0 && now >= s.pause.until) s.pause.end();
  try {
    for (const tick of s.modeHooks.cron) tick(now);
  } catch (e) {
    s.log('warning', `Cron hook failed: ${(e as Error).message}`);
  }
  s.blocked.handleReadyKeys();
}
