/**
 * YAML topology -> validated Topology with every default filled. Every problem is reported at once, one line each:
 * `file:line:column: field.path: what is expected`, so a user fixes a file in one pass.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Document, type Node as YamlNode } from 'yaml';
import { checkSchema, type JsonSchema, type Path } from './schema-check.js';
import { topologySchema } from './schema.js';
import { EMBEDDED_DEFAULT_NAME, EMBEDDED_DEFAULT_YAML } from './embedded.js';
import type {
  ClusterSpec, HAProxySpec, HostSpec, RedisInstanceSpec, SentinelSpec, Target, Topology, TopologyKind, ToxiLinkSpec, ToxiproxySpec,
} from './model.js';

export class TopologyError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'TopologyError';
  }
}

export interface LoadOptions {
  /** Named profile from the file's `profiles` to merge over the base. */
  profile?: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function pathText(p: Path): string {
  let out = '';
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(document)';
}

/** Finds where a value path sits in the YAML source; falls back to the deepest node that exists. */
class Locator {
  private overrides = new Map<string, Path>();
  constructor(private doc: Document, private lc: LineCounter, private file: string) {}

  /** Values merged from a profile are located in the profile's text. */
  override(basePath: Path, docPath: Path): void {
    this.overrides.set(JSON.stringify(basePath), docPath);
  }

  private docPathFor(p: Path): Path {
    for (let n = p.length; n > 0; n--) {
      const hit = this.overrides.get(JSON.stringify(p.slice(0, n)));
      if (hit) return [...hit, ...p.slice(n)];
    }
    return p;
  }

  position(p: Path, atKey = false): string {
    let node: unknown = this.doc.contents;
    let offset = (node as YamlNode | null)?.range?.[0] ?? 0;
    const docPath = this.docPathFor(p);
    for (let i = 0; i < docPath.length; i++) {
      const seg = docPath[i];
      const last = i === docPath.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as YamlNode;
        if (last && (atKey || pair.value === null)) {
          offset = keyNode.range?.[0] ?? offset;
          break;
        }
        node = pair.value;
        offset = (node as YamlNode | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        offset = (node as YamlNode | null)?.range?.[0] ?? offset;
      } else break;
    }
    const { line, col } = this.lc.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  problem(p: Path, message: string, atKey = false): string {
    return `${this.position(p, atKey)}: ${pathText(p)}: ${message}`;
  }
}

/** Deep merge where lists of named items merge item by item; the locator learns where merged values came from. */
function mergeProfile(base: Obj, patch: Obj, basePath: Path, patchPath: Path, loc: Locator): Obj {
  const out: Obj = { ...base };
  for (const [k, pv] of Object.entries(patch)) {
    const bv = base[k];
    if (isObj(bv) && isObj(pv)) {
      out[k] = mergeProfile(bv, pv, [...basePath, k], [...patchPath, k], loc);
    } else if (Array.isArray(bv) && Array.isArray(pv) && pv.every((x) => isObj(x) && typeof x.name === 'string')) {
      const merged: unknown[] = [...bv];
      pv.forEach((item, j) => {
        const idx = merged.findIndex((b) => isObj(b) && b.name === (item as Obj).name);
        if (idx >= 0) merged[idx] = mergeProfile(merged[idx] as Obj, item as Obj, [...basePath, k, idx], [...patchPath, k, j], loc);
        else {
          loc.override([...basePath, k, merged.length], [...patchPath, k, j]);
          merged.push(item);
        }
      });
      out[k] = merged;
    } else {
      loc.override([...basePath, k], [...patchPath, k]);
      out[k] = pv;
    }
  }
  return out;
}

function directives(v: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!isObj(v)) return out;
  for (const [k, val] of Object.entries(v)) out[k] = Array.isArray(val) ? val.map(String) : String(val);
  return out;
}

