#!/usr/bin/env node
/**
 * `redis-ha-chaos`: validate, up, down, scenarios, run, toxiproxy, report.
 * Exit codes: 0 pass, 1 a check failed, 2 bad input, 3 the harness itself failed.
 */
import { readFileSync, existsSync, realpathSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs, flagString, UsageError, type Parsed } from './args.js';
import { embeddedTopology, loadTopology, TopologyError, validateTopologyFile } from '../topology/load.js';
import type { Target, Topology } from '../topology/model.js';
import { packageRoot } from '../topology/paths.js';
import { createDriver, type DriverName } from '../drivers/index.js';
import type { Deployment } from '../drivers/driver.js';
import { createRunFolder } from '../run-folder/index.js';
import { drainTeardowns, installSignalHandlers } from '../cleanup/registry.js';
import { cleanupRun, listMarkers, pidAlive } from '../cleanup/state.js';
import { runScenarios } from '../engine/run.js';
import { listScenarios } from '../scenarios/index.js';
import { renderComparisonReport, renderIndex, renderRunReport, summaryTable } from '../../../reports/src/index.js';
import type { RunResults } from '../results/types.js';
import { BadInputError, exitCodeFor as runExitCode, nothingVerified } from '../results/exit-code.js';

export const EXIT = { pass: 0, checkFailed: 1, badInput: 2, harness: 3 } as const;

const USAGE = {
  validate: 'usage: redis-ha-chaos validate TOPOLOGY [--profile NAME]',
  up: 'usage: redis-ha-chaos up [TOPOLOGY] [--target redis|reference] [--profile NAME] [--driver local|docker] [--out DIR]',
  down: 'usage: redis-ha-chaos down [--all]',
  scenarios: 'usage: redis-ha-chaos scenarios',
  run: 'usage: redis-ha-chaos run [TOPOLOGY] --scenario NAME|all [--target redis|reference] [--driver local|docker] [--seed N] [--out DIR] [--profile NAME] [--keep] [--client NAME|COMMAND]',
  compare: 'usage: redis-ha-chaos compare [TOPOLOGY] --scenario NAME|all [--driver local|docker] [--seed N] [--out DIR] [--profile NAME] [--keep]',
  toxiproxy: 'usage: redis-ha-chaos toxiproxy [--host 127.0.0.1] [--port 8474]',
  report: 'usage: redis-ha-chaos report DIR',
  analyze: 'usage: redis-ha-chaos analyze RUN_DIR',
  images: 'usage: redis-ha-chaos images build [--force] | images list',
  gate: 'usage: redis-ha-chaos gate GATE.yml [--driver local|docker] [--seed N] [--out DIR]',
};

const HELP = [
  'redis-ha-chaos: chaos tests for Redis HA setups (Sentinel + HAProxy, Redis Cluster)',
  '',
  ...([
    ['validate', 'check a topology file (every profile too)'],
    ['up', 'start a topology, print every address, run until Ctrl-C'],
    ['down', "remove what crashed runs left (--all: also live runs' and unmarked rhc* namespaces)"],
    ['scenarios', 'list the scenarios'],
    ['run', 'deploy, inject faults, check; writes results.json, history.jsonl, junit.xml, report.html'],
    ['compare', 'the same scenarios and seed on real Redis and on the reference server; one side-by-side report'],
    ['toxiproxy', 'a Toxiproxy-compatible server in the foreground'],
    ['report', "write DIR/report.html and the parent's index.html; for a folder of runs, its index.html"],
    ['analyze', 'judge a recorded run again from its folder alone (every checker over history.jsonl); rewrites results.json, junit.xml, report.html'],
    ['images', 'build or list the local images the docker driver uses offline'],
    ['gate', 'run a gate file (topologies, scenarios, thresholds) for CI: exit 1 when a threshold is broken'],
  ] as const).flatMap(([cmd, what]) => [`  ${USAGE[cmd].replace('usage: ', '')}`, `      ${what}`]),
  '',
  'Exit codes: 0 pass, 1 a check failed, 2 bad input, 3 harness failure.',
  'Without TOPOLOGY, up and run use the built-in sentinel-haproxy-reference (reference Redis and reference Sentinels behind real HAProxy).',
].join('\n');

type Out = (line: string) => void;

interface Io {
  out: Out;
  err: Out;
}

