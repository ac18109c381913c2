/** GEO commands (Redis 7.0 geo.c semantics): points are 52-bit interleaved geohashes stored as sorted-set scores. */
import type { CommandContext, CommandSpec, Reply } from './command.js';
import type { RZSet } from '../store/types.js';
import { typeOf } from '../store/types.js';
import { createZSet, SortedSet } from '../store/zset.js';
import { lookupRead, notify } from './access.js';
import { NOTIFY_GENERIC, NOTIFY_ZSET } from '../config/keyspace-events.js';
import { argDouble, argLong, ERR_SYNTAX, ERR_WRONGTYPE } from './lists.js';
import { commands as zsetCommands } from './sortedsets.js';

const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
const LON_MIN = -180;
const LON_MAX = 180;
const STEP_MAX = 26;
const D_R = Math.PI / 180.0;
const EARTH_RADIUS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';
const M64 = (1n << 64n) - 1n;
const EVEN = 0x5555555555555555n;
const ODD = 0xaaaaaaaaaaaaaaaan;


// ---------------------------------------------------------------- correctly rounded sin, cos, asin
// V8's fdlibm sin/cos/asin differ from glibc's in the last bit for ~3% of arguments; glibc is nearly always
// correctly rounded, so double-double evaluation (rounded once) matches it far more often (~0.15% differ).

type DD = [number, number];
const SPLIT = 134217729;

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let c = SPLIT * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b), bl = b - bh;
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}

function twoSum(a: number, b: number): DD {
  const s = a + b, bb = s - a;
  return [s, (a - (s - bb)) + (b - bb)];
}

function norm(h: number, l: number): DD {
  const s = h + l;
  return [s, l - (s - h)];
}

function ddAdd(a: DD, b: DD): DD {
  const s = twoSum(a[0], b[0]);
  const t = twoSum(a[1], b[1]);
  const r = norm(s[0], s[1] + t[0]);
  return norm(r[0], r[1] + t[1]);
}

function ddMul(a: DD, b: DD): DD {
  const p = twoProd(a[0], b[0]);
  return norm(p[0], p[1] + (a[0] * b[1] + a[1] * b[0]));
}

function ddDivD(a: DD, d: number): DD {
  const q1 = a[0] / d;
  const p = twoProd(q1, d);
  return norm(q1, (((a[0] - p[0]) - p[1]) + a[1]) / d);
}

const ddNeg = (a: DD): DD => [-a[0], -a[1]];
// pi/2 as the sum of three doubles.
const PIO2_1 = 1.5707963267948966, PIO2_2 = 6.123233995736766e-17, PIO2_3 = -1.4973849048591698e-33;

function reduce(x: number): { q: number; r: DD } {
  const k = Math.round(x / PIO2_1);
  let r = ddAdd([x, 0], ddNeg(twoProd(k, PIO2_1)));
  r = ddAdd(r, ddNeg(twoProd(k, PIO2_2)));
  r = ddAdd(r, ddNeg(twoProd(k, PIO2_3)));
  return { q: ((k % 4) + 4) % 4, r };
}

/** 1/n! as double-doubles, n = 0..31, for the series below. */
const INV_FACT: DD[] = (() => {
  const out: DD[] = [[1, 0]];
  for (let n = 1; n < 32; n++) out.push(ddDivD(out[n - 1], n));
  return out;
})();

/** sin of a double-double |r| <= pi/4: the odd Taylor terms to r^29 (relative error below 2^-110), by Horner. */
function sinSeries(r: DD): DD {
  const r2 = ddMul(r, r);
  let p = INV_FACT[29]; // +r^29/29!
  for (let n = 27; n >= 1; n -= 2) {
    const c = INV_FACT[n];
    p = ddAdd(ddMul(p, r2), (n - 1) % 4 === 0 ? c : ddNeg(c));
  }
  return ddMul(p, r);
}

function cosSeries(r: DD): DD {
  const r2 = ddMul(r, r);
  let p = ddNeg(INV_FACT[30]); // -r^30/30!
  for (let n = 28; n >= 0; n -= 2) {
    const c = INV_FACT[n];
    p = ddAdd(ddMul(p, r2), n % 4 === 0 ? c : ddNeg(c));
  }
  return p;
}

