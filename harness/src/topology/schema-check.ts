/**
 * A small JSON Schema (draft-07 subset) checker: the subset topologies/schema.json uses, so the file editors
 * read is also the one the loader enforces. Problems carry the value path; the loader turns paths into line:col.
 */
export type Path = (string | number)[];

export interface SchemaProblem {
  path: Path;
  /** Whether the problem is about the key itself (unknown field) rather than its value. */
  atKey: boolean;
  message: string;
}

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  $ref?: string;
  definitions?: Record<string, JsonSchema>;
  description?: string;
  default?: unknown;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(actual: string, expected: string): boolean {
  return actual === expected || (expected === 'number' && actual === 'integer');
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

export function checkSchema(root: JsonSchema, value: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const resolve = (s: JsonSchema): JsonSchema => {
    let cur = s;
    while (cur.$ref) {
      const m = /^#\/definitions\/(.+)$/.exec(cur.$ref);
      const target = m ? root.definitions?.[m[1]] : undefined;
      if (!target) throw new Error(`schema: unresolved $ref ${cur.$ref}`);
      const { $ref: _ref, ...rest } = cur;
      cur = { ...target, ...rest };
    }
    return cur;
  };
  const walk = (schemaIn: JsonSchema, v: unknown, path: Path): void => {
    const s = resolve(schemaIn);
    const actual = typeOf(v);
    if (s.enum) {
      if (!s.enum.includes(v)) {
        problems.push({ path, atKey: false, message: `expected one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` });
      }
      return;
    }
    if (s.type) {
      const types = Array.isArray(s.type) ? s.type : [s.type];
      if (!types.some((t) => typeMatches(actual, t))) {
        problems.push({ path, atKey: false, message: `expected ${types.map(article).join(' or ')}, got ${actual}` });
        return;
      }
    }
    if (typeof v === 'string' && s.pattern && !new RegExp(s.pattern).test(v)) {
      problems.push({ path, atKey: false, message: `expected a name matching ${s.pattern}` });
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) problems.push({ path, atKey: false, message: `expected a number >= ${s.minimum}` });
      if (s.maximum !== undefined && v > s.maximum) problems.push({ path, atKey: false, message: `expected a number <= ${s.maximum}` });
    }
    if (actual === 'array' && s.items) {
      (v as unknown[]).forEach((item, i) => walk(s.items as JsonSchema, item, [...path, i]));
    }
    if (actual === 'object' && (s.properties || s.additionalProperties !== undefined)) {
      const obj = v as Record<string, unknown>;
      const props = s.properties ?? {};
      const known = Object.keys(props);
      for (const [k, val] of Object.entries(obj)) {
        if (props[k]) walk(props[k], val, [...path, k]);
        else if (s.additionalProperties === false) {
          problems.push({ path: [...path, k], atKey: true, message: `unknown field; expected one of ${known.join(', ')}` });
        } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
          walk(s.additionalProperties, val, [...path, k]);
        }
      }
      for (const r of s.required ?? []) {
        if (!(r in obj)) problems.push({ path, atKey: false, message: `missing required field "${r}"` });
      }
    }
  };
  walk(root, value, []);
  return problems;
}