function loadFor(p: Parsed): Topology {
  const file = p.positionals[0];
  const profile = flagString(p, 'profile');
  const opts = profile !== undefined ? { profile } : {};
  return file ? loadTopology(file, opts) : embeddedTopology(opts);
}

function version(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

async function cmdValidate(argv: string[], io: Io): Promise<number> {
  const p = parseArgs('validate', argv, { profile: { value: true } }, 1, USAGE.validate);
  const file = p.positionals[0];
  if (!file) throw new UsageError(`validate: missing TOPOLOGY; ${USAGE.validate}`);
  const profile = flagString(p, 'profile');
  const t = profile !== undefined ? loadTopology(file, { profile }) : validateTopologyFile(file);
  const instances = t.redis.length + t.sentinels.length + (t.haproxy ? 1 : 0);
  const profiles = t.profiles?.length ? `; profiles: ${t.profiles.join(', ')}` : '';
  io.out(`ok: ${file}: ${t.name} (${t.kind}, ${t.hosts.length} hosts, ${instances} instances${profiles})`);
  return EXIT.pass;
}

function printDeployment(d: Deployment, io: Io): void {
  for (const i of d.instances()) {
    const target = i.target ? ` [${i.target}]` : '';
    io.out(`  ${i.name.padEnd(12)} ${i.kind.padEnd(9)} host ${i.host.padEnd(10)} ${i.endpoint.host}:${i.endpoint.port}${target}  log ${i.logFile}`);
  }
  if (d.toxiproxyUrl) io.out(`  toxiproxy API ${d.toxiproxyUrl}`);
  if (d.partitionUnsupportedReason) io.out(`  partitions unsupported: ${d.partitionUnsupportedReason}`);
}

async function cmdUp(argv: string[], io: Io): Promise<number> {
  const p = parseArgs('up', argv, {
    target: { value: true, choices: ['redis', 'reference'] },
    profile: { value: true },
    driver: { value: true, choices: ['local', 'docker'] },
    out: { value: true },
  }, 1, USAGE.up);
  const topo = loadFor(p);
  const driver = await createDriver((flagString(p, 'driver') ?? 'local') as DriverName);
  const folder = createRunFolder({ out: flagString(p, 'out') });
  io.out(`up: ${topo.name} (${topo.file}) run ${folder.runId} in ${folder.dir}`);
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const onSig = () => {
      // A second Ctrl-C while stopping exits at once; the exit hook still kills the children.
      if (stopping) process.exit(130);
      stopping = true;
      resolve();
    };
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
  });
  const target = flagString(p, 'target') as Target | undefined;
  const d = await driver.up(topo, { runId: folder.runId, runDir: folder.dir, ...(target ? { target } : {}), log: (l) => io.out(`  ${l}`) });
  printDeployment(d, io);
  io.out('running; press Ctrl-C to stop everything');
  await stopped;
  io.out('stopping...');
  await d.down();
  io.out(`stopped; run folder kept: ${folder.dir}`);
  return EXIT.pass;
}

/** rhc* namespaces and bridges that no marker lists (`known` holds the names markers list). */
function orphanNetworkObjects(known: Set<string>): { netns: string[]; bridges: string[] } {
  const ns = (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]).filter((n) => /^rhc[0-9a-f]{6}-\d+$/.test(n));
  const br = (spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout ?? '')
    .split('\n').map((l) => /^\d+: (rhc[0-9a-f]{6}):/.exec(l)?.[1]).filter((n): n is string => !!n);
  return { netns: ns.filter((n) => !known.has(n)), bridges: br.filter((b) => !known.has(b)) };
}

