/** Command-line parsing for `redis-ha-chaos`: flags are declared per subcommand, and every mistake is one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface FlagSpec {
  /** true: takes a value; false: a switch. */
  value: boolean;
  /** Allowed values, when fixed. */
  choices?: string[];
  integer?: boolean;
}

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(cmd: string, argv: readonly string[], spec: Record<string, FlagSpec>, maxPositionals: number, usage: string): Parsed {
  const out: Parsed = { positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const fs = spec[name];
      if (!fs) throw new UsageError(`${cmd}: unknown option --${name}; ${usage}`);
      if (!fs.value) {
        if (eq >= 0) throw new UsageError(`${cmd}: --${name} takes no value; ${usage}`);
        out.flags[name] = true;
        continue;
      }
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${cmd}: --${name} needs a value; ${usage}`);
      if (fs.choices && !fs.choices.includes(value)) throw new UsageError(`${cmd}: --${name} must be one of ${fs.choices.join(', ')}, got "${value}"`);
      if (fs.integer && !/^\d+$/.test(value)) throw new UsageError(`${cmd}: --${name} must be a non-negative integer, got "${value}"`);
      out.flags[name] = value;
    } else {
      out.positionals.push(arg);
    }
  }
  if (out.positionals.length > maxPositionals) {
    throw new UsageError(`${cmd}: unexpected argument "${out.positionals[maxPositionals]}"; ${usage}`);
  }
  return out;
}

export function flagString(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}
