/**
 * Offline images: local stand-ins for redis, haproxy and the Node servers (reference server, toxiproxy), made
 * from this machine's own binaries (binary + the libraries ldd lists + /etc/passwd + /tmp) and `docker import`,
 * because no registry is reachable. Users with a registry use the official images instead (see images/config.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../topology/paths.js';
import { LOCAL_IMAGES, type ImageRole } from './config.js';

/** Label carrying a hash of what went into a local image, so a stale image is rebuilt. */
export const CONTENT_LABEL = 'redis-ha-chaos.content';

export interface BuiltImage {
  role: ImageRole | 'node';
  name: string;
  /** "built", or "cached" when an image with the same content already existed. */
  status: 'built' | 'cached';
  ms: number;
  sizeBytes?: number;
}

function which(bin: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  const p = (r.stdout ?? '').trim();
  if (r.status !== 0 || !p.startsWith('/')) throw new Error(`images build: ${bin} not found on this machine; install it (scripts/setup.sh) or set images.* to an official image`);
  return p;
}

function sharedLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const libs = new Set<string>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]);
  }
  return [...libs];
}

/** Copies files keeping their absolute paths under rootfs, following symlinks (cp -L --parents). */
function copyInto(rootfs: string, files: string[]): void {
  if (files.length === 0) return;
  const r = spawnSync('cp', ['-L', '--parents', ...files, rootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`images build: cp failed: ${(r.stderr ?? '').trim()}`);
}

/** A minimal root filesystem holding the given programs (by name or path) and their libraries. */
function makeRootfs(programs: string[]): string {
  const rootfs = mkdtempSync(path.join(os.tmpdir(), 'rhc-rootfs-'));
  const bins = programs.map((p) => (p.startsWith('/') ? p : which(p)));
  const libs = new Set<string>();
  for (const b of bins) for (const l of sharedLibraries(b)) libs.add(l);
  copyInto(rootfs, bins);
  copyInto(rootfs, [...libs]);
  copyInto(rootfs, ['/etc/passwd', '/etc/group'].filter((f) => existsSync(f)));
  for (const d of ['tmp', 'data']) {
    mkdirSync(path.join(rootfs, d), { recursive: true });
    chmodSync(path.join(rootfs, d), 0o1777);
  }
  // Busybox-free images: /bin/sh is the host's dash, reachable by the usual path.
  if (!existsSync(path.join(rootfs, 'bin', 'sh'))) {
    mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    cpSync(which('sh'), path.join(rootfs, 'bin', 'sh'), { dereference: true });
  }
  writeFileSync(path.join(rootfs, 'etc', 'hosts'), '127.0.0.1 localhost\n');
  return rootfs;
}

function dockerImport(rootfs: string, name: string, changes: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const args = ['import', ...changes.flatMap((c) => ['-c', c]), '-', name];
    const imp = spawn('docker', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    tar.stderr.on('data', (d) => (err += d.toString()));
    imp.stderr.on('data', (d) => (err += d.toString()));
    tar.stdout.pipe(imp.stdin);
    tar.on('error', reject);
    imp.on('error', reject);
    imp.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker import ${name} failed (exit ${code}): ${err.trim()}`))));
  });
}

export function imageLabel(name: string, label: string): string | undefined {
  const r = spawnSync('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels "${label}" }}`, name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const v = (r.stdout ?? '').trim();
  return v === '<no value>' ? '' : v;
}

function imageId(name: string): string | undefined {
  const r = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', name], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout ?? '').trim() : undefined;
}

function imageSize(name: string): number | undefined {
  const r = spawnSync('docker', ['image', 'inspect', '--format', '{{.Size}}', name], { encoding: 'utf8' });
  return r.status === 0 ? Number((r.stdout ?? '').trim()) : undefined;
}

/** Hash of the files (path and content) under the given roots: `tsc` rewrites dist/ with new mtimes on every build. */
function treeHash(roots: string[], extra: string): string {
  const h = createHash('sha256');
  h.update(extra);
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    } else h.update(`${p}:${st.size}\n`).update(readFileSync(p));
  };
  for (const r of roots) if (existsSync(r)) walk(r);
  return h.digest('hex').slice(0, 16);
}

