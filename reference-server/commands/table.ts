/** The command table: the only place that knows every family. Lookup is by lower-case and upper-case name. */
import type { CommandSpec } from './command.js';
import { commands as strings } from './strings.js';
import { commands as keys } from './keys.js';
import { commands as hashes } from './hashes.js';
import { commands as lists } from './lists.js';
import { commands as sets } from './sets.js';
import { commands as sortedsets } from './sortedsets.js';
import { commands as connection } from './connection.js';
import { commands as server } from './server.js';
import { commands as pubsub } from './pubsub.js';
import { commands as transactions } from './transactions.js';
import { commands as persistence } from './persistence.js';
import { commands as scripting } from './scripting.js';
import { commands as memory } from './memory.js';
import { commands as sort } from './sort.js';
import { commands as bits } from './bits.js';
import { commands as hyperloglog } from './hyperloglog.js';
import { commands as geo } from './geo.js';
import { commands as latency } from './latency.js';

/** Every family, in priority order: a name defined twice keeps its first definition. */
export const families: CommandSpec[][] = [connection, server, pubsub, transactions, strings, keys, hashes, lists, sets, sortedsets, persistence, scripting, memory, sort, bits, geo, hyperloglog, latency];

/** Builds the lookup map; extra families (replication/, cluster/, sentinel/ export theirs) are passed by whoever starts the server. */
export function buildCommandTable(extra: CommandSpec[][] = []): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const fam of [...families, ...extra]) {
    for (const spec of fam) {
      if (table.has(spec.name)) continue;
      table.set(spec.name, spec);
      table.set(spec.name.toUpperCase(), spec);
    }
  }
  return table;
}
