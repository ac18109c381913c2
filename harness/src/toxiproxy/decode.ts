/**
 * Request-body decoding with Go encoding/json's rules as Toxiproxy relies on them: keys match case-insensitively,
 * null leaves a field as it was, unknown keys are ignored, a wrong type is an error worded like Go's.
 */
import { TOXIC_FIELDS, TOXIC_STRUCT, type ToxicType } from './toxics.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const ERR = {
  badBody: (detail: string) => new ApiError(`bad request body: ${detail}`, 400),
  missingField: (detail: string) => new ApiError(`missing required field: ${detail}`, 400),
  proxyNotFound: () => new ApiError('proxy not found', 404),
  proxyExists: () => new ApiError('proxy already exists', 409),
  invalidStream: () => new ApiError('stream was invalid, can be either upstream or downstream', 400),
  invalidToxicType: () => new ApiError('invalid toxic type', 400),
  toxicExists: () => new ApiError('toxic already exists', 409),
  toxicNotFound: () => new ApiError('toxic not found', 404),
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function kindOf(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** Parses a body as Go's json.Decoder would for one value; the error text goes after "bad request body: ". */
export function parseBody(body: string): Json {
  if (body.trim() === '') throw ERR.badBody('EOF');
  try {
    return JSON.parse(body) as Json;
  } catch (e) {
    throw ERR.badBody(e instanceof Error ? e.message : String(e));
  }
}

type FieldKind = 'string' | 'bool' | 'float32';

const GO_TYPE: Record<FieldKind, string> = { string: 'string', bool: 'bool', float32: 'float32' };

/** Assigns matching keys of obj onto target (last match wins, as in Go); returns the first type error. */
function decodeFields(
  obj: { [k: string]: Json },
  fields: Record<string, FieldKind>,
  structName: string,
  target: Record<string, unknown>,
): string | undefined {
  let firstErr: string | undefined;
  const names = Object.keys(fields);
  for (const [k, v] of Object.entries(obj)) {
    const field = names.find((n) => n === k) ?? names.find((n) => n.toLowerCase() === k.toLowerCase());
    if (field === undefined || v === null) continue;
    const want = fields[field] as FieldKind;
    const ok = want === 'string' ? typeof v === 'string' : want === 'bool' ? typeof v === 'boolean' : typeof v === 'number';
    if (!ok) {
      firstErr ??= `json: cannot unmarshal ${kindOf(v)} into Go struct field ${structName}.${field} of type ${GO_TYPE[want]}`;
      continue;
    }
    target[field] = v;
  }
  return firstErr;
}

export interface ProxyInput {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

const PROXY_FIELDS: Record<string, FieldKind> = { name: 'string', listen: 'string', upstream: 'string', enabled: 'bool' };

function decodeProxyValue(v: Json, defaults: ProxyInput, goValueType: string): ProxyInput {
  const out: ProxyInput = { ...defaults };
  if (v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw ERR.badBody(`json: cannot unmarshal ${kindOf(v)} into Go value of type ${goValueType}`);
  }
  const err = decodeFields(v, PROXY_FIELDS, 'Proxy', out as unknown as Record<string, unknown>);
  if (err !== undefined) throw ERR.badBody(err);
  return out;
}

export function decodeProxy(body: string, defaults: ProxyInput): ProxyInput {
  return decodeProxyValue(parseBody(body), defaults, 'toxiproxy.Proxy');
}

/** /populate entries; `enabled` stays undefined when absent so the caller can default it. */
export function decodePopulate(body: string): (Omit<ProxyInput, 'enabled'> & { enabled: boolean | undefined })[] {
  const v = parseBody(body);
  const listType = '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }';
  if (v === null) return [];
  if (!Array.isArray(v)) throw ERR.badBody(`json: cannot unmarshal ${kindOf(v)} into Go value of type ${listType}`);
  return v.map((entry) => {
    const seen = entry !== null && typeof entry === 'object' && !Array.isArray(entry);
    const explicit = seen && Object.entries(entry).some(([k, x]) => k.toLowerCase() === 'enabled' && x !== null);
    const p = decodeProxyValue(entry, { name: '', listen: '', upstream: '', enabled: true }, listType.slice(2));
    return { ...p, enabled: explicit ? p.enabled : undefined };
  });
}

export interface ToxicInput {
  name: string;
  type: string;
  stream: string;
  toxicity: number;
  attributesRaw: Json;
}

const TOXIC_WRAPPER_FIELDS: Record<string, FieldKind> = { name: 'string', type: 'string', stream: 'string', toxicity: 'float32' };

function findKey(obj: { [k: string]: Json }, key: string): Json | undefined {
  let found: Json | undefined;
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === key) found = v;
  return obj[key] !== undefined ? obj[key] : found;
}

/** First pass of toxic creation: the wrapper fields, with attributes kept raw until the type is known. */
export function decodeToxicCreate(body: string): ToxicInput {
  const v = parseBody(body);
  const out: ToxicInput = { name: '', type: '', stream: 'downstream', toxicity: 1, attributesRaw: null };
  if (v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw ERR.badBody(`json: cannot unmarshal ${kindOf(v)} into Go value of type toxics.ToxicWrapper`);
  }
  const err = decodeFields(v, TOXIC_WRAPPER_FIELDS, 'ToxicWrapper', out as unknown as Record<string, unknown>);
  if (err !== undefined) throw ERR.badBody(err);
  const attrs = findKey(v, 'attributes');
  if (attrs !== undefined && attrs !== null && (typeof attrs !== 'object' || Array.isArray(attrs))) {
    throw ERR.badBody(`json: cannot unmarshal ${kindOf(attrs)} into Go struct field ToxicWrapper.attributes of type toxics.NoopToxic`);
  }
  out.attributesRaw = attrs ?? null;
  return out;
}

/** Merges raw attributes onto current ones for a toxic type; integer fields reject anything but integers. */
export function decodeAttributes(type: ToxicType, raw: Json, current: Record<string, number>): Record<string, number> {
  const out = { ...current };
  if (raw === null) return out;
  const struct = TOXIC_STRUCT[type];
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw ERR.badBody(`json: cannot unmarshal ${kindOf(raw)} into Go struct field .attributes of type toxics.${struct}`);
  }
  const fields = TOXIC_FIELDS[type];
  let firstErr: string | undefined;
  for (const [k, v] of Object.entries(raw)) {
    const f = fields.find((x) => x.key === k) ?? fields.find((x) => x.key === k.toLowerCase());
    if (f === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const what = typeof v === 'number' ? `number ${v}` : kindOf(v);
      firstErr ??= `json: cannot unmarshal ${what} into Go struct field ${struct}.attributes.${f.key} of type ${f.goType}`;
      continue;
    }
    out[f.key] = v;
  }
  if (firstErr !== undefined) throw ERR.badBody(firstErr);
  return out;
}

/** Body of a toxic update: attributes to merge and, if present, a new toxicity. */
export function decodeToxicUpdate(body: string, type: ToxicType, current: Record<string, number>, toxicity: number): { attributes: Record<string, number>; toxicity: number } {
  const v = parseBody(body);
  if (v === null) return { attributes: { ...current }, toxicity };
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw ERR.badBody(`json: cannot unmarshal ${kindOf(v)} into Go value of type struct { Attributes interface {} "json:\\"attributes\\""; Toxicity float32 "json:\\"toxicity\\"" }`);
  }
  const t = findKey(v, 'toxicity');
  if (t !== undefined && t !== null && typeof t !== 'number') {
    throw ERR.badBody(`json: cannot unmarshal ${kindOf(t)} into Go struct field .toxicity of type float32`);
  }
  const attributes = decodeAttributes(type, findKey(v, 'attributes') ?? null, current);
  return { attributes, toxicity: typeof t === 'number' ? t : toxicity };
}
