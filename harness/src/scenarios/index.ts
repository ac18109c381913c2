/** The scenario catalogue (`listScenarios` for the CLI). */
import { clusterHostFailure, clusterHostRecovery, clusterMinorityPartition, clusterRouting, clusterShardLoss } from './cluster.js';
import { randomChaos } from './chaos.js';
import { toxicClientLink } from './toxic.js';
import { haproxyRouting, partitionIsolateMaster, partitionIsolateMasterUnsafe, restartEmpty, sentinelFailback, sentinelFailover } from './sentinel.js';
import { haproxyTestKey, sentinelSeedWalkthrough } from './seed-sentinel.js';
import { clusterSeedCreate, clusterSeedHost, clusterSeedShardLoss } from './seed-cluster.js';
import { randomChaosConvergence } from './chaos-convergence.js';
import { CLIENT_SCENARIOS } from './clients.js';
import { clientReplyFaults } from './client-reply-faults.js';
import type { Scenario } from './types.js';

export type { Scenario, ScenarioContext, ScenarioFacts, CheckOutput, Requirement } from './types.js';

const ALL: Scenario[] = [
  sentinelFailover,
  sentinelFailback,
  haproxyRouting,
  partitionIsolateMaster,
  partitionIsolateMasterUnsafe,
  restartEmpty,
  clusterHostFailure,
  clusterHostRecovery,
  clusterRouting,
  clusterShardLoss,
  clusterMinorityPartition,
  toxicClientLink,
  randomChaos,
  sentinelSeedWalkthrough,
  haproxyTestKey,
  clusterSeedCreate,
  clusterSeedHost,
  clusterSeedShardLoss,
  randomChaosConvergence,
  ...CLIENT_SCENARIOS,
  clientReplyFaults,
];

export interface ScenarioInfo {
  name: string;
  description: string;
  topologyKinds: string[];
  requires: string[];
}

export function listScenarios(): ScenarioInfo[] {
  return ALL.map((s) => ({ name: s.name, description: s.description, topologyKinds: [...s.topologyKinds], requires: [...(s.requires ?? [])] }));
}

export function getScenario(name: string): Scenario | undefined {
  return ALL.find((s) => s.name === name);
}

export function allScenarios(): Scenario[] {
  return ALL.slice();
}
