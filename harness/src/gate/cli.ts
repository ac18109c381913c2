/** `redis-ha-chaos gate GATE.yml`: exit 0 all thresholds hold, 1 a threshold broken, 2 bad gate file, 3 harness error. */
import path from 'node:path';
import { parseArgs, flagString, UsageError } from '../cli/args.js';
import { renderIndex } from '../../../reports/src/index.js';
import { createRunFolder } from '../run-folder/index.js';
import { EXIT_BAD_INPUT } from '../results/exit-code.js';
import { GateFileError, loadGate } from './file.js';
import { gateSummary, runGate } from './run.js';

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function gateMain(argv: string[], io: Io, usage: string, renderReport: (dir: string) => Promise<string>): Promise<number> {
  const p = parseArgs('gate', argv, {
    driver: { value: true, choices: ['local', 'docker'] },
    seed: { value: true, integer: true },
    out: { value: true },
  }, 1, usage);
  const file = p.positionals[0];
  if (!file) throw new UsageError(`gate: missing GATE.yml; ${usage}`);
  let gate;
  try {
    gate = loadGate(file);
  } catch (e) {
    if (e instanceof GateFileError) {
      for (const line of e.problems) io.err(line);
      return EXIT_BAD_INPUT;
    }
    throw e;
  }
  const folder = createRunFolder({ out: flagString(p, 'out') });
  const seedText = flagString(p, 'seed');
  const driver = flagString(p, 'driver') as 'local' | 'docker' | undefined;
  io.out(`[gate] ${gate.name} (${path.resolve(file)}): ${gate.runs.length} run(s), ${gate.runs.reduce((n, r) => n + r.scenarios.length, 0)} scenario(s); output ${folder.dir}`);
  const outcome = await runGate(gate, {
    outDir: folder.dir,
    ...(seedText !== undefined ? { seed: Number(seedText) } : {}),
    ...(driver ? { driver } : {}),
    log: io.out,
    renderReport,
    commandLine: ['redis-ha-chaos', 'gate', file, ...(driver ? ['--driver', driver] : []), ...(seedText ? ['--seed', seedText] : [])].join(' '),
  });
  try {
    io.out(`index: ${await renderIndex(folder.dir, { renderMissing: true })}`);
  } catch (e) {
    io.err(`gate: index report failed: ${(e as Error).message}`);
  }
  io.out('');
  for (const line of gateSummary(outcome)) io.out(line);
  io.out(`junit: ${path.join(folder.dir, 'junit.xml')}`);
  return outcome.exitCode;
}