function sinDD(x: number): DD {
  if (x === 0 || !Number.isFinite(x)) return [Math.sin(x), 0];
  const { q, r } = reduce(x);
  return q === 0 ? sinSeries(r) : q === 1 ? cosSeries(r) : q === 2 ? ddNeg(sinSeries(r)) : ddNeg(cosSeries(r));
}

function cosDD(x: number): DD {
  if (!Number.isFinite(x)) return [NaN, 0];
  const { q, r } = reduce(x);
  return q === 0 ? cosSeries(r) : q === 1 ? ddNeg(sinSeries(r)) : q === 2 ? ddNeg(cosSeries(r)) : sinSeries(r);
}

function crSin(x: number): number {
  // Beyond the range the reduction is exact for, fall back (never reached for valid coordinates).
  if (Math.abs(x) > 1e5) return Math.sin(x);
  const d = sinDD(x);
  return d[0] + d[1];
}

// Two slots: distance() alternates the centre's latitude with each point's.
let cosArg = NaN, cosVal = NaN, cosArg2 = NaN, cosVal2 = NaN;

function crCos(x: number): number {
  if (Math.abs(x) > 1e5) return Math.cos(x);
  if (x === cosArg) return cosVal;
  if (x === cosArg2) {
    // Least recently used goes to slot 2.
    cosArg2 = cosArg;
    cosArg = x;
    const v = cosVal2;
    cosVal2 = cosVal;
    cosVal = v;
    return v;
  }
  const d = cosDD(x);
  cosArg2 = cosArg;
  cosVal2 = cosVal;
  cosArg = x;
  cosVal = d[0] + d[1];
  return cosVal;
}

/** asin of a double-double in [0, ~0.5]: one Newton step on sin from the double estimate. */
function asinSmall(z: DD): DD {
  const y0 = Math.asin(z[0] + z[1]);
  const diff = ddAdd(z, ddNeg(sinDD(y0)));
  return ddAdd([y0, 0], [(diff[0] + diff[1]) / Math.cos(y0), 0]);
}

function crAsin(x: number): number {
  if (!(x >= -1 && x <= 1)) return NaN;
  if (x === 0) return x;
  const ax = Math.abs(x);
  let r: DD;
  if (ax <= 0.5) r = asinSmall([ax, 0]);
  else {
    // asin(x) = pi/2 - 2 asin(sqrt((1-x)/2)), well conditioned near 1.
    const t = (1 - ax) / 2;
    const s = Math.sqrt(t);
    const p = twoProd(s, s);
    const y = s === 0 ? [0, 0] as DD : asinSmall(norm(s, ((t - p[0]) - p[1]) / (2 * s)));
    r = ddAdd([PIO2_1, PIO2_2], ddNeg(ddAdd(y, y)));
  }
  const v = r[0] + r[1];
  return x < 0 ? -v : v;
}

const degRad = (a: number): number => a * D_R;
const radDeg = (a: number): number => a / D_R;

interface Hash { bits: bigint; step: number }
interface Range { min: number; max: number }
interface Area { lon: Range; lat: Range }

/** Spreads the 32 bits of x to the even bit positions of a 64-bit value. */
function spread(x: number): bigint {
  let r = 0n;
  for (let i = 0; i < 32 && x > 0; i++) {
    if (x % 2 === 1) r |= 1n << BigInt(2 * i);
    x = Math.floor(x / 2);
  }
  return r;
}

/** Collects the even bits of v into a 32-bit number. */
function squash(v: bigint): number {
  let r = 0;
  let bit = 1;
  for (let i = 0; i < 32; i++) {
    if ((v >> BigInt(2 * i)) & 1n) r += bit;
    bit *= 2;
  }
  return r;
}

/** double -> uint32 as C truncates a value that is in range. */
const toU32 = (d: number): number => Math.trunc(d) >>> 0;

function encode(lonR: Range, latR: Range, lon: number, lat: number, step: number): Hash | null {
  if (lon > LON_MAX || lon < LON_MIN || lat > LAT_MAX || lat < LAT_MIN) return null;
  if (lat < latR.min || lat > latR.max || lon < lonR.min || lon > lonR.max) return null;
  let latOff = (lat - latR.min) / (latR.max - latR.min);
  let lonOff = (lon - lonR.min) / (lonR.max - lonR.min);
  latOff *= 2 ** step;
  lonOff *= 2 ** step;
  return { bits: spread(toU32(latOff)) | (spread(toU32(lonOff)) << 1n), step };
}