interface Recipe {
  role: ImageRole | 'node';
  name: string;
  programs: () => string[];
  /** Folders of the package copied to the same relative place under /app. */
  appDirs?: string[];
  cmd: string;
}

function recipes(): Recipe[] {
  const nodeDirs = ['dist/reference-server', 'dist/harness/src/toxiproxy', 'dist/harness/src/random'];
  return [
    { role: 'redis', name: LOCAL_IMAGES.redis, programs: () => ['redis-server', 'redis-sentinel', 'redis-cli', 'sleep', 'cat'], cmd: '["redis-server"]' },
    { role: 'haproxy', name: LOCAL_IMAGES.haproxy, programs: () => ['haproxy', 'sleep'], cmd: '["haproxy","-v"]' },
    { role: 'node', name: LOCAL_IMAGES.node, programs: () => [process.execPath, 'sleep'], appDirs: nodeDirs, cmd: '["node","--version"]' },
  ];
}

function recipeHash(r: Recipe): string {
  const root = packageRoot();
  const progs = r.programs().map((p) => (p.startsWith('/') ? p : which(p)));
  const bins = progs.map((p) => {
    const st = statSync(p);
    return `${p}:${st.size}:${st.mtimeMs}`;
  });
  return treeHash((r.appDirs ?? []).map((d) => path.join(root, d)), `v2|${r.cmd}|${bins.join('|')}`);
}

async function buildOne(r: Recipe, force: boolean): Promise<BuiltImage> {
  const t0 = Date.now();
  const hash = recipeHash(r);
  if (!force && imageLabel(r.name, CONTENT_LABEL) === hash) return { role: r.role, name: r.name, status: 'cached', ms: Date.now() - t0, sizeBytes: imageSize(r.name) };
  const previous = imageId(r.name);
  const rootfs = makeRootfs(r.programs());
  try {
    const changes = [`CMD ${r.cmd}`, `LABEL ${CONTENT_LABEL}=${hash}`, 'LABEL redis-ha-chaos.image=local', 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'];
    if (r.appDirs) {
      const root = packageRoot();
      for (const d of r.appDirs) cpSync(path.join(root, d), path.join(rootfs, 'app', d), { recursive: true, dereference: true });
      // packageRoot() finds the package by its package.json; ESM needs "type": "module" for the .js files.
      writeFileSync(path.join(rootfs, 'app', 'package.json'), JSON.stringify({ name: 'redis-ha-chaos', type: 'module', private: true }) + '\n');
      // The toxiproxy stand-in's entry point: the CLI subcommand without the whole CLI and its dependencies.
      writeFileSync(path.join(rootfs, 'app', 'toxiproxy.mjs'), "import { main } from './dist/harness/src/toxiproxy/cli.js';\nprocess.exit(await main(process.argv.slice(2)));\n");
      changes.push('WORKDIR /app');
    }
    await dockerImport(rootfs, r.name, changes);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  // The old image lost its tag: remove it unless a container still uses it (then docker refuses, which is fine).
  if (previous && previous !== imageId(r.name)) spawnSync('docker', ['rmi', previous], { stdio: 'ignore' });
  return { role: r.role, name: r.name, status: 'built', ms: Date.now() - t0, sizeBytes: imageSize(r.name) };
}

/** Builds every local stand-in image (skipping those whose content is unchanged, unless force). */
export async function buildLocalImages(opts: { force?: boolean; only?: Array<ImageRole | 'node'>; log?: (line: string) => void } = {}): Promise<BuiltImage[]> {
  const v = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`images build: no Docker engine answers (${(v.stderr || v.error?.message || '').trim().split('\n')[0]}); start dockerd first`);
  const out: BuiltImage[] = [];
  for (const r of recipes()) {
    if (opts.only && !opts.only.includes(r.role)) continue;
    const b = await buildOne(r, opts.force === true);
    opts.log?.(`${b.status === 'built' ? 'built' : 'up to date'}: ${b.name} (${r.role}) in ${b.ms} ms${b.sizeBytes ? `, ${(b.sizeBytes / 1e6).toFixed(1)} MB` : ''}`);
    out.push(b);
  }
  return out;
}
