/**
 * Starts a server the way redis-server does: optional modules (replication, cluster) are loaded first so their
 * directives are known, then the config file and command-line options, then the modules' `install(server)`
 * (server/modes.ts), then listen.
 */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { Config, ConfigFileError, parseCommandLine } from '../config/config.js';
import { buildCommandTable } from '../commands/table.js';
import type { CommandSpec } from '../commands/command.js';
import { registerDirective, type DirectiveDef } from '../config/directives.js';
import { createServerDb } from './dbfactory.js';
import { RedisServer } from './server.js';

/** Optional modules, loaded when their files exist; each may export `directives`, `commands` and/or `install(server)`. */
const OPTIONAL_MODULES = ['../acl/install.js', '../replication/install.js', '../cluster/install.js', '../sentinel/install.js', '../faults/install.js'];

interface OptionalModule {
  directives?: DirectiveDef[];
  commands?: CommandSpec[];
  install?: (server: RedisServer) => void | Promise<void>;
}

async function loadOptional(): Promise<OptionalModule[]> {
  const out: OptionalModule[] = [];
  for (const path of OPTIONAL_MODULES) {
    try {
      out.push((await import(path)) as OptionalModule);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Only a missing optional file is skipped; a broken import inside an existing module is a real error.
      if (code !== 'ERR_MODULE_NOT_FOUND' || !(e as Error).message.includes(path.slice(2))) throw e;
    }
  }
  return out;
}

/** Builds the Config from redis-server style arguments; throws ConfigFileError as Redis would report it. */
export function configFromArgs(args: string[]): Config {
  const { configFile, options, fromStdin } = parseCommandLine(args);
  const config = new Config();
  if (configFile !== undefined) config.loadFile(configFile);
  if (fromStdin) config.loadString(readFileSync(0, 'latin1'));
  if (options.length > 0) config.loadString(options);
  // Redis keeps dir absolute (CONFIG GET dir shows the working directory it chdir'ed into).
  const dir = config.get('dir') ?? '';
  config.set('dir', resolve(dir === '' ? process.cwd() : dir));
  return config;
}

export interface StartedServer {
  server: RedisServer;
  port: number;
}

/** Creates, wires and starts a server; rejects with "Failed listening on port ..." when it cannot bind. */
export async function startServer(args: string[], opts: { logStartup?: boolean; listening?: (server: RedisServer) => void } = {}): Promise<StartedServer> {
  const modules = await loadOptional();
  for (const m of modules) for (const d of m.directives ?? []) registerDirective(d);
  const config = configFromArgs(args);
  const extra = modules.map((m) => m.commands).filter((c): c is CommandSpec[] => Array.isArray(c));
  const server = new RedisServer({ config, createDb: createServerDb, commands: buildCommandTable(extra) });
  if (opts.logStartup !== false) server.logStartup();
  for (const w of config.warnings) server.log('warning', w);
  for (const m of modules) if (m.install) await m.install(server);
  await server.listen();
  if (opts.logStartup !== false) server.logInitialized();
  server.writePidfile();
  // The process's signal handlers go in before a paced load, so a SIGTERM while loading shuts down as Redis does.
  opts.listening?.(server);
  for (const mode of server.modeHooks.modes) await mode.afterListen?.();
  if (opts.logStartup !== false) server.logReady();
  return { server, port: server.tcpPort };
}

export { ConfigFileError };

/**
 * What a bin does once its server listens: chdir into dir as redis-server does (relative paths such as dbfilename
 * and nodes.conf resolve there; a dir it cannot enter ends the process), exit with the server, and shut down on
 * SIGTERM or SIGINT (`nosave` for Sentinel, which has no dataset).
 */
export function runAsProcess(server: RedisServer, opts: { nosave?: boolean } = {}): void {
  try {
    process.chdir(server.config.get('dir') ?? '.');
  } catch (e) {
    server.log('warning', `Can't chdir to '${server.config.get('dir')}': ${(e as Error).message}`);
    process.exit(1);
  }
  server.onExit = (code: number) => process.exit(code);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => server.shutdown({ signal: sig, ...(opts.nosave ? { nosave: true } : {}) }));
  }
}