const WGS_LON: Range = { min: LON_MIN, max: LON_MAX };
const WGS_LAT: Range = { min: LAT_MIN, max: LAT_MAX };

function areaOf(ilat: number, ilon: number, step: number): Area {
  const div = 2 ** step;
  const latScale = WGS_LAT.max - WGS_LAT.min;
  const lonScale = WGS_LON.max - WGS_LON.min;
  return {
    lat: { min: WGS_LAT.min + (ilat * 1.0 / div) * latScale, max: WGS_LAT.min + ((ilat + 1) * 1.0 / div) * latScale },
    lon: { min: WGS_LON.min + (ilon * 1.0 / div) * lonScale, max: WGS_LON.min + ((ilon + 1) * 1.0 / div) * lonScale },
  };
}

function decodeArea(h: Hash): Area {
  return areaOf(squash(h.bits), squash(h.bits >> 1n), h.step);
}

/** (uint64_t)score as x86-64 gcc converts it (out-of-range values give 2^63). */
function scoreBits(score: number): bigint {
  if (!Number.isFinite(score)) return score > 0 ? 0n : 1n << 63n;
  const t = Math.trunc(score);
  if (t >= 2 ** 64) return 1n << 63n;
  if (t >= 2 ** 63) return BigInt(t);
  if (t < -(2 ** 63)) return 1n << 63n;
  return BigInt(t) & M64;
}

/** The even bits of a 32-bit value, packed into 16 bits. */
function even16(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  return (x | (x >>> 8)) & 0x0000ffff;
}

const TWO26 = 2 ** 26;

/** Score -> [lon, lat], the centre of its step-26 box clamped to the valid range. */
function decodeScore(score: number): [number, number] {
  let a: Area;
  if (score >= 0 && score < 2 ** 52 && Number.isInteger(score)) {
    // Every real geo score: split at bit 26 (even, so each half keeps its lat/lon bit parity).
    const hi = Math.floor(score / TWO26);
    const lo = score - hi * TWO26;
    const ilat = even16(lo) + even16(hi) * 8192;
    const ilon = even16(lo >>> 1) + even16(hi >>> 1) * 8192;
    a = areaOf(ilat, ilon, STEP_MAX);
  } else {
    a = decodeArea({ bits: scoreBits(score), step: STEP_MAX });
  }
  let lon = (a.lon.min + a.lon.max) / 2;
  if (lon > LON_MAX) lon = LON_MAX;
  if (lon < LON_MIN) lon = LON_MIN;
  let lat = (a.lat.min + a.lat.max) / 2;
  if (lat > LAT_MAX) lat = LAT_MAX;
  if (lat < LAT_MIN) lat = LAT_MIN;
  return [lon, lat];
}

const align52 = (h: Hash): bigint => (h.bits << BigInt(52 - h.step * 2)) & M64;

function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS * Math.abs(degRad(lat2) - degRad(lat1));
}

/** geohashGetDistance: haversine on Redis's earth radius, in meters. */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = crSin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = crSin((lat2r - lat1r) / 2);
  const a = u * u + crCos(lat1r) * crCos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS * crAsin(Math.sqrt(a));
}

interface Shape {
  circle: boolean;
  lon: number;
  lat: number;
  conversion: number;
  radius: number;
  width: number;
  height: number;
}

function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

function moveX(h: Hash, d: number): Hash {
  if (d === 0) return h;
  let x = h.bits & ODD;
  const y = h.bits & EVEN;
  const zz = EVEN >> BigInt(64 - h.step * 2);
  if (d > 0) x = (x + (zz + 1n)) & M64;
  else x = ((x | zz) - (zz + 1n)) & M64;
  x &= ODD >> BigInt(64 - h.step * 2);
  return { bits: x | y, step: h.step };
}

function moveY(h: Hash, d: number): Hash {
  if (d === 0) return h;
  const x = h.bits & ODD;
  let y = h.bits & EVEN;
  const zz = ODD >> BigInt(64 - h.step * 2);
  if (d > 0) y = (y + (zz + 1n)) & M64;
  else y = ((y | zz) - (zz + 1n)) & M64;
  y &= EVEN >> BigInt(64 - h.step * 2);
  return { bits: x | y, step: h.step };
}

