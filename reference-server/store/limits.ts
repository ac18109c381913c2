/** The encoding thresholds (*-max-listpack-*, set-max-intset-entries): per server, read live by the store. */

/** Thresholds that decide compact encodings, as the corresponding redis.conf directives; each server keeps its own. */
export interface EncodingLimits {
  compression: boolean;
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  setMaxIntsetEntries: number;
  /** list-max-listpack-size: negative = byte limit class, positive = entries per node. */
  listMaxListpackSize: number;
}

/** Limits for values made outside any server (tests, decoding without a server); never changed. */
export const DEFAULT_LIMITS: Readonly<EncodingLimits> = Object.freeze({
  compression: true, hashMaxListpackEntries: 128, hashMaxListpackValue: 64, zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64, setMaxIntsetEntries: 512, listMaxListpackSize: -2,
});

/** Reads the limits from a config (a non-number keeps the default), into `into` when given. */
export function limitsFromConfig(cfg: { get(name: string): string | undefined; getNumber(name: string): number }, into: EncodingLimits = { ...DEFAULT_LIMITS }): EncodingLimits {
  const n = (name: string, d: number): number => { const v = cfg.getNumber(name); return Number.isFinite(v) ? v : d; };
  into.compression = cfg.get('rdbcompression') !== 'no';
  into.hashMaxListpackEntries = n('hash-max-listpack-entries', DEFAULT_LIMITS.hashMaxListpackEntries);
  into.hashMaxListpackValue = n('hash-max-listpack-value', DEFAULT_LIMITS.hashMaxListpackValue);
  into.zsetMaxListpackEntries = n('zset-max-listpack-entries', DEFAULT_LIMITS.zsetMaxListpackEntries);
  into.zsetMaxListpackValue = n('zset-max-listpack-value', DEFAULT_LIMITS.zsetMaxListpackValue);
  into.setMaxIntsetEntries = n('set-max-intset-entries', DEFAULT_LIMITS.setMaxIntsetEntries);
  into.listMaxListpackSize = n('list-max-listpack-size', DEFAULT_LIMITS.listMaxListpackSize);
  return into;
}
