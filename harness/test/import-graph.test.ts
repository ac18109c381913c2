import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** harness/src as sources (the test runs from dist/harness/test). */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../harness/src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Folders under harness/src that each file imports (relative imports only). */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
    const target = relative(SRC, resolve(dirname(file), m[1]!));
    out.push(target.split('/')[0]!);
  }
  for (const m of text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)) out.push(relative(SRC, resolve(dirname(file), m[1]!)).split('/')[0]!);
  return out;
}

describe('import graph: lower layers never import from higher ones', () => {
  const LOWER = ['support', 'history', 'clients', 'workload', 'nemesis', 'observer', 'drivers', 'process', 'netns', 'toxiproxy', 'random', 'topology', 'results', 'checkers'];

  it('finds the harness sources', () => {
    expect(sources(SRC).length).to.be.greaterThan(50);
  });

  it('clients, workload, nemesis, observer and the other lower folders import nothing from engine/, scenarios/ or cli/', () => {
    const bad: string[] = [];
    for (const folder of LOWER) {
      for (const f of sources(join(SRC, folder))) {
        for (const to of importedFolders(f)) if (to === 'engine' || to === 'scenarios' || to === 'cli') bad.push(`${relative(SRC, f)} -> ${to}/`);
      }
    }
    expect(bad).to.deep.equal([]);
  });

  it('support/ and history/ import only from themselves', () => {
    const bad: string[] = [];
    for (const folder of ['support', 'history']) {
      for (const f of sources(join(SRC, folder))) for (const to of importedFolders(f)) if (to !== folder && to !== 'support') bad.push(`${relative(SRC, f)} -> ${to}/`);
    }
    expect(bad).to.deep.equal([]);
  });
});
