/** The hello line for a deployment: the entry points of the mode the harness wants the client to use. */
import type { Deployment } from '../drivers/driver.js';
import { PROTOCOL_VERSION, type AdapterMode, type Hello, type HostPort } from './protocol.js';

export interface HelloOptions {
  mode: AdapterMode;
  /** mode direct: the instance. */
  instance?: string;
  connectMs: number;
  commandMs: number;
}

/** The mode that exercises a topology's own discovery: Sentinel-aware for Sentinel, Cluster-aware for Cluster. */
export function defaultMode(dep: Deployment): AdapterMode {
  const t = dep.topology;
  if (t.kind === 'cluster') return 'cluster';
  if (t.sentinels.length > 0) return 'sentinel';
  return t.haproxy ? 'haproxy' : 'direct';
}

function hp(e: { host: string; port: number }): HostPort {
  return { host: e.host, port: e.port };
}

export function helloFor(dep: Deployment, o: HelloOptions): Hello {
  const t = dep.topology;
  const password = t.redis.find((r) => r.password !== undefined)?.password ?? t.haproxy?.password;
  const hello: Hello = { type: 'hello', protocol: PROTOCOL_VERSION, mode: o.mode, timeouts: { connectMs: o.connectMs, commandMs: o.commandMs } };
  if (password !== undefined) hello.password = password;
  switch (o.mode) {
    case 'direct': {
      const name = o.instance ?? t.redis[0]?.name;
      if (!name) throw new Error(`topology "${t.name}" has no instance to connect to`);
      hello.address = hp(dep.endpoint(name));
      break;
    }
    case 'haproxy':
      if (!t.haproxy) throw new Error(`topology "${t.name}" has no HAProxy`);
      hello.address = hp(dep.endpoint(t.haproxy.name));
      break;
    case 'sentinel':
      if (t.sentinels.length === 0) throw new Error(`topology "${t.name}" has no sentinels`);
      hello.sentinels = t.sentinels.map((s) => hp(dep.endpoint(s.name)));
      hello.masterName = t.sentinels[0]!.masterName;
      break;
    case 'cluster':
      if (!t.cluster) throw new Error(`topology "${t.name}" is not a cluster`);
      hello.seeds = t.cluster.nodes.map((n) => hp(dep.endpoint(n)));
      break;
  }
  // Announced addresses the harness's host cannot reach as such (docker) are mapped to reachable ones.
  const map: Record<string, HostPort> = {};
  let differs = false;
  for (const r of t.redis) {
    try {
      const i = dep.internalAddress(r.name);
      const e = dep.endpoint(r.name);
      map[`${i.host}:${i.port}`] = hp(e);
      if (i.host !== e.host || i.port !== e.port) differs = true;
    } catch {
      // Instances without an address (not started) are not mapped.
    }
  }
  if (differs) hello.addressMap = map;
  return hello;
}
