/** Drivers by name; the docker driver registers itself from its own module when present. */
import type { Driver } from './driver.js';
import { LocalDriver, type LocalDriverOptions } from './local/index.js';

export type DriverName = 'local' | 'docker';

export async function createDriver(name: DriverName, opts: LocalDriverOptions = {}): Promise<Driver> {
  if (name === 'local') return new LocalDriver(opts);
  const spec = './docker/index.js';
  try {
    const mod = (await import(spec)) as { DockerDriver?: new () => Driver; createDockerDriver?: () => Driver };
    if (mod.createDockerDriver) return mod.createDockerDriver();
    if (mod.DockerDriver) return new mod.DockerDriver();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && (e as Error).message.includes('drivers/docker')) {
      throw new Error('driver docker is not part of this build; use --driver local');
    }
    throw new Error(`driver docker failed to load: ${(e as Error).message}`);
  }
  throw new Error('driver docker is not available: harness/src/drivers/docker exports no driver');
}

export { LocalDriver, type LocalDriverOptions };
