/** How both drivers describe their instances and Toxiproxy links to the rest of the harness. */
import type { Endpoint, InstanceKind, RunningInstance } from '../driver.js';
import type { Target, Topology } from '../../topology/model.js';

export interface MemberInfo {
  name: string;
  kind: InstanceKind;
  host: string;
  target?: Target;
}

export function runningInstance(m: MemberInfo, endpoint: Endpoint, logFile: string): RunningInstance {
  const ri: RunningInstance = { name: m.name, kind: m.kind, host: m.host, endpoint, logFile };
  if (m.target) ri.target = m.target;
  return ri;
}

/** Links listen on the Toxiproxy host's address, at the port the topology gives them. */
export function toxiproxyLinkEndpoint(topology: Topology, linkName: string, address: (host: string) => string): Endpoint {
  const t = topology.toxiproxy;
  const l = t?.links.find((x) => x.name === linkName);
  if (!t || !l) throw new Error(`unknown toxiproxy link "${linkName}"`);
  return { host: address(t.host), port: l.listenPort };
}