async function cmdDown(argv: string[], io: Io): Promise<number> {
  const p = parseArgs('down', argv, { all: { value: false } }, 0, USAGE.down);
  const all = p.flags.all === true;
  let removed = 0;
  const live = new Set<string>();
  for (const m of listMarkers()) {
    if (!all && m.ownerPid !== process.pid && pidAlive(m.ownerPid)) {
      io.out(`run ${m.runId} is still running (pid ${m.ownerPid}); skipped (use --all to remove it too)`);
      for (const n of [...m.netns, ...(m.bridge ? [m.bridge] : [])]) live.add(n);
      continue;
    }
    for (const line of cleanupRun(m)) {
      io.out(`${m.runId}: ${line}`);
      removed++;
    }
    io.out(`${m.runId}: cleaned`);
  }
  // Namespaces or bridges without a marker (the marker dir was wiped): only with --all, since their owner is unknown.
  const orphans = orphanNetworkObjects(live);
  if (all) {
    for (const ns of orphans.netns) {
      for (const pid of (spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
      io.out(`deleted netns ${ns}`);
      removed++;
    }
    for (const br of orphans.bridges) {
      for (const chain of ['DOCKER-USER', 'FORWARD']) {
        while (spawnSync('iptables', ['-D', chain, '-i', br, '-o', br, '-j', 'ACCEPT'], { stdio: 'ignore' }).status === 0) removed++;
      }
      spawnSync('ip', ['link', 'del', br]);
      io.out(`deleted bridge ${br}`);
      removed++;
    }
  } else if (orphans.netns.length + orphans.bridges.length > 0) {
    io.out(`found ${orphans.netns.length} namespace(s) and ${orphans.bridges.length} bridge(s) named rhc* without a run marker; use --all to remove them`);
  }
  // The docker driver labels its containers and networks; its part of the sweep lives with it.
  try {
    removed += await (await import('../drivers/docker/cleanup.js')).dockerDown({ all, out: io.out });
  } catch (e) {
    io.err(`docker cleanup skipped: ${(e as Error).message.split('\n')[0]}`);
  }
  if (removed === 0) io.out('nothing left to clean');
  return EXIT.pass;
}

async function importOptional<T>(spec: string, what: string): Promise<T> {
  try {
    return (await import(spec)) as T;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(spec.replace(/^\.\.\//, ''))) {
      throw new HarnessError(`${what} is not part of this build yet`);
    }
    throw e;
  }
}

class HarnessError extends Error {}

async function cmdScenarios(argv: string[], io: Io): Promise<number> {
  parseArgs('scenarios', argv, {}, 0, USAGE.scenarios);
  const list = listScenarios();
  const width = Math.max(...list.map((s) => s.name.length), 4);
  for (const s of list) io.out(`${s.name.padEnd(width)}  ${s.description}  [${s.topologyKinds.join(', ')}${s.requires.length ? `; needs ${s.requires.join(', ')}` : ''}]`);
  return EXIT.pass;
}

/** What the CLI hands the engine's runScenarios (harness/src/engine/run.ts). */
export interface RunCommandOptions {
  topology: Topology;
  scenario: string;
  /** Undefined: the per-role targets of the topology. */
  target?: Target;
  driver: DriverName;
  seed: number;
  runId: string;
  runDir: string;
  keep: boolean;
  profile?: string;
  /** Client adapter for the client-* scenarios (shipped name or command line). */
  client?: string;
  /** The command line that reproduces the run. */
  command: string;
  log: (line: string) => void;
}

/** The flags run and compare share, parsed and checked once. */
function parseScenarioFlags(cmd: 'run' | 'compare', argv: string[]) {
  const p = parseArgs(cmd, argv, {
    scenario: { value: true },
    ...(cmd === 'run' ? { target: { value: true, choices: ['redis', 'reference'] } } : {}),
    driver: { value: true, choices: ['local', 'docker'] },
    seed: { value: true, integer: true },
    out: { value: true },
    profile: { value: true },
    keep: { value: false },
    client: { value: true },
  }, 1, USAGE[cmd]);
  const scenario = flagString(p, 'scenario');
  if (!scenario) throw new UsageError(`${cmd}: missing --scenario NAME|all; ${USAGE[cmd]}`);
  const topology = loadFor(p);
  const seedText = flagString(p, 'seed');
  const seed = seedText !== undefined ? Number(seedText) : randomInt(0, 2 ** 31);
  const driver = (flagString(p, 'driver') ?? 'local') as DriverName;
  const client = flagString(p, 'client');
  return { p, scenario, topology, seed, driver, keep: p.flags.keep === true, ...(client !== undefined ? { client } : {}) };
}

async function cmdRun(argv: string[], io: Io): Promise<number> {
  const t0 = Date.now();
  const { p, scenario, topology, seed, driver, keep, client } = parseScenarioFlags('run', argv);
  io.out(`[phase] topology ${topology.name} (${topology.file}${topology.profile ? `, profile ${topology.profile}` : ''}) valid`);
  const folder = createRunFolder({ out: flagString(p, 'out') });
  const target = flagString(p, 'target') as Target | undefined;
  const command = ['redis-ha-chaos', 'run', ...(p.positionals[0] ? [p.positionals[0]] : []), '--scenario', scenario,
    ...(target ? ['--target', target] : []), '--driver', driver, '--seed', String(seed), '--out', folder.dir,
    ...(topology.profile ? ['--profile', topology.profile] : []), ...(keep ? ['--keep'] : []), ...(client ? ['--client', JSON.stringify(client)] : [])].join(' ');
  io.out(`[phase] run ${folder.runId}: seed ${seed}, driver ${driver}, target ${target ?? 'per topology'}, folder ${folder.dir}`);
  const opts: RunCommandOptions = { topology, scenario, driver, seed, runId: folder.runId, runDir: folder.dir, keep, command, log: io.out };
  if (target) opts.target = target;
  if (topology.profile) opts.profile = topology.profile;
  if (client) opts.client = client;
  const results = await runScenarios(opts);
  return finishRun(results, folder.dir, t0, io);
}

/** Every run ends the same way: the HTML report, a plain-text summary for CI logs, the report's path, the exit code. */
async function finishRun(results: RunResults, dir: string, t0: number, io: Io): Promise<number> {
  const failed = results.scenarios.filter((s) => s.verdict === 'fail').length;
  const errored = results.scenarios.filter((s) => s.verdict === 'error').length;
  io.out('');
  for (const line of summaryTable(results).split('\n')) io.out(line);
  const report = await renderRunReport(dir);
  io.out(`[phase] done in ${Date.now() - t0} ms: ${results.verdict.toUpperCase()} (${results.scenarios.length} scenario(s), ${failed} failed, ${errored} harness errors); results in ${dir}`);
  io.out(`report: ${report}`);
  if (nothingVerified(results)) io.err(`every scenario was skipped, so this run verified nothing (exit ${EXIT.checkFailed}): ${results.scenarios.map((s) => `${s.name}: ${s.skipReason ?? 'all checks skipped'}`).join('; ') || 'no scenario selected'}`);
  return exitCodeFor(results);
}

/** 0 pass, 1 a check failed or nothing was verified (every scenario skipped), 3 the harness failed. */
function exitCodeFor(results: RunResults): number {
  return runExitCode(results);
}

/** Same scenarios, same seed, real Redis then the reference server; one report with both side by side. */
async function cmdCompare(argv: string[], io: Io): Promise<number> {
  const t0 = Date.now();
  const { p, scenario, topology, seed, driver, keep } = parseScenarioFlags('compare', argv);
  const parent = createRunFolder({ out: flagString(p, 'out') });
  const runs: { label: string; dir: string; results: RunResults }[] = [];
  for (const target of ['redis', 'reference'] as const) {
    const dir = path.join(parent.dir, target);
    const command = ['redis-ha-chaos', 'compare', ...(p.positionals[0] ? [p.positionals[0]] : []), '--scenario', scenario,
      '--driver', driver, '--seed', String(seed), '--out', parent.dir, ...(topology.profile ? ['--profile', topology.profile] : [])].join(' ');
    io.out(`[phase] compare: target ${target}, seed ${seed}, folder ${dir}`);
    const opts: RunCommandOptions = { topology, scenario, driver, seed, runId: `${parent.runId}-${target}`, runDir: dir, keep, command, target, log: io.out };
    if (topology.profile) opts.profile = topology.profile;
    const results = await runScenarios(opts);
    await renderRunReport(dir);
    runs.push({ label: target === 'redis' ? 'real Redis' : 'reference server', dir, results });
  }
  for (const r of runs) {
    io.out(`== ${r.label}`);
    for (const line of summaryTable(r.results).split('\n')) io.out(line);
  }
  const report = await renderComparisonReport(runs.map(({ label, dir }) => ({ label, dir })), path.join(parent.dir, 'compare.html'));
  io.out(`[phase] compare done in ${Date.now() - t0} ms; results in ${parent.dir}`);
  io.out(`report: ${report}`);
  const codes = runs.map((r) => exitCodeFor(r.results));
  return codes.includes(EXIT.harness) ? EXIT.harness : codes.includes(EXIT.checkFailed) ? EXIT.checkFailed : EXIT.pass;
}

async function cmdToxiproxy(argv: string[]): Promise<number> {
  const mod = await importOptional<{ main(a: readonly string[]): Promise<number> }>('../toxiproxy/cli.js', 'the toxiproxy server');
  return mod.main(argv);
}

/** A run folder gets its report (and its parent an index); a folder of runs gets the index alone. */
async function cmdReport(argv: string[], io: Io): Promise<number> {
  const p = parseArgs('report', argv, {}, 1, USAGE.report);
  const dir = p.positionals[0];
  if (!dir) throw new UsageError(`report: missing DIR; ${USAGE.report}`);
  if (!existsSync(dir)) throw new UsageError(`report: ${dir} does not exist; expected a run folder written by redis-ha-chaos run, or a folder of them`);
  if (existsSync(path.join(dir, 'results.json'))) {
    io.out(`report: ${await renderRunReport(dir)}`);
    io.out(`index: ${await renderIndex(path.dirname(path.resolve(dir)))}`);
  } else {
    io.out(`index: ${await renderIndex(dir, { renderMissing: true })}`);
  }
  return EXIT.pass;
}

/** Re-runs every checker over a run folder's history; same exit codes as the run that wrote it. */
async function cmdAnalyze(argv: string[], io: Io): Promise<number> {
  const p = parseArgs('analyze', argv, {}, 1, USAGE.analyze);
  const dir = p.positionals[0];
  if (!dir) throw new UsageError(`analyze: missing RUN_DIR; ${USAGE.analyze}`);
  if (!existsSync(dir)) throw new UsageError(`analyze: ${dir} does not exist; expected a run folder written by redis-ha-chaos run`);
  const { analyzeRun } = await import('../engine/analyze.js');
  const t0 = Date.now();
  const { results, changed } = analyzeRun(dir);
  for (const c of changed) io.out(`${c.name}: verdict ${c.before.toUpperCase()} -> ${c.after.toUpperCase()}`);
  io.out(changed.length ? `${changed.length} verdict(s) differ from the recorded run` : `same verdicts as the recorded run (${results.scenarios.length} scenario(s))`);
  return finishRun(results, dir, t0, io);
}

export async function main(argv: string[], io: Io = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'validate':
        return await cmdValidate(rest, io);
      case 'up':
        // Ctrl-C is how `up` ends normally: it handles the signals itself and exits 0.
        installSignalHandlers(undefined, { signals: false });
        return await cmdUp(rest, io);
      case 'down':
        return await cmdDown(rest, io);
      case 'scenarios':
        return await cmdScenarios(rest, io);
      case 'run':
        installSignalHandlers();
        return await cmdRun(rest, io);
      case 'toxiproxy':
        return await cmdToxiproxy(rest);
      case 'compare':
        installSignalHandlers();
        return await cmdCompare(rest, io);
      case 'report':
        return await cmdReport(rest, io);
      case 'analyze':
        return await cmdAnalyze(rest, io);
      case 'images':
        return await (await import('../images/cli.js')).imagesMain(rest, io);
      case 'gate':
        installSignalHandlers();
        return await (await import('../gate/cli.js')).gateMain(rest, io, USAGE.gate, (dir) => renderRunReport(dir));
      case '--version':
      case 'version':
        io.out(version());
        return EXIT.pass;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return cmd === undefined ? EXIT.badInput : EXIT.pass;
      default:
        throw new UsageError(`unknown command "${cmd}"; expected one of validate, up, down, scenarios, run, compare, toxiproxy, report, analyze, images, gate (see redis-ha-chaos --help)`);
    }
  } catch (e) {
    await drainTeardowns((l) => io.err(l));
    if (e instanceof UsageError) {
      io.err(e.message);
      return EXIT.badInput;
    }
    if (e instanceof TopologyError) {
      for (const line of e.problems) io.err(line);
      return EXIT.badInput;
    }
    if (e instanceof BadInputError) {
      io.err(e.message);
      return EXIT.badInput;
    }
    io.err(`harness error: ${(e as Error).message}`);
    if (process.env.REDIS_HA_CHAOS_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
    return EXIT.harness;
  }
}

// Runs only as the bin (also through npm's symlink), not when a test imports main().
const invokedAs = process.argv[1] && existsSync(process.argv[1]) ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (invokedAs === import.meta.url) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`harness error: ${(e as Error).message}`);
      process.exit(EXIT.harness);
    },
  );
}
