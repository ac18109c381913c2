/**
 * `redis-ha-chaos toxiproxy`: runs the Toxiproxy-compatible server in the foreground until SIGINT/SIGTERM.
 * Flags follow toxiproxy-server's (-host, -port, -config, -seed), with one or two dashes.
 */
import { readFile } from 'node:fs/promises';
import { Prng } from '../random/prng.js';
import { startToxiproxyServer } from './server.js';

export const TOXIPROXY_USAGE = 'usage: redis-ha-chaos toxiproxy [--host 127.0.0.1] [--port 8474] [--config proxies.json] [--seed N]';

export interface ToxiproxyCliOptions {
  host: string;
  port: number;
  config?: string;
  seed?: number;
}

/** Parses the subcommand's flags; throws one line naming the bad flag. */
export function parseToxiproxyArgs(argv: readonly string[]): ToxiproxyCliOptions {
  const opts: ToxiproxyCliOptions = { host: '127.0.0.1', port: 8474 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^--?/, '');
    if (!arg.startsWith('-') || !['host', 'port', 'config', 'seed'].includes(flag)) throw new Error(`toxiproxy: unknown argument "${arg}"; ${TOXIPROXY_USAGE}`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new Error(`toxiproxy: --${flag} needs a value; ${TOXIPROXY_USAGE}`);
    if (flag === 'host') opts.host = value;
    else if (flag === 'config') opts.config = value;
    else {
      const n = Number(value);
      const max = flag === 'port' ? 65535 : 0xffffffff;
      if (!/^\d+$/.test(value) || n > max) throw new Error(`toxiproxy: --${flag} must be an integer from 0 to ${max}, got "${value}"`);
      if (flag === 'port') opts.port = n;
      else opts.seed = n;
    }
  }
  return opts;
}

/** Runs until SIGINT/SIGTERM; resolves with the process exit code (2 on bad arguments or config). */
export async function main(argv: readonly string[]): Promise<number> {
  let opts: ToxiproxyCliOptions;
  try {
    opts = parseToxiproxyArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const random = opts.seed === undefined ? Math.random : ((g) => () => g.next())(new Prng(opts.seed));
  if (opts.seed !== undefined) log(`seed=${opts.seed}`);
  let server;
  try {
    server = await startToxiproxyServer({ host: opts.host, port: opts.port, log, random });
  } catch (e) {
    process.stderr.write(`toxiproxy: cannot listen on ${opts.host}:${opts.port}: ${(e as Error).message}\n`);
    return 2;
  }
  if (opts.config !== undefined) {
    try {
      const res = await fetch(`${server.url}/populate`, { method: 'POST', body: await readFile(opts.config, 'utf8') });
      const text = await res.text();
      if (!res.ok) throw new Error(text.trim());
      log(`Populated proxies from file config=${opts.config}`);
    } catch (e) {
      process.stderr.write(`toxiproxy: ${opts.config}: ${(e as Error).message}\n`);
      await server.close();
      return 2;
    }
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log('Shutting down');
  await server.close();
  return 0;
}
