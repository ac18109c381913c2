/**
 * Reply faults plugged into the server: DEBUG REPLY-FAULT is there from the start (behind enable-debug-command, like
 * every DEBUG subcommand); the hook that answers in a command's place joins dispatch only once a rule is set, so a
 * server that never uses it pays nothing per command.
 */
import type { ServerMode } from '../server/modes.js';
import type { RedisServer } from '../server/server.js';
import { ReplyFaults } from './reply-faults.js';

export function install(server: RedisServer): void {
  const faults = new ReplyFaults(() => server.tcpPort);
  let hooked = false;
  const debugOnly: ServerMode = {
    name: 'reply-faults-debug',
    debugSubcommands: {
      'reply-fault': (ctx, argv) => {
        if (!hooked) {
          hooked = true;
          server.install(faults);
        }
        faults.command(ctx, argv);
      },
    },
  };
  server.install(debugOnly);
}
