/** Locates the package root (where topologies/ and package.json sit) from the compiled or source file. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'redis-ha-chaos') {
      cached = dir;
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the redis-ha-chaos package root');
    dir = up;
  }
}

export function shippedTopologiesDir(): string {
  return path.join(packageRoot(), 'topologies');
}
