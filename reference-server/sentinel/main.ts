/**
 * Sentinel mode's entry point: redis-sentinel's command line (`sentinel.conf [--option value ...]`), the file's
 * ordinary directives to the core config and its `sentinel ...` ones to the monitor state, then a server with
 * Sentinel's command table and the Sentinel timer.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Config, ConfigFileError, parseCommandLine } from '../config/config.js';
import { buildCommandTable } from '../commands/table.js';
import { createServerDb } from '../server/dbfactory.js';
import { RedisServer } from '../server/server.js';
import { runAsProcess } from '../server/main.js';
import { applySentinelDirectives, extractSentinelDirectives, type SentinelDirective } from './config.js';
import { SentinelState } from './state.js';
import type { SentinelRuntime } from './runtime.js';
import { installSentinel } from './mode.js';
import { commands as aclCommands, installAcl } from '../acl/install.js';

export const SENTINEL_PORT = 26379;

export interface StartedSentinel {
  server: RedisServer;
  runtime: SentinelRuntime;
  port: number;
}

/** A startup failure redis-sentinel reports with a log line and exit 1. */
export class SentinelStartError extends Error {}

/** Loads sentinel.conf and command-line options: core directives into a Config, Sentinel ones into a SentinelState. */
export function sentinelConfigFromArgs(args: string[]): { config: Config; state: SentinelState } {
  const { configFile, options, fromStdin } = parseCommandLine(args);
  const config = new Config();
  // initSentinelConfig: Sentinel's own defaults, before the file is read.
  config.set('port', String(SENTINEL_PORT));
  config.set('protected-mode', 'no');
  const directives: SentinelDirective[] = [];
  const load = (text: string) => {
    const { rest, directives: found } = extractSentinelDirectives(text);
    directives.push(...found);
    config.loadString(rest);
  };
  if (configFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(configFile, 'latin1');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigFileError(0, '', `Fatal error, can't open config file '${configFile}': ${code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
    }
    config.configFile = resolve(configFile);
    load(text);
  }
  if (fromStdin) load(readFileSync(0, 'latin1'));
  if (options.length > 0) load(options);
  const dir = config.get('dir') ?? '';
  config.set('dir', resolve(dir === '' ? process.cwd() : dir));
  // Redis chdirs when it reads `dir`, so relative script paths in sentinel lines are checked from there.
  try {
    process.chdir(config.get('dir') ?? '.');
  } catch {
    // main() reports an unusable dir the way redis-server does.
  }
  const state = new SentinelState();
  applySentinelDirectives(state, directives);
  return { config, state };
}

/** sentinelCheckConfigFile: Sentinel saves its state, so it needs a writable config file. */
function checkConfigFile(config: Config): string | undefined {
  if (config.configFile === '') return 'Sentinel needs config file on disk to save state. Exiting...';
  try {
    accessSync(config.configFile, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : (e as Error).message;
    return `Sentinel config file ${config.configFile} is not writable: ${why}. Exiting...`;
  }
  return undefined;
}

export async function startSentinel(args: string[], opts: { logStartup?: boolean } = {}): Promise<StartedSentinel> {
  const { config, state } = sentinelConfigFromArgs(args);
  const server = new RedisServer({ config, createDb: createServerDb, commands: buildCommandTable([aclCommands]), mode: 'sentinel' });
  const bad = checkConfigFile(config);
  if (bad !== undefined) {
    server.log('warning', bad);
    throw new SentinelStartError(bad);
  }
  if (opts.logStartup !== false) server.logStartup();
  for (const w of config.warnings) server.log('warning', w);
  const runtime = installSentinel(server, state);
  // Sentinel's command table includes ACL (and AUTH): users, AUTH and permissions as in any Redis.
  installAcl(server);
  await server.listen();
  if (opts.logStartup !== false) server.logInitialized();
  server.writePidfile();
  if (opts.logStartup !== false) server.logReady();
  runtime.start();
  return { server, runtime, port: server.tcpPort };
}

/** redis-sentinel's main: exits 1 on config errors and unusable config files, as Redis does. */
export async function main(args: string[]): Promise<void> {
  let started: StartedSentinel;
  try {
    started = await startSentinel(args);
  } catch (e) {
    if (e instanceof ConfigFileError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    if (e instanceof SentinelStartError || (e as Error).message.startsWith('Failed listening')) process.exit(1);
    // A fatal startup error already logged as Redis logs it (ACL users that do not load): exit 1 as Redis does.
    if ((e as { ending?: unknown }).ending === 'exit1') process.exit(1);
    throw e;
  }
  runAsProcess(started.server, { nosave: true });
}
