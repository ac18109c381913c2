/** CLIENT PAUSE (and FAILOVER's write pause): commands of normal clients wait until it ends (Redis's pauseClients). */
import type { RedisServer } from './server.js';

export class ClientPause {
  /** Unix ms the pause lasts until; 0 = none. */
  until = 0;
  /** WRITE mode: only writes (and may_replicate commands) wait. */
  writesOnly = false;

  constructor(private readonly server: RedisServer) {}

  /** A CLIENT PAUSE (WRITE or ALL) is in force: no key is expired or evicted until it ends. */
  active(): boolean {
    return this.until > 0 && Date.now() < this.until;
  }

  /** Ends the pause: runs every postponed command in client order. */
  end(): void {
    this.until = 0;
    const s = this.server;
    for (const c of s.clients.values()) {
      if (!c.paused) continue;
      const argv = c.paused;
      c.paused = null;
      s.dispatcher.processCommand(c, argv);
      s.blocked.handleReadyKeys();
      s.dispatcher.processClient(c);
      c.flush();
    }
  }
}
