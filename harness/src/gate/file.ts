/**
 * Gate files: which topologies and scenarios a CI pipeline runs, and the thresholds that fail the build.
 * Every problem is reported at once as `file:line:col: field: what is expected` (exit 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import type { Target } from '../topology/model.js';
import { shippedTopologiesDir } from '../topology/paths.js';
import { getScenario } from '../scenarios/index.js';

/** A lost-writes limit: an absolute count, or a fraction of the acknowledged writes. */
export type LossLimit = { count: number } | { fraction: number };

export interface GateThresholds {
  /** Fault to the first acknowledged write through the client path, in seconds. */
  maxFailoverSeconds?: number;
  maxLostWrites?: LossLimit;
  /** Longest stretch without acknowledged writes, in seconds. */
  maxUnavailabilitySeconds?: number;
  /** Client scenarios: fault to the first write acknowledged through the client adapter, in seconds (every round). */
  maxClientFailoverSeconds?: number;
  /** Client scenarios: the longest a command may wait to settle, in seconds; a command that never settled always breaks the gate. */
  maxStuckSeconds?: number;
  /** 'all': the scenario's verdict must be pass; a list: these checks must pass (the others are reported). */
  checks: 'all' | string[];
  /** A scenario that cannot run here breaks the gate unless this is true. */
  allowSkip: boolean;
}

export interface GateScenario {
  name: string;
  thresholds: GateThresholds;
}

export interface GateRun {
  /** As written in the gate file. */
  topology: string;
  /** Resolved path of the topology YAML. */
  topologyFile: string;
  profile?: string;
  target?: Target;
  /** Client adapter the client-* scenarios run (shipped name or command line). */
  client?: string;
  scenarios: GateScenario[];
}

export interface Gate {
  file: string;
  name: string;
  description?: string;
  driver: 'local' | 'docker';
  seed?: number;
  runs: GateRun[];
}

export class GateFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'BadInputError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const THRESHOLD_KEYS = ['maxFailoverSeconds', 'maxLostWrites', 'maxUnavailabilitySeconds', 'maxClientFailoverSeconds', 'maxStuckSeconds', 'checks', 'allowSkip'];

/** Resolves a gate's topology: a path relative to the gate file, or the name of a shipped topology. */
export function resolveTopologyPath(ref: string, gateFile: string): string | undefined {
  const candidates = [path.resolve(path.dirname(gateFile), ref), path.resolve(ref)];
  if (!/[\\/]/.test(ref)) candidates.push(path.join(shippedTopologiesDir(), ref.endsWith('.yml') ? ref : `${ref}.yml`));
  return candidates.find((c) => existsSync(c) && !c.endsWith(path.sep));
}

export function loadGate(file: string): Gate {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new GateFileError([`${file}: cannot read the gate file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`]);
  }
  return parseGate(text, file);
}

