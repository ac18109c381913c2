/**
 * Run markers under a state dir: what a run created (namespaces, bridge, iptables rules, pids), so
 * `redis-ha-chaos down` can remove what a crashed run left behind.
 */
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export interface IptablesRule {
  chain: string;
  /** Arguments after the chain, e.g. ["-i", "rhc1a2b3c", "-o", "rhc1a2b3c", "-j", "ACCEPT"]. */
  args: string[];
}

export interface RunMarker {
  runId: string;
  ownerPid: number;
  runDir: string;
  createdAt: string;
  bridge?: string;
  netns: string[];
  iptables: IptablesRule[];
  pids: number[];
}

export function stateDir(): string {
  return process.env.REDIS_HA_CHAOS_STATE_DIR ?? path.join(os.tmpdir(), 'redis-ha-chaos');
}

function markerPath(runId: string): string {
  return path.join(stateDir(), 'runs', `${runId}.json`);
}

export function writeMarker(m: RunMarker): void {
  mkdirSync(path.dirname(markerPath(m.runId)), { recursive: true });
  writeFileSync(markerPath(m.runId), JSON.stringify(m, null, 2));
}

export function removeMarker(runId: string): void {
  rmSync(markerPath(runId), { force: true });
}

export function listMarkers(): RunMarker[] {
  const dir = path.join(stateDir(), 'runs');
  if (!existsSync(dir)) return [];
  const out: RunMarker[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunMarker);
    } catch {
      // a marker half-written by a crash: its run id is the file name
      out.push({ runId: f.replace(/\.json$/, ''), ownerPid: 0, runDir: '', createdAt: '', netns: [], iptables: [], pids: [] });
    }
  }
  return out;
}

export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A pid belongs to the run when its working directory lies in the run folder (pids get reused). */
function pidInRun(pid: number, runDir: string): boolean {
  if (!runDir) return false;
  try {
    return readlinkSync(`/proc/${pid}/cwd`).startsWith(runDir);
  } catch {
    return false;
  }
}

function quiet(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '' };
}

/** Removes everything a marker lists; returns one line per thing removed. Safe to repeat. */
export function cleanupRun(m: RunMarker): string[] {
  const done: string[] = [];
  for (const pid of m.pids) {
    if (pidAlive(pid) && pidInRun(pid, m.runDir)) {
      try {
        process.kill(pid, 'SIGKILL');
        done.push(`killed pid ${pid}`);
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const ns of m.netns) {
    const pids = quiet('ip', ['netns', 'pids', ns]);
    for (const p of pids.out.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
        done.push(`killed pid ${p} in ${ns}`);
      } catch {
        // gone meanwhile
      }
    }
    if (quiet('ip', ['netns', 'del', ns]).ok) done.push(`deleted netns ${ns}`);
  }
  for (const rule of m.iptables) {
    while (quiet('iptables', ['-D', rule.chain, ...rule.args]).ok) done.push(`deleted iptables rule in ${rule.chain}`);
  }
  if (m.bridge && quiet('ip', ['link', 'del', m.bridge]).ok) done.push(`deleted bridge ${m.bridge}`);
  removeMarker(m.runId);
  return done;
}
