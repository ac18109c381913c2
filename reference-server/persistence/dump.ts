/** DUMP / RESTORE payloads: RDB type byte + value encoding + RDB version (2 bytes LE) + CRC64 (8 bytes LE). */
import type { Value } from '../store/types.js';
import { crc64, crc64Bytes } from './crc64.js';
import { ByteReader, ByteWriter, DEFAULT_LIMITS, OP, RDB_VERSION, isKnownType, readValue, writeValue, type EncodingLimits } from './codec.js';

/** The footer every DUMP-style payload ends with (DUMP and FUNCTION DUMP): RDB version and the CRC64 of all before. */
function withFooter(w: ByteWriter): string {
  w.byte(RDB_VERSION & 0xff);
  w.byte(RDB_VERSION >> 8);
  const body = w.result();
  return Buffer.concat([body, crc64Bytes(crc64(body))]).toString('latin1');
}

/** verifyDumpPayload: at least the footer, a version this server reads, and a matching checksum. */
export function dumpFooterValid(buf: Buffer): boolean {
  if (buf.length < 10) return false;
  const ver = buf[buf.length - 10]! | (buf[buf.length - 9]! << 8);
  return ver <= RDB_VERSION && crc64Bytes(crc64(buf, 0, buf.length - 8)).equals(buf.subarray(buf.length - 8));
}

export function createDumpPayload(value: Value, limits: EncodingLimits = DEFAULT_LIMITS): string {
  const w = new ByteWriter(256);
  writeValue(w, value, limits);
  return withFooter(w);
}

/** FUNCTION DUMP's payload: one FUNCTION2 entry per library (a server without an engine has none). */
export function createFunctionsPayload(libraryCodes: string[] = []): string {
  const w = new ByteWriter(64);
  for (const code of libraryCodes) {
    w.byte(OP.FUNCTION2);
    w.string(code, true);
  }
  return withFooter(w);
}

/**
 * The libraries' code in a FUNCTION RESTORE payload, each as the "#!engine name=..." text rdbFunctionLoad builds;
 * throws with Redis's reply text when the payload is not one.
 */
export function parseFunctionsPayload(payload: string): string[] {
  const buf = Buffer.from(payload, 'latin1');
  if (!dumpFooterValid(buf)) throw new Error('DUMP payload version or checksum are wrong');
  // As functionRestoreCommand: entries are read while more than the footer is left, from the whole payload.
  const r = new ByteReader(buf);
  const codes: string[] = [];
  const read = (what: string): string => {
    try {
      return r.string();
    } catch {
      throw new Error(`Failed loading ${what}`);
    }
  };
  while (buf.length - r.pos > 10) {
    const type = r.byte();
    if (type === OP.FUNCTION2) codes.push(read('library payload'));
    else if (type === OP.FUNCTION_PRE_GA) {
      // 7.0's release candidates: name, engine, optional description and code as separate strings.
      const name = read('library name');
      const engine = read('engine name');
      let hasDesc: number;
      try {
        hasDesc = r.length();
      } catch {
        throw new Error('Failed loading library description indicator');
      }
      if (hasDesc) read('library description');
      codes.push(`#!${engine} name=${name}\n${read('library blob')}`);
    } else throw new Error('given type is not a function');
  }
  return codes;
}

export function parseDumpPayload(payload: string): Value {
  const buf = Buffer.from(payload, 'latin1');
  if (!dumpFooterValid(buf)) throw new Error('DUMP payload version or checksum are wrong');
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
