/**
 * Partitions for the docker driver: an nft table of our own inside a pod's network namespace, entered with
 * nsenter from the host. Only our table is touched: Docker keeps its embedded-DNS nat rules in the same namespace.
 */
import { sh } from '../../netns/index.js';

const TABLE = 'rhc_partition';

export async function nftDropRules(pid: number, dropFrom: string[], dropTo: string[]): Promise<void> {
  const set = (a: string[]) => `{ ${a.join(', ')} }`;
  const lines = [`table inet ${TABLE}`, `delete table inet ${TABLE}`, `table inet ${TABLE} {`];
  lines.push('  chain input {', '    type filter hook input priority 0; policy accept;');
  if (dropFrom.length) lines.push(`    ip saddr ${set(dropFrom)} drop`);
  lines.push('  }', '  chain output {', '    type filter hook output priority 0; policy accept;');
  if (dropTo.length) lines.push(`    ip daddr ${set(dropTo)} drop`);
  lines.push('  }', '}');
  await sh('nsenter', ['-t', String(pid), '-n', 'nft', '-f', '-'], lines.join('\n') + '\n');
}

export async function nftHeal(pid: number): Promise<void> {
  // "table X" first makes the delete succeed whether or not the table exists.
  await sh('nsenter', ['-t', String(pid), '-n', 'nft', '-f', '-'], `table inet ${TABLE}\ndelete table inet ${TABLE}\n`);
}

export async function nftTables(pid: number): Promise<string> {
  return sh('nsenter', ['-t', String(pid), '-n', 'nft', 'list', 'tables']);
}