export function parseGate(text: string, file: string): Gate {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const problems: string[] = [];
  for (const err of doc.errors) {
    const { line, col } = lc.linePos(err.pos[0]);
    problems.push(`${file}:${line}:${col}: ${err.message.split('\n')[0]}`);
  }
  if (problems.length) throw new GateFileError(problems);
  const where = (p: (string | number)[], atKey = false): string => {
    let node: unknown = doc.contents;
    let offset = (node as YamlNode | null)?.range?.[0] ?? 0;
    for (let i = 0; i < p.length; i++) {
      const seg = p[i];
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
        if (!pair) break;
        if (i === p.length - 1 && (atKey || pair.value === null)) {
          offset = (pair.key as YamlNode).range?.[0] ?? offset;
          break;
        }
        node = pair.value;
        offset = (node as YamlNode | null)?.range?.[0] ?? offset;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        offset = (node as YamlNode | null)?.range?.[0] ?? offset;
      } else break;
    }
    const { line, col } = lc.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const fieldName = (p: (string | number)[]): string => p.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${seg}` : seg), '') || '(document)';
  const bad = (p: (string | number)[], msg: string, atKey = false): void => {
    problems.push(`${where(p, atKey)}: ${fieldName(p)}: ${msg}`);
  };

  const root: unknown = doc.toJS();
  if (!isObj(root)) throw new GateFileError([`${file}:1:1: (document): expected a mapping with name, runs and thresholds`]);
  const unknownKeys = (o: Obj, allowed: string[], at: (string | number)[]): void => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) bad([...at, k], `unknown field; expected one of ${allowed.join(', ')}`, true);
  };
  unknownKeys(root, ['name', 'description', 'driver', 'seed', 'thresholds', 'runs'], []);

  const name = typeof root['name'] === 'string' && root['name'] !== '' ? root['name'] : path.basename(file).replace(/\.ya?ml$/, '');
  if (root['name'] !== undefined && typeof root['name'] !== 'string') bad(['name'], 'expected a string');
  let driver: 'local' | 'docker' = 'local';
  if (root['driver'] !== undefined) {
    if (root['driver'] === 'local' || root['driver'] === 'docker') driver = root['driver'];
    else bad(['driver'], 'expected local or docker');
  }
  let seed: number | undefined;
  if (root['seed'] !== undefined) {
    if (typeof root['seed'] === 'number' && Number.isInteger(root['seed']) && root['seed'] >= 0) seed = root['seed'];
    else bad(['seed'], 'expected a non-negative integer');
  }

  const thresholds = (v: unknown, at: (string | number)[], base: GateThresholds): GateThresholds => {
    const out: GateThresholds = { ...base, checks: Array.isArray(base.checks) ? [...base.checks] : base.checks };
    if (v === undefined) return out;
    if (!isObj(v)) {
      bad(at, `expected a mapping of ${THRESHOLD_KEYS.join(', ')}`);
      return out;
    }
    unknownKeys(v, THRESHOLD_KEYS, at);
    for (const k of ['maxFailoverSeconds', 'maxUnavailabilitySeconds', 'maxClientFailoverSeconds', 'maxStuckSeconds'] as const) {
      const x = v[k];
      if (x === undefined) continue;
      if (typeof x === 'number' && x >= 0) out[k] = x;
      else bad([...at, k], 'expected a number of seconds >= 0');
    }
    const lost = v['maxLostWrites'];
    if (lost !== undefined) {
      if (typeof lost === 'number' && Number.isInteger(lost) && lost >= 0) out.maxLostWrites = { count: lost };
      else if (typeof lost === 'string' && /^\d+(\.\d+)?%$/.test(lost.trim()) && Number(lost.trim().slice(0, -1)) <= 100) {
        out.maxLostWrites = { fraction: Number(lost.trim().slice(0, -1)) / 100 };
      } else bad([...at, 'maxLostWrites'], 'expected a count (e.g. 0) or a percentage of acknowledged writes (e.g. "0.5%")');
    }
    const checks = v['checks'];
    if (checks !== undefined) {
      if (checks === 'all') out.checks = 'all';
      else if (Array.isArray(checks) && checks.every((c) => typeof c === 'string' && c !== '')) out.checks = checks as string[];
      else bad([...at, 'checks'], 'expected "all" or a list of check names');
    }
    const allowSkip = v['allowSkip'];
    if (allowSkip !== undefined) {
      if (typeof allowSkip === 'boolean') out.allowSkip = allowSkip;
      else bad([...at, 'allowSkip'], 'expected true or false');
    }
    return out;
  };

  const defaults = thresholds(root['thresholds'], ['thresholds'], { checks: 'all', allowSkip: false });
  const runs: GateRun[] = [];
  const rawRuns = root['runs'];
  if (!Array.isArray(rawRuns) || rawRuns.length === 0) {
    bad(['runs'], 'expected a non-empty list of { topology, scenarios }', rawRuns === undefined);
  } else {
    rawRuns.forEach((r, i) => {
      const at = ['runs', i];
      if (!isObj(r)) {
        bad(at, 'expected a mapping with topology and scenarios');
        return;
      }
      unknownKeys(r, ['topology', 'profile', 'target', 'client', 'scenarios', 'thresholds'], at);
      const topo = r['topology'];
      let topologyFile: string | undefined;
      if (typeof topo !== 'string' || topo === '') bad([...at, 'topology'], 'expected a topology file path (relative to the gate file) or a shipped topology name', topo === undefined);
      else {
        topologyFile = resolveTopologyPath(topo, file);
        if (!topologyFile) bad([...at, 'topology'], `no such topology "${topo}" (not a file next to the gate file, nor a shipped topology)`);
      }
      const profile = r['profile'];
      if (profile !== undefined && (typeof profile !== 'string' || profile === '')) bad([...at, 'profile'], 'expected a profile name');
      const target = r['target'];
      if (target !== undefined && target !== 'redis' && target !== 'reference') bad([...at, 'target'], 'expected redis or reference (omit it for the targets the topology names)');
      const client = r['client'];
      if (client !== undefined && (typeof client !== 'string' || client.trim() === '')) bad([...at, 'client'], 'expected a client adapter: a shipped name (ioredis, node-redis, redis-py) or a command line');
      const runThresholds = thresholds(r['thresholds'], [...at, 'thresholds'], defaults);
      const scenarios: GateScenario[] = [];
      const rawScen = r['scenarios'];
      if (!Array.isArray(rawScen) || rawScen.length === 0) bad([...at, 'scenarios'], 'expected a non-empty list of scenario names (see redis-ha-chaos scenarios)', rawScen === undefined);
      else {
        rawScen.forEach((s, j) => {
          const sat = [...at, 'scenarios', j];
          let sname: unknown = s;
          let st = runThresholds;
          if (isObj(s)) {
            unknownKeys(s, ['name', 'thresholds'], sat);
            sname = s['name'];
            st = thresholds(s['thresholds'], [...sat, 'thresholds'], runThresholds);
          }
          if (typeof sname !== 'string' || sname === '') bad(sat, 'expected a scenario name or { name, thresholds }');
          else if (!getScenario(sname)) bad(isObj(s) ? [...sat, 'name'] : sat, `unknown scenario "${sname}"; list them with: redis-ha-chaos scenarios`);
          else scenarios.push({ name: sname, thresholds: st });
        });
      }
      if (topologyFile && typeof topo === 'string') {
        const run: GateRun = { topology: topo, topologyFile, scenarios };
        if (typeof profile === 'string' && profile !== '') run.profile = profile;
        if (target === 'redis' || target === 'reference') run.target = target;
        if (typeof client === 'string' && client.trim() !== '') run.client = client;
        runs.push(run);
      }
    });
  }
  if (problems.length) throw new GateFileError(problems);
  const gate: Gate = { file, name, driver, runs };
  if (typeof root['description'] === 'string') gate.description = root['description'];
  if (seed !== undefined) gate.seed = seed;
  return gate;
}
