// Placeholder until the keys family lands; the command table imports every family module.
import type { CommandSpec } from './command.js';

export const commands: CommandSpec[] = [];
