/**
 * Which image runs which role. Order: the caller's choice (topology `images`, driver options), then env
 * REDIS_HA_CHAOS_IMAGE_<ROLE>, then the official image if it is present locally, then the offline stand-in.
 * Nothing is ever pulled: the network rule forbids registries, so a missing image is a clear error.
 */
import { spawnSync } from 'node:child_process';

/** redis: redis-server and redis-sentinel; node: the reference server and the toxiproxy stand-in. */
export type ImageRole = 'redis' | 'haproxy' | 'toxiproxy' | 'reference';

export type ImageChoice = Partial<Record<ImageRole, string>>;

/** Images `npx redis-ha-chaos images build` makes without a registry. */
export const LOCAL_IMAGES = {
  redis: 'redis-ha-chaos/redis:7.0-local',
  haproxy: 'redis-ha-chaos/haproxy:2.6-local',
  node: 'redis-ha-chaos/node:20-local',
} as const;

/** What users with a registry run (the reference image comes from docker/Dockerfile). */
export const OFFICIAL_IMAGES: Record<ImageRole, string> = {
  redis: 'redis:7.0',
  haproxy: 'haproxy:2.6',
  toxiproxy: 'ghcr.io/shopify/toxiproxy:2.12.0',
  reference: 'redis-ha-chaos/reference:latest',
};

export const STANDIN_IMAGES: Record<ImageRole, string> = {
  redis: LOCAL_IMAGES.redis,
  haproxy: LOCAL_IMAGES.haproxy,
  toxiproxy: LOCAL_IMAGES.node,
  reference: LOCAL_IMAGES.node,
};

export function imageExists(name: string): boolean {
  return spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', name], { stdio: 'ignore' }).status === 0;
}

export interface ResolvedImage {
  name: string;
  /** Where the choice came from, for the log line. */
  source: 'configured' | 'env' | 'official' | 'local stand-in';
}

/** Picks the image for a role or throws one line saying how to get it. */
export function resolveImage(role: ImageRole, chosen: ImageChoice = {}, exists: (name: string) => boolean = imageExists): ResolvedImage {
  const configured = chosen[role];
  const env = process.env[`REDIS_HA_CHAOS_IMAGE_${role.toUpperCase()}`];
  const explicit = configured ?? env;
  if (explicit) {
    if (!exists(explicit)) {
      const how = explicit === STANDIN_IMAGES[role] ? 'run `npx redis-ha-chaos images build`' : `load it into the Docker engine (docker load/build)`;
      throw new Error(`image ${explicit} (${configured ? `images.${role}` : `REDIS_HA_CHAOS_IMAGE_${role.toUpperCase()}`}) not found: ${how}; nothing is pulled`);
    }
    return { name: explicit, source: configured ? 'configured' : 'env' };
  }
  if (exists(OFFICIAL_IMAGES[role])) return { name: OFFICIAL_IMAGES[role], source: 'official' };
  const standin = STANDIN_IMAGES[role];
  if (exists(standin)) return { name: standin, source: 'local stand-in' };
  throw new Error(`image ${standin} not found: run \`npx redis-ha-chaos images build\` or set images.${role} in the topology`);
}

/** Official toxiproxy images run the Go server, whose flags differ from the Node stand-in's command line. */
export function isGoToxiproxy(image: string): boolean {
  return /(^|\/)toxiproxy(:|$)/.test(image) && !image.startsWith('redis-ha-chaos/');
}
