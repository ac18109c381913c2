/** The reference server's module graph: no import cycles, and the layering DESIGN.md describes. */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** reference-server/ in the source tree (tests run from dist/reference-server/test). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'reference-server');

interface Edge {
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Relative imports and re-exports of each file (`import type` and `export type` marked: erased at runtime). */
function importGraph(): Map<string, Edge[]> {
  const files = new Set(sourceFiles(ROOT));
  const graph = new Map<string, Edge[]>();
  const statement = /^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms;
  for (const file of files) {
    const edges: Edge[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(statement)) {
      const to = normalize(join(dirname(file), m[2].replace(/\.js$/, '.ts')));
      if (files.has(to)) edges.push({ to, typeOnly: m[1] !== undefined });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** Every cycle's files (strongly connected components of more than one file, or a file importing itself). */
function cycles(graph: Map<string, Edge[]>, includeTypes: boolean): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const e of graph.get(v) ?? []) {
      if (e.typeOnly && !includeTypes) continue;
      if (!index.has(e.to)) {
        visit(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (onStack.has(e.to)) low.set(v, Math.min(low.get(v)!, index.get(e.to)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (;;) {
      const w = stack.pop()!;
      onStack.delete(w);
      component.push(relative(ROOT, w));
      if (w === v) break;
    }
    const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v);
    if (component.length > 1 || selfLoop) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('reference server: import graph', () => {
  const graph = importGraph();

  it('reads the source tree', () => {
    expect(graph.size).to.be.greaterThan(50);
    expect([...graph.keys()].map((f) => relative(ROOT, f))).to.include('server/server.ts');
  });

  it('has no import cycle that exists at runtime', () => {
    expect(cycles(graph, false)).to.deep.equal([]);
  });

  it('type-only cycles stay inside the server core (its parts name the RedisServer they belong to, as server.c and its siblings share server.h)', () => {
    const outside = cycles(graph, true).filter((c) => !c.every((f) => f.startsWith('server/')));
    expect(outside).to.deep.equal([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const a = join(ROOT, 'a.ts');
    const b = join(ROOT, 'b.ts');
    const looped = new Map<string, Edge[]>([[a, [{ to: b, typeOnly: false }]], [b, [{ to: a, typeOnly: false }]]]);
    expect(cycles(looped, false)).to.deep.equal([['a.ts', 'b.ts']]);
    const typeOnly = new Map<string, Edge[]>([[a, [{ to: b, typeOnly: true }]], [b, [{ to: a, typeOnly: false }]]]);
    expect(cycles(typeOnly, false)).to.deep.equal([]);
  });

  it('store/ imports nothing above it; commands/ reach the server only through command.ts', () => {
    const offending: string[] = [];
    for (const [file, edges] of graph) {
      const from = relative(ROOT, file);
      for (const e of edges) {
        const to = relative(ROOT, e.to);
        if (from.startsWith('store/') && !to.startsWith('store/')) offending.push(`${from} -> ${to}`);
        // glob.ts is a pure string matcher the command families share with the server.
        if (from.startsWith('commands/') && to.startsWith('server/') && to !== 'server/glob.ts') offending.push(`${from} -> ${to}`);
      }
    }
    expect(offending).to.deep.equal([]);
  });
});
