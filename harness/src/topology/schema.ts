/** The topology JSON Schema, read once from topologies/schema.json (the file editors use). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonSchema } from './schema-check.js';
import { shippedTopologiesDir } from './paths.js';

let schema: JsonSchema | undefined;

export function topologySchema(): JsonSchema {
  schema ??= JSON.parse(readFileSync(path.join(shippedTopologiesDir(), 'schema.json'), 'utf8')) as JsonSchema;
  return schema;
}