/** The centre box and its 8 neighbours, in Redis's order, with useless ones zeroed (null). */
function searchBoxes(s: Shape): (Hash | null)[] {
  const height = s.conversion * (s.circle ? s.radius : s.height / 2);
  const width = s.conversion * (s.circle ? s.radius : s.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS / crCos(degRad(s.lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS / crCos(degRad(s.lat - latDelta)));
  const south = s.lat < 0;
  const minLon = south ? s.lon - lonDeltaBottom : s.lon - lonDeltaTop;
  const maxLon = south ? s.lon + lonDeltaBottom : s.lon + lonDeltaTop;
  const minLat = s.lat - latDelta;
  const maxLat = s.lat + latDelta;
  let radiusMeters = s.circle ? s.radius : Math.sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2));
  radiusMeters *= s.conversion;
  let steps = estimateSteps(radiusMeters, s.lat);
  const compute = (st: number): { hash: Hash; n: Hash[]; area: Area } => {
    const hash = encode(WGS_LON, WGS_LAT, s.lon, s.lat, st) ?? { bits: 0n, step: st };
    const n = [
      moveY(hash, 1), moveY(hash, -1), moveX(hash, 1), moveX(hash, -1),
      moveY(moveX(hash, 1), 1), moveY(moveX(hash, -1), 1), moveY(moveX(hash, 1), -1), moveY(moveX(hash, -1), -1),
    ];
    return { hash, n, area: decodeArea(hash) };
  };
  let c = compute(steps);
  const [north, southB, east, west] = c.n.map((h) => decodeArea(h));
  const decrease = north.lat.max < maxLat || southB.lat.min > minLat || east.lon.max < maxLon || west.lon.min > minLon;
  if (steps > 1 && decrease) {
    steps--;
    c = compute(steps);
  }
  // Order: north, south, east, west, north_east, north_west, south_east, south_west.
  const boxes: (Hash | null)[] = [c.hash, ...c.n];
  if (steps >= 2) {
    const zero = (idx: number[]): void => { for (const i of idx) boxes[i] = null; };
    if (c.area.lat.min < minLat) zero([2, 8, 7]);
    if (c.area.lat.max > maxLat) zero([1, 5, 6]);
    if (c.area.lon.min < minLon) zero([4, 8, 6]);
    if (c.area.lon.max > maxLon) zero([3, 7, 5]);
  }
  return boxes;
}

interface Point { member: string; score: number; lon: number; lat: number; dist: number }

/** The same formula with V8's own sin/cos/asin: within a few ulps of distance(), to reject far points cheaply. */
function roughDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const v = Math.sin((degRad(lon2) - degRad(lon1)) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const u = Math.sin((degRad(lat2) - degRad(lat1)) / 2);
  const a = u * u + Math.cos(degRad(lat1)) * Math.cos(degRad(lat2)) * v * v;
  return 2.0 * EARTH_RADIUS * Math.asin(Math.sqrt(a));
}

/** True when the rough distance is so far beyond limit that the exact one is too. */
const clearlyBeyond = (rough: number, limit: number): boolean => rough > limit * (1 + 1e-9) + 1e-9;

function withinShape(s: Shape, score: number): Point | null {
  const [lon, lat] = decodeScore(score);
  let dist: number;
  if (s.circle) {
    const limit = s.radius * s.conversion;
    if (clearlyBeyond(roughDistance(s.lon, s.lat, lon, lat), limit)) return null;
    dist = distance(s.lon, s.lat, lon, lat);
    if (dist > limit) return null;
  } else {
    const w = s.width * s.conversion;
    const h = s.height * s.conversion;
    if (latDistance(lat, s.lat) > h / 2) return null;
    if (clearlyBeyond(roughDistance(lon, lat, s.lon, lat), w / 2)) return null;
    if (distance(lon, lat, s.lon, lat) > w / 2) return null;
    dist = distance(s.lon, s.lat, lon, lat);
  }
  return { member: '', score, lon, lat, dist };
}

