/**
 * Teardown registry: everything started registers how to stop itself; a signal, an uncaught error or the end of
 * a run drains it. The synchronous path is the last resort when the process is exiting.
 */
import { killAllChildrenSync } from '../process/supervisor.js';

export interface Teardown {
  name: string;
  run(): Promise<void>;
  /** Best effort while the process exits (no awaiting possible). */
  runSync?(): void;
}

const entries = new Set<Teardown>();
let installed = false;
let draining: Promise<void> | undefined;

export function registerTeardown(t: Teardown): () => void {
  entries.add(t);
  return () => {
    entries.delete(t);
  };
}

export function pendingTeardowns(): string[] {
  return [...entries].map((e) => e.name);
}

/** Runs every registered teardown, newest first; errors are reported, not thrown. */
export async function drainTeardowns(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  if (draining) return draining;
  draining = (async () => {
    for (const t of [...entries].reverse()) {
      entries.delete(t);
      try {
        await t.run();
      } catch (e) {
        log(`teardown ${t.name} failed: ${(e as Error).message}`);
      }
    }
  })();
  try {
    await draining;
  } finally {
    draining = undefined;
  }
}

/** SIGINT/SIGTERM drain the registry, then exit 130/143; a plain exit runs the synchronous fallbacks. */
export function installSignalHandlers(log?: (line: string) => void, opts: { signals?: boolean } = {}): void {
  if (installed) return;
  installed = true;
  if (opts.signals === false) {
    process.once('exit', exitHook);
    return;
  }
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping everything this run started...\n`);
      // A second signal while draining exits at once (the exit hook still kills children).
      process.once(sig, () => process.exit(code));
      drainTeardowns(log).finally(() => process.exit(code));
    });
  };
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  process.once('exit', exitHook);
}

function exitHook(): void {
  for (const t of entries) {
    try {
      t.runSync?.();
    } catch {
      // nothing more can be done while exiting
    }
  }
  killAllChildrenSync();
}
