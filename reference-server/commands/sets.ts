// Placeholder until the sets family lands; the command table imports every family module.
import type { CommandSpec } from './command.js';

export const commands: CommandSpec[] = [];