/** Visits members with min <= score < max in (score, member) order until visit returns false. */
function scoreRange(z: RZSet, min: number, max: number, visit: (member: string, score: number) => boolean): void {
  if (z instanceof SortedSet) {
    let n = z.firstInScoreRange({ min, max, minex: false, maxex: true });
    while (n && n.score < max) {
      if (!visit(n.member, n.score)) return;
      n = z.next(n);
    }
    return;
  }
  for (const [m, score] of z.entries()) {
    if (score >= max) return;
    if (score >= min && !visit(m, score)) return;
  }
}

function searchPoints(z: RZSet, s: Shape, limit: number): Point[] {
  const boxes = searchBoxes(s);
  const out: Point[] = [];
  let last = 0;
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i];
    if (b === null) continue;
    const lb = boxes[last];
    if (last && lb && lb.bits === b.bits && lb.step === b.step) continue;
    if (out.length && limit && out.length >= limit) break;
    const min = Number(align52(b));
    const max = Number(align52({ bits: (b.bits + 1n) & M64, step: b.step }));
    scoreRange(z, min, max, (m, score) => {
      const p = withinShape(s, score);
      if (p) {
        p.member = m;
        out.push(p);
      }
      return !(out.length && limit && out.length >= limit);
    });
    last = i;
  }
  return out;
}

// ---------------------------------------------------------------- formatting

/** fixedpoint_d2string(d, 4): llrint(d * 10^4) (round half to even), printed with 4 decimals. */
function fixed4(d: number): string {
  if (d === 0) return '0.0000';
  const x = d * 10000;
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  const neg = r < 0;
  const v = Math.abs(r);
  const s = `${Math.floor(v / 10000)}.${String(v % 10000).padStart(4, '0')}`;
  return neg ? '-' + s : s;
}

/** ld2string(LD_STR_HUMAN): %.17Lf without trailing zeros (or dot), "-0" as "0". */
function human(d: number): string {
  let s = d.toFixed(17);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

function replyHuman(reply: Reply, d: number): void {
  if (reply.resp === 2) reply.bulk(human(d));
  else reply.raw(`,${human(d)}\r\n`);
}

/** C's %f (6 decimals; inf as "inf"). */
function cfmt(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  // toFixed switches to exponent form at 1e21; such doubles are integers, printed in full by C.
  if (Math.abs(d) >= 1e21) return `${BigInt(d).toString()}.000000`;
  return d.toFixed(6);
}

// ---------------------------------------------------------------- argument parsing

/** extractLongLatOrReply: [lon, lat] or null after replying. */
function lonLatArg(reply: Reply, a: string, b: string): [number, number] | null {
  const lon = argDouble(reply, a);
  if (lon === null) return null;
  const lat = argDouble(reply, b);
  if (lat === null) return null;
  if (lon < LON_MIN || lon > LON_MAX || lat < LAT_MIN || lat > LAT_MAX) {
    reply.error(`ERR invalid longitude,latitude pair ${cfmt(lon)},${cfmt(lat)}`);
    return null;
  }
  return [lon, lat];
}

function unitArg(reply: Reply, u: string): number {
  switch (u.toLowerCase()) {
    case 'm': return 1;
    case 'km': return 1000;
    case 'ft': return 0.3048;
    case 'mi': return 1609.34;
    default:
      reply.error('ERR unsupported unit provided. please use M, KM, FT, MI');
      return -1;
  }
}

/** The zset at key via a counted read lookup: undefined when missing, false after WRONGTYPE. */
function readZ(ctx: CommandContext, key: string): RZSet | undefined | false {
  const v = lookupRead(ctx, key);
  if (v === undefined) return undefined;
  if (typeOf(v) !== 'zset') {
    ctx.reply.error(ERR_WRONGTYPE);
    return false;
  }
  return v as RZSet;
}

// ---------------------------------------------------------------- commands

const zaddSpec = zsetCommands.find((c) => c.name === 'zadd');

function geoadd(ctx: CommandContext, argv: string[]): void {
  let xx = false, nx = false, idx = 2;
  for (; idx < argv.length; idx++) {
    const o = argv[idx].toLowerCase();
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o !== 'ch') break;
  }
  if ((argv.length - idx) % 3 !== 0 || (xx && nx)) {
    ctx.reply.error(ERR_SYNTAX);
    return;
  }
  const zargv = ['zadd', ...argv.slice(1, idx)];
  for (let i = idx; i < argv.length; i += 3) {
    const xy = lonLatArg(ctx.reply, argv[i], argv[i + 1]);
    if (xy === null) return;
    const h = encode(WGS_LON, WGS_LAT, xy[0], xy[1], STEP_MAX) as Hash;
    zargv.push(align52(h).toString(), argv[i + 2]);
  }
  if (zaddSpec === undefined) throw new Error('zadd is not registered');
  // Redis rewrites GEOADD into ZADD and runs it: replicas and the AOF see the ZADD.
  ctx.propagateAs([zargv]);
  zaddSpec.execute(ctx, zargv);
}

