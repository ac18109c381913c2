/**
 * Differential runner: every reference-server/test/differential/*.txt script runs against Debian's redis-server
 * and the reference server, and the replies must be byte for byte identical.
 *
 * Script format (also in differential/FORMAT.md):
 *   - one command per line in redis-cli syntax (sdssplitargs quoting: "a b\x00", 'x'); blank lines ignored;
 *   - lines starting with '#' are comments, except these directives (exactly "# word"):
 *       # resp: 2 | 3 | 2,3     first lines only: protocol(s) to run the whole script in (default 2; 3 sends HELLO 3)
 *       # section: NAME         names the following cases in failure messages
 *       # unordered             next command's reply: elements of every array/set/map, at any depth, compared as multisets
 *       # ignore                next command's reply is read but not compared
 *       # type                  next command's reply is compared by its RESP type byte only
 *       # noreply               next command is sent without reading its reply (read later with # read)
 *       # read                  read one frame on the current client and compare it
 *       # read-unordered: N     read N frames and compare them as a multiset
 *       # client: NAME          switch to connection NAME (opened on first use; default "main")
 *       # raw: N "BYTES"        send BYTES (double-quoted, with escapes) as-is, then read and compare N frames
 *       # closed                expect the server to have closed the current connection
 *   - before each script the runner sends FLUSHALL; scripts restore any CONFIG they change.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitArgs } from '../resp/splitargs.js';
import { RespClient } from './util/resp-client.js';
import { useBothServers } from './util/servers.js';

const SRC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'reference-server', 'test', 'differential');

type Step =
  | { kind: 'cmd'; line: number; text: string; argv: string[]; mode: 'compare' | 'unordered' | 'ignore' | 'type' | 'noreply'; section: string }
  | { kind: 'read'; line: number; text: string; count: number; unordered: boolean; section: string }
  | { kind: 'client'; line: number; name: string }
  | { kind: 'raw'; line: number; text: string; bytes: string; count: number; section: string }
  | { kind: 'closed'; line: number; section: string };

export interface Script {
  name: string;
  resp: (2 | 3)[];
  steps: Step[];
}

/** Parses one script; throws "file:line: reason" on a malformed line. */
export function parseScript(name: string, text: string): Script {
  const steps: Step[] = [];
  let resp: (2 | 3)[] = [2];
  let section = '';
  let pending: 'compare' | 'unordered' | 'ignore' | 'type' | 'noreply' = 'compare';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const ln = i + 1;
    const line = lines[i].replace(/\r$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (resp|section|unordered|ignore|type|noreply|read|read-unordered|client|raw|closed)(?::\s*(.*))?$/.exec(line);
      if (!m) continue;
      const [, word, arg = ''] = m;
      switch (word) {
        case 'resp':
          resp = arg.split(',').map((x) => Number(x.trim()) as 2 | 3);
          if (resp.some((r) => r !== 2 && r !== 3)) throw new Error(`${name}:${ln}: resp must be 2, 3 or 2,3`);
          break;
        case 'section':
          section = arg;
          break;
        case 'unordered': case 'ignore': case 'type': case 'noreply':
          pending = word;
          break;
        case 'read':
          steps.push({ kind: 'read', line: ln, text: line, count: 1, unordered: false, section });
          break;
        case 'read-unordered':
          steps.push({ kind: 'read', line: ln, text: line, count: Number(arg), unordered: true, section });
          break;
        case 'client':
          steps.push({ kind: 'client', line: ln, name: arg.trim() });
          break;
        case 'raw': {
          const rm = /^(\d+)\s+(.*)$/.exec(arg);
          const parsed = rm ? splitArgs(rm[2]) : null;
          if (!rm || !parsed || parsed.length !== 1) throw new Error(`${name}:${ln}: expected # raw: N "BYTES"`);
          steps.push({ kind: 'raw', line: ln, text: line, bytes: parsed[0], count: Number(rm[1]), section });
          break;
        }
        case 'closed':
          steps.push({ kind: 'closed', line: ln, section });
          break;
      }
      continue;
    }
    const argv = splitArgs(line);
    if (argv === null) throw new Error(`${name}:${ln}: unbalanced quotes`);
    steps.push({ kind: 'cmd', line: ln, text: line, argv, mode: pending, section });
    pending = 'compare';
  }
  return { name, resp, steps };
}

interface Outcome {
  line: number;
  section: string;
  text: string;
  /** What is compared. */
  value: string;
}

function normalise(frames: (string | null)[], how: 'compare' | 'unordered' | 'type' | 'multiset'): string {
  if (how === 'multiset') return frames.map((f) => f ?? '<timeout>').sort().join('');
  const f = frames[0];
  if (f === null || f === undefined) return '<timeout or closed>';
  if (how === 'type') return `<type ${f[0]}>`;
  if (how === 'unordered') return sortDeep(f);
  return f;
}

