/**
 * Sentinel as a server mode (server/modes.ts): it replaces the command table with Sentinel's and stops its timer, links
 * and scripts when the server shuts down. Its timer is its own (Redis runs it at a random 10-19 Hz, each tick a period
 * after the last one ended), not the core's fixed 100 ms cron. The core knows nothing of it.
 */
import type { RedisServer } from '../server/server.js';
import { buildInfo } from '../commands/server.js';
import type { SentinelState } from './state.js';
import { SentinelRuntime } from './runtime.js';
import { attachRuntime, buildSentinelTable, setCoreInfo } from './commands.js';

export function installSentinel(server: RedisServer, state: SentinelState): SentinelRuntime {
  const runtime = new SentinelRuntime(state, {
    publish: (channel, message) => server.publish(channel, message),
    log: (level, msg) => server.log(level, msg),
    port: () => server.tcpPort,
    requirepass: () => server.config.get('requirepass') ?? '',
    exit: (code) => server.onExit(code),
    rewriteCoreConfig: () => {
      const err = server.config.rewrite();
      if (err !== undefined) throw new Error(err);
    },
  }, server.config.configFile);
  attachRuntime(server, runtime);
  // Sentinel's INFO renders server, clients, stats and cpu with the core's code, then its own section.
  setCoreInfo((s, sections) => (sections.length === 0 ? '' : buildInfo(s as RedisServer, sections)));
  server.replaceCommands([...buildSentinelTable(server.commands).values()].filter((spec, i, all) => all.indexOf(spec) === i));
  server.install({
    name: 'sentinel',
    logName: 'Sentinel',
    shutdown: () => runtime.stop(),
  });
  return runtime;
}
