/** One folder per run: configs, data dirs, logs, history and results live there; kept on failure, removed on success unless --keep. */
import { mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export function newRunId(): string {
  return `rhc${randomBytes(3).toString('hex')}`;
}

export interface RunFolder {
  runId: string;
  dir: string;
  /** Folder of one instance (its config file, data dir and log). */
  instanceDir(name: string): string;
  logFile(name: string): string;
}

export function createRunFolder(opts: { out?: string; runId?: string; base?: string } = {}): RunFolder {
  const runId = opts.runId ?? newRunId();
  const dir = path.resolve(opts.out ?? path.join(opts.base ?? 'runs', runId));
  mkdirSync(dir, { recursive: true });
  return {
    runId,
    dir,
    instanceDir: (name) => path.join(dir, 'instances', name),
    logFile: (name) => path.join(dir, 'instances', name, `${name}.log`),
  };
}

/** Keeps the folder when asked or when the run did not pass; returns whether it was kept. */
export function finishRunFolder(dir: string, passed: boolean, keep: boolean): boolean {
  if (keep || !passed) return true;
  rmSync(dir, { recursive: true, force: true });
  return false;
}
