/** DUMP / RESTORE payloads: RDB type byte + value encoding + RDB version (2 bytes LE) + CRC64 (8 bytes LE). */
import type { Value } from '../store/types.js';
import { crc64, crc64Bytes } from './crc64.js';
import { ByteReader, ByteWriter, DEFAULT_LIMITS, RDB_VERSION, isKnownType, readValue, writeValue, type EncodingLimits } from './codec.js';

export function createDumpPayload(value: Value, limits: EncodingLimits = DEFAULT_LIMITS): string {
  const w = new ByteWriter(256);
  writeValue(w, value, limits);
  w.byte(RDB_VERSION & 0xff);
  w.byte(RDB_VERSION >> 8);
  const body = w.result();
  return Buffer.concat([body, crc64Bytes(crc64(body))]).toString('latin1');
}

export function parseDumpPayload(payload: string): Value {
  const buf = Buffer.from(payload, 'latin1');
  if (buf.length < 10) throw new Error('DUMP payload version or checksum are wrong');
  const ver = buf[buf.length - 10]! | (buf[buf.length - 9]! << 8);
  if (ver > RDB_VERSION) throw new Error('DUMP payload version or checksum are wrong');
  const stored = buf.subarray(buf.length - 8);
  if (!crc64Bytes(crc64(buf, 0, buf.length - 8)).equals(stored)) throw new Error('DUMP payload version or checksum are wrong');
  const r = new ByteReader(buf, buf.length - 10);
  try {
    const type = r.byte();
    if (!isKnownType(type)) throw new Error('Bad data format');
    const v = readValue(r, type);
    if (r.pos !== buf.length - 10) throw new Error('Bad data format');
    return v;
  } catch {
    throw new Error('Bad data format');
  }
}