const Flag = { Coords: 1, Member: 2, NoStore: 4, Search: 8, SearchStore: 16 } as const;

function georadiusGeneric(ctx: CommandContext, argv: string[], srcIdx: number, flags: number): void {
  const reply = ctx.reply;
  let storeKey: string | null = null;
  let storeDist = false;
  const z = readZ(ctx, argv[srcIdx]);
  if (z === false) return;
  const shape: Shape = { circle: true, lon: 0, lat: 0, conversion: 0, radius: 0, width: 0, height: 0 };
  let base: number;
  const distanceArgs = (i: number): boolean => {
    const r = argDouble(reply, argv[i], 'need numeric radius');
    if (r === null) return false;
    if (r < 0) {
      reply.error('ERR radius cannot be negative');
      return false;
    }
    const conv = unitArg(reply, argv[i + 1]);
    if (conv < 0) return false;
    shape.radius = r;
    shape.conversion = conv;
    return true;
  };
  if (flags & Flag.Coords) {
    base = 6;
    const xy = lonLatArg(reply, argv[2], argv[3]);
    if (xy === null) return;
    [shape.lon, shape.lat] = xy;
    if (!distanceArgs(4)) return;
  } else if (flags & Flag.Member) {
    base = 5;
    if (z !== undefined) {
      const sc = z.score(argv[2]);
      if (sc === undefined) {
        reply.error('ERR could not decode requested zset member');
        return;
      }
      [shape.lon, shape.lat] = decodeScore(sc);
      if (!distanceArgs(3)) return;
    }
  } else {
    base = 2;
    if (flags & Flag.SearchStore) {
      base = 3;
      storeKey = argv[1];
    }
  }
  let withdist = false, withhash = false, withcoord = false, any = false;
  let fromMember = false, fromLoc = false, byRadius = false, byBox = false;
  let sort: 'none' | 'asc' | 'desc' = 'none';
  let count = 0;
  const search = (flags & Flag.Search) !== 0;
  const remaining = argv.length - base;
  for (let i = 0; i < remaining; i++) {
    const arg = argv[base + i].toLowerCase();
    const at = base + i;
    if (arg === 'withdist') withdist = true;
    else if (arg === 'withhash') withhash = true;
    else if (arg === 'withcoord') withcoord = true;
    else if (arg === 'any') any = true;
    else if (arg === 'asc') sort = 'asc';
    else if (arg === 'desc') sort = 'desc';
    else if (arg === 'count' && i + 1 < remaining) {
      const n = argLong(reply, argv[at + 1]);
      if (n === null) return;
      if (n <= 0) {
        reply.error('ERR COUNT must be > 0');
        return;
      }
      count = n;
      i++;
    } else if ((arg === 'store' || arg === 'storedist') && i + 1 < remaining && !(flags & Flag.NoStore) && !search) {
      storeKey = argv[at + 1];
      storeDist = arg === 'storedist';
      i++;
    } else if (arg === 'storedist' && search && flags & Flag.SearchStore) {
      storeDist = true;
    } else if (arg === 'frommember' && i + 1 < remaining && search && !fromLoc) {
      if (z !== undefined) {
        const sc = z.score(argv[at + 1]);
        if (sc === undefined) {
          reply.error('ERR could not decode requested zset member');
          return;
        }
        [shape.lon, shape.lat] = decodeScore(sc);
      }
      fromMember = true;
      i++;
    } else if (arg === 'fromlonlat' && i + 2 < remaining && search && !fromMember) {
      const xy = lonLatArg(reply, argv[at + 1], argv[at + 2]);
      if (xy === null) return;
      [shape.lon, shape.lat] = xy;
      fromLoc = true;
      i += 2;
    } else if (arg === 'byradius' && i + 2 < remaining && search && !byBox) {
      if (!distanceArgs(at + 1)) return;
      shape.circle = true;
      byRadius = true;
      i += 2;
    } else if (arg === 'bybox' && i + 3 < remaining && search && !byRadius) {
      const w = argDouble(reply, argv[at + 1], 'need numeric width');
      if (w === null) return;
      const h = argDouble(reply, argv[at + 2], 'need numeric height');
      if (h === null) return;
      if (h < 0 || w < 0) {
        reply.error('ERR height or width cannot be negative');
        return;
      }
      const conv = unitArg(reply, argv[at + 3]);
      if (conv < 0) return;
      shape.width = w;
      shape.height = h;
      shape.conversion = conv;
      shape.circle = false;
      byBox = true;
      i += 3;
    } else {
      reply.error(ERR_SYNTAX);
      return;
    }
  }
  if (storeKey !== null && (withdist || withhash || withcoord)) {
    const what = flags & Flag.SearchStore ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    reply.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    return;
  }
  if (search && !(fromMember || fromLoc)) {
    reply.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
    return;
  }
  if (search && !(byRadius || byBox)) {
    reply.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
    return;
  }
  if (any && !count) {
    reply.error('ERR the ANY argument requires COUNT argument');
    return;
  }
  if (z === undefined) {
    if (storeKey !== null) {
      if (ctx.db.delete(storeKey)) notify(ctx, NOTIFY_GENERIC, 'del', storeKey);
      reply.integer(0);
    } else {
      reply.arrayHeader(0);
    }
    return;
  }
  if (count !== 0 && sort === 'none' && !any) sort = 'asc';
  const points = searchPoints(z, shape, any ? count : 0);
  if (points.length === 0 && storeKey === null) {
    reply.arrayHeader(0);
    return;
  }
  if (sort === 'asc') points.sort((a, b) => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1));
  else if (sort === 'desc') points.sort((a, b) => (a.dist > b.dist ? -1 : a.dist === b.dist ? 0 : 1));
  const n = count === 0 || points.length < count ? points.length : count;
  if (storeKey === null) {
    const opts = (withdist ? 1 : 0) + (withcoord ? 1 : 0) + (withhash ? 1 : 0);
    reply.arrayHeader(n);
    for (let i = 0; i < n; i++) {
      const p = points[i];
      if (opts) reply.arrayHeader(opts + 1);
      reply.bulk(p.member);
      if (withdist) reply.bulk(fixed4(p.dist / shape.conversion));
      if (withhash) reply.integer(BigInt.asIntN(64, scoreBits(p.score)));
      if (withcoord) {
        reply.arrayHeader(2);
        replyHuman(reply, p.lon);
        replyHuman(reply, p.lat);
      }
    }
    return;
  }
  if (n === 0) {
    if (ctx.db.delete(storeKey)) notify(ctx, NOTIFY_GENERIC, 'del', storeKey);
    reply.integer(0);
    return;
  }
  const out = createZSet(ctx.server.encodingLimits);
  if (n > ctx.server.encodingLimits.zsetMaxListpackEntries) out.forceSkiplist();
  for (let i = 0; i < n; i++) {
    const p = points[i];
    out.add(p.member, storeDist ? p.dist / shape.conversion : p.score);
  }
  ctx.db.set(storeKey, out);
  ctx.server.signalKeyReady(ctx.db, storeKey);
  notify(ctx, NOTIFY_ZSET, flags & Flag.Search ? 'geosearchstore' : 'georadiusstore', storeKey);
  reply.integer(n);
}