export function loadTopologyText(text: string, file: string, opts: LoadOptions = {}): Topology {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const loc = new Locator(doc, lc, file);
  if (doc.errors.length > 0) {
    throw new TopologyError(doc.errors.map((e) => {
      const { line, col } = lc.linePos(e.pos[0]);
      return `${file}:${line}:${col}: (yaml syntax): ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
    }));
  }
  const raw: unknown = doc.toJS();
  if (!isObj(raw)) throw new TopologyError([loc.problem([], 'expected a mapping with name, kind, redis, ...')]);

  const schema = topologySchema();
  const { profiles: rawProfiles, ...baseValue } = raw;
  const problems: string[] = [];
  for (const p of checkSchema(schema, baseValue)) problems.push(loc.problem(p.path, p.message, p.atKey));
  const profileNames: string[] = [];
  if (rawProfiles !== undefined) {
    if (!isObj(rawProfiles)) problems.push(loc.problem(['profiles'], 'expected a mapping of profile name -> overrides'));
    else {
      const profileSchema: JsonSchema = { ...(schema.definitions?.profile ?? {}), definitions: schema.definitions };
      for (const [pname, pval] of Object.entries(rawProfiles)) {
        profileNames.push(pname);
        for (const p of checkSchema(profileSchema, pval)) {
          problems.push(loc.problem(['profiles', pname, ...p.path], p.message, p.atKey));
        }
      }
    }
  }
  if (problems.length) throw new TopologyError(problems);

  let value: Obj = baseValue;
  if (opts.profile !== undefined) {
    if (!isObj(rawProfiles) || !(opts.profile in rawProfiles)) {
      const known = profileNames.length ? `expected one of ${profileNames.join(', ')}` : 'this topology defines no profiles';
      throw new TopologyError([`${file}:1:1: profiles: no profile "${opts.profile}"; ${known}`]);
    }
    value = mergeProfile(baseValue, rawProfiles[opts.profile] as Obj, [], ['profiles', opts.profile], loc);
    // Items a profile adds must be complete.
    for (const p of checkSchema(schema, value)) problems.push(loc.problem(p.path, p.message, p.atKey));
    if (problems.length) throw new TopologyError(problems);
  }
  const topo = buildTopology(value, file, loc, problems);
  if (problems.length) throw new TopologyError(problems);
  topo.profiles = profileNames;
  if (opts.profile !== undefined) topo.profile = opts.profile;
  return topo;
}

function buildTopology(v: Obj, file: string, loc: Locator, problems: string[]): Topology {
  const baseDir = file.startsWith('<') ? process.cwd() : path.dirname(file);
  const kind = v.kind as TopologyKind;
  const targets = isObj(v.targets) ? v.targets : {};
  const redisTarget = (targets.redis as Target | undefined) ?? 'redis';
  const sentinelTarget = (targets.sentinel as Target | undefined) ?? 'redis';
  const auth = isObj(v.auth) ? v.auth : {};
  const defaultPassword = auth.password as string | undefined;
  const defaultMasterauth = (auth.masterauth as string | undefined) ?? defaultPassword;

  const userFile = (p: Path, rel: unknown): string | undefined => {
    if (typeof rel !== 'string') return undefined;
    const abs = path.resolve(baseDir, rel);
    if (!existsSync(abs)) problems.push(loc.problem(p, `expected an existing file, ${abs} not found`));
    return abs;
  };

  const rawRedis = (Array.isArray(v.redis) ? v.redis : []) as Obj[];
  const redis: RedisInstanceSpec[] = rawRedis.map((r, i) => {
    const password = (r.password as string | undefined) ?? defaultPassword;
    const spec: RedisInstanceSpec = {
      name: r.name as string,
      host: r.host as string,
      port: (r.port as number | undefined) ?? 6379,
      config: directives(r.config),
      target: (r.target as Target | undefined) ?? redisTarget,
    };
    if (r.replicaof !== undefined) spec.replicaof = r.replicaof as string;
    if (password !== undefined) spec.password = password;
    const masterauth = (r.masterauth as string | undefined) ?? defaultMasterauth ?? password;
    if (masterauth !== undefined) spec.masterauth = masterauth;
    const cf = userFile(['redis', i, 'configFile'], r.configFile);
    if (cf) spec.configFile = cf;
    return spec;
  });
  const redisByName = new Map(redis.map((r) => [r.name, r]));

  // Names are unique across roles: faults and endpoints are addressed by name.
  const seenNames = new Map<string, string>();
  const claimName = (name: string, p: Path) => {
    if (name === 'client' || name === 'toxiproxy') problems.push(loc.problem(p, `"${name}" is reserved; expected another name`));
    else if (seenNames.has(name)) problems.push(loc.problem(p, `expected a unique name; "${name}" is already used at ${seenNames.get(name)}`));
    else seenNames.set(name, pathText(p));
  };
  redis.forEach((r, i) => claimName(r.name, ['redis', i, 'name']));

  if (redis.length === 0) problems.push(loc.problem(['redis'], 'expected at least one Redis instance'));
  redis.forEach((r, i) => {
    if (r.replicaof === undefined) return;
    const m = redisByName.get(r.replicaof);
    if (kind === 'cluster') problems.push(loc.problem(['redis', i, 'replicaof'], 'expected no replicaof in a cluster; cluster.replicasPerMaster assigns replicas'));
    else if (!m) problems.push(loc.problem(['redis', i, 'replicaof'], `expected the name of a Redis instance (${[...redisByName.keys()].join(', ')}); "${r.replicaof}" does not exist`));
    else if (m === r) problems.push(loc.problem(['redis', i, 'replicaof'], 'expected another instance; an instance cannot replicate itself'));
  });
  const masters = redis.filter((r) => r.replicaof === undefined);

  const rawSentinels = (Array.isArray(v.sentinels) ? v.sentinels : []) as Obj[];
  const sentinels: SentinelSpec[] = rawSentinels.map((s, i) => {
    let monitors = s.monitors as string | undefined;
    if (monitors === undefined) {
      if (masters.length === 1) monitors = masters[0].name;
      else problems.push(loc.problem(['sentinels', i], `expected "monitors": ${masters.length} masters, which one does this sentinel watch?`));
    } else {
      const m = redisByName.get(monitors);
      if (!m) problems.push(loc.problem(['sentinels', i, 'monitors'], `expected the name of a Redis instance; "${monitors}" does not exist`));
      else if (m.replicaof !== undefined) problems.push(loc.problem(['sentinels', i, 'monitors'], `expected a master; "${monitors}" starts as a replica`));
    }
    const authPass = (s.authPass as string | undefined) ?? (monitors ? redisByName.get(monitors)?.password : undefined) ?? defaultPassword;
    const spec: SentinelSpec = {
      name: s.name as string,
      host: s.host as string,
      port: (s.port as number | undefined) ?? 26379,
      masterName: (s.masterName as string | undefined) ?? 'master01',
      monitors: monitors ?? '',
      quorum: (s.quorum as number | undefined) ?? 1,
      downAfterMs: (s.downAfterMs as number | undefined) ?? 30000,
      failoverTimeoutMs: (s.failoverTimeoutMs as number | undefined) ?? 180000,
      parallelSyncs: (s.parallelSyncs as number | undefined) ?? 1,
      config: directives(s.config),
      target: (s.target as Target | undefined) ?? sentinelTarget,
    };
    if (authPass !== undefined) spec.authPass = authPass;
    const cf = userFile(['sentinels', i, 'configFile'], s.configFile);
    if (cf) spec.configFile = cf;
    claimName(spec.name, ['sentinels', i, 'name']);
    return spec;
  });
  sentinels.forEach((s, i) => {
    if (s.quorum > sentinels.length) {
      problems.push(loc.problem(['sentinels', i, 'quorum'], `expected a quorum <= ${sentinels.length} (the number of sentinels)`));
    }
  });
  if (kind === 'sentinel' && sentinels.length === 0) problems.push(loc.problem(['kind'], 'expected at least one entry in "sentinels" for kind sentinel'));
  if (kind !== 'sentinel' && sentinels.length > 0) problems.push(loc.problem(['sentinels'], `expected no sentinels for kind ${kind}`));

  let haproxy: HAProxySpec | undefined;
  if (isObj(v.haproxy)) {
    const h = v.haproxy;
    const check = isObj(h.check) ? h.check : {};
    const backends = Array.isArray(h.backends) ? (h.backends as string[]) : redis.map((r) => r.name);
    backends.forEach((b, i) => {
      if (!redisByName.has(b)) problems.push(loc.problem(['haproxy', 'backends', i], `expected the name of a Redis instance; "${b}" does not exist`));
    });
    const password = (h.password as string | undefined) ?? redisByName.get(backends[0])?.password ?? defaultPassword;
    haproxy = {
      name: (h.name as string | undefined) ?? 'haproxy',
      host: h.host as string,
      port: (h.port as number | undefined) ?? 6379,
      backends,
      check: {
        interMs: (check.interMs as number | undefined) ?? 1000,
        fastinterMs: (check.fastinterMs as number | undefined) ?? Math.min(100, (check.interMs as number | undefined) ?? 1000),
        rise: (check.rise as number | undefined) ?? 2,
        fall: (check.fall as number | undefined) ?? 3,
        roleCheck: (check.roleCheck as boolean | undefined) ?? true,
      },
    };
    if (password !== undefined) haproxy.password = password;
    const tf = userFile(['haproxy', 'template'], h.template);
    if (tf) haproxy.template = tf;
    claimName(haproxy.name, ['haproxy', 'name']);
  }

  let cluster: ClusterSpec | undefined;
  if (kind === 'cluster' || v.cluster !== undefined) {
    const c = isObj(v.cluster) ? v.cluster : {};
    if (kind !== 'cluster') problems.push(loc.problem(['cluster'], `expected kind: cluster when a cluster section is given (kind is ${kind})`));
    const nodes = Array.isArray(c.nodes) ? (c.nodes as string[]) : redis.map((r) => r.name);
    const seen = new Set<string>();
    nodes.forEach((n, i) => {
      if (!redisByName.has(n)) problems.push(loc.problem(['cluster', 'nodes', i], `expected the name of a Redis instance; "${n}" does not exist`));
      if (seen.has(n)) problems.push(loc.problem(['cluster', 'nodes', i], `expected each node once; "${n}" is listed twice`));
      seen.add(n);
    });
    const replicasPerMaster = (c.replicasPerMaster as number | undefined) ?? 1;
    const mastersMade = Math.floor(nodes.length / (replicasPerMaster + 1));
    if (mastersMade < 3) {
      const where: Path = isObj(v.cluster) && Array.isArray(c.nodes) ? ['cluster', 'nodes'] : isObj(v.cluster) && c.replicasPerMaster !== undefined ? ['cluster', 'replicasPerMaster'] : ['redis'];
      problems.push(loc.problem(where, `expected at least 3 masters to cover all 16384 slots; ${nodes.length} nodes with ${replicasPerMaster} replica(s) per master make ${mastersMade}`));
    }
    cluster = {
      nodes,
      replicasPerMaster,
      nodeTimeoutMs: (c.nodeTimeoutMs as number | undefined) ?? 15000,
      busPortOffset: (c.busPortOffset as number | undefined) ?? 10000,
      requireFullCoverage: (c.requireFullCoverage as boolean | undefined) ?? true,
      create: (c.create as 'redis-cli' | 'manual' | undefined) ?? 'redis-cli',
    };
  }

  let toxiproxy: ToxiproxySpec | undefined;
  if (isObj(v.toxiproxy)) {
    const t = v.toxiproxy;
    const links: ToxiLinkSpec[] = (Array.isArray(t.links) ? (t.links as Obj[]) : []).map((l, i) => {
      const link: ToxiLinkSpec = { name: l.name as string, from: l.from as string, to: l.to as string, listenPort: l.listenPort as number };
      if (link.from !== 'client' && !seenNames.has(link.from)) {
        problems.push(loc.problem(['toxiproxy', 'links', i, 'from'], `expected "client" or an instance name; "${link.from}" does not exist`));
      }
      if (!seenNames.has(link.to)) problems.push(loc.problem(['toxiproxy', 'links', i, 'to'], `expected an instance name; "${link.to}" does not exist`));
      return link;
    });
    toxiproxy = { host: t.host as string, apiPort: (t.apiPort as number | undefined) ?? 8474, links };
  }

  // Hosts: the declared list, or the hosts the instances name in order of appearance.
  const declared = Array.isArray(v.hosts) ? (v.hosts as string[]) : undefined;
  const hostNames: string[] = [];
  if (declared) {
    declared.forEach((h, i) => {
      if (hostNames.includes(h)) problems.push(loc.problem(['hosts', i], `expected each host once; "${h}" is listed twice`));
      else hostNames.push(h);
    });
  }
  const useHost = (h: string, p: Path) => {
    if (declared) {
      if (!declared.includes(h)) problems.push(loc.problem(p, `expected one of the hosts (${declared.join(', ')}); "${h}" is not declared`));
    } else if (!hostNames.includes(h)) hostNames.push(h);
  };
  redis.forEach((r, i) => useHost(r.host, ['redis', i, 'host']));
  sentinels.forEach((s, i) => useHost(s.host, ['sentinels', i, 'host']));
  if (haproxy) useHost(haproxy.host, ['haproxy', 'host']);
  if (toxiproxy) useHost(toxiproxy.host, ['toxiproxy', 'host']);

  // Port clashes per host, including cluster bus ports.
  const used = new Map<string, string>();
  const usePort = (host: string, port: number, owner: string, p: Path, what = 'port') => {
    const key = `${host}:${port}`;
    const prior = used.get(key);
    if (prior) problems.push(loc.problem(p, `expected a free port on host ${host}; ${what} ${port} is already used by ${prior}`));
    else used.set(key, owner);
  };
  redis.forEach((r, i) => usePort(r.host, r.port, r.name, ['redis', i, 'port']));
  if (cluster) {
    redis.forEach((r, i) => {
      if (cluster!.nodes.includes(r.name)) usePort(r.host, r.port + cluster!.busPortOffset, `${r.name} (cluster bus)`, ['redis', i, 'port'], 'cluster bus port');
    });
  }
  sentinels.forEach((s, i) => usePort(s.host, s.port, s.name, ['sentinels', i, 'port']));
  if (haproxy) usePort(haproxy.host, haproxy.port, haproxy.name, ['haproxy', 'port']);
  if (toxiproxy) {
    usePort(toxiproxy.host, toxiproxy.apiPort, 'toxiproxy API', ['toxiproxy', 'apiPort']);
    toxiproxy.links.forEach((l, i) => usePort(toxiproxy!.host, l.listenPort, `toxiproxy link ${l.name}`, ['toxiproxy', 'links', i, 'listenPort']));
  }

  const budgets = isObj(v.budgets) ? v.budgets : {};
  const hosts: HostSpec[] = hostNames.map((name) => ({ name }));
  const topo: Topology = {
    name: v.name as string,
    file,
    kind,
    hosts,
    redis,
    sentinels,
    budgets: {
      failoverMs: (budgets.failoverMs as number | undefined) ?? 10000,
      unavailabilityMs: (budgets.unavailabilityMs as number | undefined) ?? 15000,
    },
  };
  if (typeof v.description === 'string') topo.description = v.description;
  if (haproxy) topo.haproxy = haproxy;
  if (cluster) topo.cluster = cluster;
  if (toxiproxy) topo.toxiproxy = toxiproxy;
  if (isObj(v.images)) topo.images = Object.fromEntries(Object.entries(v.images).map(([k, x]) => [k, String(x)]));
  return topo;
}

export function loadTopology(file: string, opts: LoadOptions = {}): Topology {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new TopologyError([`${file}: cannot read the topology: ${(e as NodeJS.ErrnoException).code ?? String(e)}`]);
  }
  return loadTopologyText(text, file, opts);
}

/** Validates the base and every profile of a file; returns the base topology. */
export function validateTopologyFile(file: string): Topology {
  const base = loadTopology(file);
  const problems: string[] = [];
  for (const p of base.profiles ?? []) {
    try {
      loadTopology(file, { profile: p });
    } catch (e) {
      if (e instanceof TopologyError) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length) throw new TopologyError([...new Set(problems)]);
  return base;
}

/** The built-in default (sentinel + HAProxy, reference Redis and reference Sentinel), used when `run` gets no topology. */
export function embeddedTopology(opts: LoadOptions = {}): Topology {
  return loadTopologyText(EMBEDDED_DEFAULT_YAML, EMBEDDED_DEFAULT_NAME, opts);
}