/** Sorts the elements of every aggregate, at any depth (SCAN's [cursor, [keys]] too); map pairs stay together. */
function sortDeep(f: string): string {
  if (!'*~%>'.includes(f[0])) return f;
  const nl = f.indexOf('\r\n');
  const n = parseInt(f.slice(1, nl), 10);
  const els: string[] = [];
  let p = nl + 2;
  const pair = f[0] === '%';
  for (let i = 0; i < n; i++) {
    let start = p;
    p = nextEnd(f, p);
    if (pair) {
      const key = f.slice(start, p);
      start = p;
      p = nextEnd(f, p);
      els.push(key + sortDeep(f.slice(start, p)));
    } else {
      els.push(sortDeep(f.slice(start, p)));
    }
  }
  return f.slice(0, nl + 2) + els.sort().join('');
}

function nextEnd(buf: string, pos: number): number {
  // Local re-use of the client's frame splitter semantics.
  return frameEndLocal(buf, pos);
}

import { frameEnd as frameEndLocal } from './util/resp-client.js';

/** Runs a script against one server, returning what is compared for each step. */
export async function runScript(script: Script, port: number, resp: 2 | 3): Promise<Outcome[]> {
  const clients = new Map<string, RespClient>();
  const out: Outcome[] = [];
  let current = 'main';
  const get = async (): Promise<RespClient> => {
    let c = clients.get(current);
    if (!c || c.closed) {
      c = await RespClient.connect(port);
      clients.set(current, c);
      if (resp === 3) await c.call(['HELLO', '3']);
    }
    return c;
  };
  try {
    const first = await get();
    await first.call(['FLUSHALL']);
    for (const st of script.steps) {
      if (st.kind === 'client') {
        current = st.name;
        continue;
      }
      if (st.kind === 'closed') {
        const c = clients.get(current);
        const closed = c ? await c.waitClosed(2000) : true;
        out.push({ line: st.line, section: st.section, text: '# closed', value: closed ? 'closed' : 'still open' });
        continue;
      }
      const c = await get();
      if (st.kind === 'cmd') {
        c.send(st.argv);
        if (st.mode === 'noreply') continue;
        const f = await c.read(3000);
        if (st.mode === 'ignore') continue;
        out.push({ line: st.line, section: st.section, text: st.text, value: normalise([f?.raw ?? null], st.mode) });
      } else if (st.kind === 'read') {
        const frames: (string | null)[] = [];
        for (let i = 0; i < st.count; i++) frames.push((await c.read(3000))?.raw ?? null);
        out.push({ line: st.line, section: st.section, text: st.text, value: normalise(frames, st.unordered ? 'multiset' : 'compare') });
      } else {
        c.write(st.bytes);
        const frames: (string | null)[] = [];
        for (let i = 0; i < st.count; i++) frames.push((await c.read(3000))?.raw ?? null);
        out.push({ line: st.line, section: st.section, text: st.text, value: frames.map((x) => x ?? '<timeout or closed>').join('') });
      }
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
  return out;
}

function show(s: string): string {
  return JSON.stringify(s.length > 300 ? s.slice(0, 300) + '...' : s);
}

const scripts = readdirSync(SRC_DIR).filter((f) => f.endsWith('.txt')).sort();

describe('differential: reference server vs redis-server', function () {
  this.timeout(60000);
  const servers = useBothServers();

  for (const file of scripts) {
    const script = parseScript(file, readFileSync(join(SRC_DIR, file), 'latin1'));
    for (const resp of script.resp) {
      it(`${file} (RESP${resp})`, async () => {
        const [want, got] = await Promise.all([runScript(script, servers.real.port, resp), runScript(script, servers.ref.port, resp)]);
        const diffs: string[] = [];
        for (let i = 0; i < want.length; i++) {
          const w = want[i];
          const g = got[i];
          // A '# read' that redis-server itself left unanswered is a script mistake, not a match.
          if (w.text.startsWith('# read') && w.value.includes('<timeout')) {
            diffs.push(`${file}:${w.line} ${w.text}: redis-server sent no frame here; the script expects one`);
          } else if (!g || g.value !== w.value) {
            diffs.push(`${file}:${w.line}${w.section ? ` [${w.section}]` : ''} ${w.text}\n    redis: ${show(w.value)}\n    ref:   ${show(g?.value ?? '<missing>')}`);
          }
        }
        expect(diffs, `${diffs.length} of ${want.length} replies differ:\n${diffs.join('\n')}`).to.have.length(0);
      });
    }
  }
});
