/**
 * Everything the docker driver creates carries the run's label, so whatever a crashed or killed harness left
 * behind is found by label alone (`redis-ha-chaos down --all`), without any state file.
 */
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';

export const RUN_LABEL = 'redis-ha-chaos.run';
export const OWNER_LABEL = 'redis-ha-chaos.owner-pid';
export const ROLE_LABEL = 'redis-ha-chaos.role';

export function dockerClient(): Docker {
  return new Docker();
}

/** Why no Docker engine can be used, or undefined when one answers. */
export async function dockerUnavailableReason(docker: Docker = dockerClient()): Promise<string | undefined> {
  try {
    await docker.ping();
    return undefined;
  } catch (e) {
    return `no Docker engine answers (${(e as Error).message.split('\n')[0]}); start dockerd (scripts/setup.sh)`;
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DockerLeftovers {
  containers: { id: string; name: string; runId: string; ownerPid: number }[];
  networks: { id: string; name: string; runId: string; ownerPid: number }[];
}

export async function listProjectObjects(docker: Docker = dockerClient(), runId?: string): Promise<DockerLeftovers> {
  const label = runId === undefined ? RUN_LABEL : `${RUN_LABEL}=${runId}`;
  const [cs, ns] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [label] } }),
    docker.listNetworks({ filters: { label: [label] } }),
  ]);
  return {
    containers: cs.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), runId: c.Labels[RUN_LABEL] ?? '', ownerPid: Number(c.Labels[OWNER_LABEL] ?? 0) })),
    networks: ns.map((n) => ({ id: n.Id, name: n.Name, runId: n.Labels?.[RUN_LABEL] ?? '', ownerPid: Number(n.Labels?.[OWNER_LABEL] ?? 0) })),
  };
}

/** Removes the containers, then the networks, of one run (or of every run); returns one line per thing removed. */
export async function removeProjectObjects(docker: Docker, opts: { runId?: string; keep?: (ownerPid: number, runId: string) => boolean } = {}): Promise<string[]> {
  const left = await listProjectObjects(docker, opts.runId);
  const done: string[] = [];
  const keep = opts.keep ?? (() => false);
  await Promise.all(left.containers.filter((c) => !keep(c.ownerPid, c.runId)).map(async (c) => {
    try {
      await docker.getContainer(c.id).remove({ force: true, v: true });
      done.push(`removed container ${c.name}`);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }));
  for (const n of left.networks.filter((x) => !keep(x.ownerPid, x.runId))) {
    try {
      await docker.getNetwork(n.id).remove();
      done.push(`removed network ${n.name}`);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }
  return done;
}

/** Synchronous removal for the process exit hook (no event loop left to await dockerode). */
export function removeRunSync(runId: string): void {
  const filter = `label=${RUN_LABEL}=${runId}`;
  const ids = (spawnSync('docker', ['ps', '-aq', '--filter', filter], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '').split('\n').filter(Boolean);
  if (ids.length) spawnSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore', timeout: 20_000 });
  const nets = (spawnSync('docker', ['network', 'ls', '-q', '--filter', filter], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '').split('\n').filter(Boolean);
  if (nets.length) spawnSync('docker', ['network', 'rm', ...nets], { stdio: 'ignore', timeout: 10_000 });
}

/**
 * The docker part of `redis-ha-chaos down`: without `all`, only runs whose harness process is gone;
 * with `all`, every container and network labelled by the project. Quiet when no engine answers.
 */
export async function dockerDown(opts: { all: boolean; out: (line: string) => void }): Promise<number> {
  const docker = dockerClient();
  if (await dockerUnavailableReason(docker)) return 0;
  const skipped = new Set<string>();
  const keep = (ownerPid: number, runId: string) => {
    const live = !opts.all && ownerPid !== process.pid && pidAlive(ownerPid);
    if (live && !skipped.has(runId)) {
      skipped.add(runId);
      opts.out(`docker run ${runId} is still running (pid ${ownerPid}); skipped (use --all to remove it too)`);
    }
    return live;
  };
  const lines = await removeProjectObjects(docker, { keep });
  for (const l of lines) opts.out(`docker: ${l}`);
  return lines.length;
}
