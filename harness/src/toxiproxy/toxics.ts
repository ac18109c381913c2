/**
 * Toxic definitions: the types Toxiproxy 2.12 registers, their attribute fields (in Toxiproxy's JSON order)
 * and the JSON shape a toxic has on the API.
 */

export type Direction = 'upstream' | 'downstream';

export type ToxicType = 'noop' | 'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';

/** Attribute fields of each type, in the order Toxiproxy serialises them, with the Go type for error texts. */
export const TOXIC_FIELDS: Readonly<Record<ToxicType, readonly { key: string; goType: 'int64' | 'int' }[]>> = {
  noop: [],
  latency: [
    { key: 'latency', goType: 'int64' },
    { key: 'jitter', goType: 'int64' },
  ],
  bandwidth: [{ key: 'rate', goType: 'int64' }],
  slow_close: [{ key: 'delay', goType: 'int64' }],
  timeout: [{ key: 'timeout', goType: 'int64' }],
  reset_peer: [{ key: 'timeout', goType: 'int64' }],
  slicer: [
    { key: 'average_size', goType: 'int' },
    { key: 'size_variation', goType: 'int' },
    { key: 'delay', goType: 'int' },
  ],
  limit_data: [{ key: 'bytes', goType: 'int64' }],
};

/** Go struct names, only used to word decode errors the way Toxiproxy does. */
export const TOXIC_STRUCT: Readonly<Record<ToxicType, string>> = {
  noop: 'NoopToxic',
  latency: 'LatencyToxic',
  bandwidth: 'BandwidthToxic',
  slow_close: 'SlowCloseToxic',
  timeout: 'TimeoutToxic',
  reset_peer: 'ResetToxic',
  slicer: 'SlicerToxic',
  limit_data: 'LimitDataToxic',
};

export function isToxicType(t: string): t is ToxicType {
  return Object.prototype.hasOwnProperty.call(TOXIC_FIELDS, t);
}

export function parseDirection(stream: string): Direction | undefined {
  const s = stream.toLowerCase();
  return s === 'upstream' || s === 'downstream' ? s : undefined;
}

/** A toxic as configured on a proxy; links read it live, so updates mutate it in place. */
export interface ToxicConfig {
  name: string;
  type: ToxicType;
  /** The stream text exactly as the client sent it (Toxiproxy echoes it unnormalised). */
  stream: string;
  direction: Direction;
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ToxicJson {
  attributes: Record<string, number>;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
}

export function toxicToJson(t: ToxicConfig): ToxicJson {
  const attributes: Record<string, number> = {};
  for (const f of TOXIC_FIELDS[t.type]) attributes[f.key] = t.attributes[f.key] ?? 0;
  return { attributes, name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity };
}

export function attr(t: ToxicConfig, key: string): number {
  return t.attributes[key] ?? 0;
}
