/** `redis-ha-chaos images build|list`: the offline stand-in images the docker driver uses without a registry. */
import { buildLocalImages } from './build.js';
import { imageExists, OFFICIAL_IMAGES, resolveImage, STANDIN_IMAGES, type ImageRole } from './config.js';

export const IMAGES_USAGE = 'usage: redis-ha-chaos images build [--force] | images list';

export async function imagesMain(argv: readonly string[], io: { out(line: string): void; err(line: string): void }): Promise<number> {
  const [sub, ...rest] = argv;
  const bad = rest.find((a) => a !== '--force' || sub !== 'build');
  if (bad !== undefined) {
    io.err(`images: unknown argument "${bad}"; ${IMAGES_USAGE}`);
    return 2;
  }
  if (sub === 'build') {
    try {
      await buildLocalImages({ force: rest.includes('--force'), log: io.out });
    } catch (e) {
      io.err((e as Error).message);
      return 3;
    }
    return 0;
  }
  if (sub === 'list') {
    for (const role of Object.keys(OFFICIAL_IMAGES) as ImageRole[]) {
      let chosen: string;
      try {
        const r = resolveImage(role);
        chosen = `${r.name} (${r.source})`;
      } catch (e) {
        chosen = `missing: ${(e as Error).message}`;
      }
      io.out(`${role.padEnd(10)} ${chosen}; official ${OFFICIAL_IMAGES[role]}${imageExists(OFFICIAL_IMAGES[role]) ? '' : ' (absent)'}, stand-in ${STANDIN_IMAGES[role]}`);
    }
    return 0;
  }
  io.err(`images: expected build or list; ${IMAGES_USAGE}`);
  return 2;
}