/** GEOHASH and GEOPOS: one reply per member named after the key, `missing` for a member (or key) not there. */
function replyPerMember(ctx: CommandContext, argv: string[], missing: (reply: Reply) => void, present: (reply: Reply, lon: number, lat: number) => void): void {
  const z = readZ(ctx, argv[1]);
  if (z === false) return;
  const reply = ctx.reply;
  reply.arrayHeader(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const sc = z === undefined ? undefined : z.score(argv[j]);
    if (sc === undefined) missing(reply);
    else present(reply, ...decodeScore(sc));
  }
}

function geohash(ctx: CommandContext, argv: string[]): void {
  replyPerMember(ctx, argv, (reply) => reply.bulk(null), (reply, lon, lat) => {
    const h = encode({ min: -180, max: 180 }, { min: -90, max: 90 }, lon, lat, 26);
    const bits = h === null ? 0n : h.bits;
    let s = '';
    for (let i = 0; i < 11; i++) {
      const idx = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
      s += ALPHABET[idx];
    }
    reply.bulk(s);
  });
}

function geopos(ctx: CommandContext, argv: string[]): void {
  replyPerMember(ctx, argv, (reply) => reply.nullArray(), (reply, lon, lat) => {
    reply.arrayHeader(2);
    replyHuman(reply, lon);
    replyHuman(reply, lat);
  });
}

