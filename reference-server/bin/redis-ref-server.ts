#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * redis-ref-server: a drop-in for redis-server (same config file, same flags, same log lines and exit codes).
 * Run it with node --max-semi-space-size=2 (the shebang does): V8's default young generation costs ~30 MB of RSS.
 */
import { ConfigFileError, runAsProcess, startServer } from '../server/main.js';
import { REDIS_VERSION } from '../config/config.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '-v' || args[0] === '--version') {
    process.stdout.write(`Redis server v=${REDIS_VERSION} sha=00000000:0 malloc=libc bits=64 build=0000000000000000 (reference-server, TypeScript)\n`);
    return;
  }
  if (args[0] === '-h' || args[0] === '--help') {
    process.stdout.write('Usage: redis-ref-server [/path/to/redis.conf] [options] [-]\n       redis-ref-server - (read config from stdin)\n       redis-ref-server -v or --version\n       redis-ref-server -h or --help\n\nExamples:\n       redis-ref-server (run the server with default conf)\n       redis-ref-server /etc/redis/6379.conf\n       redis-ref-server --port 7777\n       redis-ref-server --port 7777 --replicaof 127.0.0.1 8888\n       redis-ref-server /etc/myredis.conf --loglevel verbose\n');
    return;
  }
  if (args.includes('--sentinel') || /sentinel(\.js)?$/.test(process.argv[1] ?? '')) {
    // Sentinel mode lives in sentinel/main.ts (exporting main(args)); redis-server --sentinel behaves the same way.
    const path = '../sentinel/main.js';
    let mod: { main?: (args: string[]) => Promise<void> };
    try {
      mod = (await import(path)) as typeof mod;
    } catch {
      process.stderr.write('Sentinel mode is not available in this build of redis-ref-server.\n');
      process.exit(1);
    }
    if (!mod.main) {
      process.stderr.write('Sentinel mode is not available in this build of redis-ref-server.\n');
      process.exit(1);
    }
    await mod.main(args.filter((a) => a !== '--sentinel'));
    return;
  }
  try {
    await startServer(args, { listening: (server) => runAsProcess(server) });
  } catch (e) {
    if (e instanceof ConfigFileError) {
      process.stderr.write(e.message + '\n');
      process.exit(1);
    }
    const msg = (e as Error).message;
    // A module's fatal startup error (already logged as Redis logs it) says how Redis would end: exit(1) or abort().
    const ending = (e as { ending?: unknown }).ending;
    if (ending === 'abort') process.abort();
    if (ending === 'exit1') process.exit(1);
    if (msg.startsWith('Failed listening') || msg.startsWith('Failed opening Unix socket')) {
      // The server already logged it the way Redis does; Redis then exits 1.
      process.exit(1);
    }
    throw e;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`redis-ref-server: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