function geodist(ctx: CommandContext, argv: string[]): void {
  let toMeter = 1;
  if (argv.length === 5) {
    toMeter = unitArg(ctx.reply, argv[4]);
    if (toMeter < 0) return;
  } else if (argv.length > 5) {
    ctx.reply.error(ERR_SYNTAX);
    return;
  }
  const z = readZ(ctx, argv[1]);
  if (z === false) return;
  const s1 = z === undefined ? undefined : z.score(argv[2]);
  const s2 = z === undefined ? undefined : z.score(argv[3]);
  if (s1 === undefined || s2 === undefined) {
    ctx.reply.bulk(null);
    return;
  }
  const a = decodeScore(s1);
  const b = decodeScore(s2);
  ctx.reply.bulk(fixed4(distance(a[0], a[1], b[0], b[1]) / toMeter));
}

/** COMMAND GETKEYS as Redis 7.0's key specs give it: the source, then the key after the first STORE and STOREDIST. */
function radiusKeys(startFrom: number): (argv: string[]) => string[] {
  return (argv) => {
    const keys = [argv[1]];
    for (const kw of ['store', 'storedist']) {
      for (let i = startFrom; i < argv.length - 1; i++) {
        if (argv[i].toLowerCase() === kw) {
          keys.push(argv[i + 1]);
          break;
        }
      }
    }
    return keys;
  };
}

const W = ['write', 'geo', 'slow'];
const R = ['read', 'geo', 'slow'];
const k1 = { firstKey: 1, lastKey: 1, step: 1 };

export const commands: CommandSpec[] = [
  { name: 'geoadd', arity: -5, flags: ['write', 'denyoom'], ...k1, categories: W, execute: geoadd },
  { name: 'geohash', arity: -2, flags: ['readonly'], ...k1, categories: R, execute: geohash },
  { name: 'geopos', arity: -2, flags: ['readonly'], ...k1, categories: R, execute: geopos },
  { name: 'geodist', arity: -4, flags: ['readonly'], ...k1, categories: R, execute: geodist },
  { name: 'georadius', arity: -6, flags: ['write', 'denyoom', 'movablekeys'], ...k1, categories: W, getKeys: radiusKeys(6),
    execute: (ctx, argv) => georadiusGeneric(ctx, argv, 1, Flag.Coords) },
  { name: 'georadiusbymember', arity: -5, flags: ['write', 'denyoom', 'movablekeys'], ...k1, categories: W, getKeys: radiusKeys(5),
    execute: (ctx, argv) => georadiusGeneric(ctx, argv, 1, Flag.Member) },
  { name: 'georadius_ro', arity: -6, flags: ['readonly'], ...k1, categories: R,
    execute: (ctx, argv) => georadiusGeneric(ctx, argv, 1, Flag.Coords | Flag.NoStore) },
  { name: 'georadiusbymember_ro', arity: -5, flags: ['readonly'], ...k1, categories: R,
    execute: (ctx, argv) => georadiusGeneric(ctx, argv, 1, Flag.Member | Flag.NoStore) },
  { name: 'geosearch', arity: -7, flags: ['readonly'], ...k1, categories: R,
    execute: (ctx, argv) => georadiusGeneric(ctx, argv, 1, Flag.Search) },
  { name: 'geosearchstore', arity: -8, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, step: 1, categories: W,
    execute: (ctx, argv) => georadiusGeneric(ctx, argv, 2, Flag.Search | Flag.SearchStore) },
];
