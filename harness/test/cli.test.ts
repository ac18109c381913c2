import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/topology/paths.js';
import { writeMarker } from '../src/cleanup/state.js';
import { waitFor } from '../src/drivers/local/probe.js';
import { isRoot } from './local-driver-helpers.js';

const BIN = path.join(packageRoot(), 'dist', 'harness', 'src', 'cli', 'main.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Pids whose working directory lies under dir (Redis rewrites its command line, not its cwd). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/cwd`).startsWith(dir)) pids.push(Number(e));
    } catch {
      // exited or not ours to read
    }
  }
  return pids;
}

describe('redis-ha-chaos CLI', function () {
  this.timeout(30_000);
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rhc-cli-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('validate: a bad file prints file:line:col per problem and exits 2', () => {
    const file = path.join(tmp, 'bad.yml');
    writeFileSync(file, 'name: bad\nkind: sentinel\nredis:\n  - name: r1\n    host: a\n    port: seventy\n  - name: r2\n    host: b\n    replicaof: r1\nsentinels:\n  - { name: s1, host: c, quorum: 2 }\n');
    const r = cli(['validate', file]);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.deep.equal([`${file}:6:11: redis[0].port: expected an integer, got string`]);
    writeFileSync(file, 'name: bad\nkind: sentinel\nredis:\n  - { name: r1, host: a }\nsentinels:\n  - { name: s1, host: c, quorum: 2 }\n');
    const r2 = cli(['validate', file]);
    expect(r2.code).to.equal(2);
    expect(r2.stderr.trim()).to.equal(`${file}:6:34: sentinels[0].quorum: expected a quorum <= 1 (the number of sentinels)`);
  });

  it('validate: a shipped topology passes with exit 0', () => {
    const r = cli(['validate', path.join(packageRoot(), 'topologies', 'sentinel-3.yml')]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^ok: .*sentinel-3\.yml: sentinel-3 \(sentinel, 4 hosts, 7 instances; profiles: ci\)\n$/);
  });

  it('usage errors are one line with exit 2', () => {
    for (const args of [['frobnicate'], ['run'], ['run', '--scenario', 'x', '--target', 'mongo'], ['validate'], ['down', '--force'], ['run', '--scenario', 'x', '--seed', '-1']]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
    }
  });

  it('an unknown scenario is bad input: one line naming it, exit 2, before anything starts', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'rhc-cli-'));
    try {
      const r = cli(['run', '--scenario', 'no-such-scenario', '--out', out]);
      expect(r.code).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.deep.equal(['unknown scenario "no-such-scenario"; list them with: redis-ha-chaos scenarios']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('down removes what a crashed run left: its processes and (as root) its namespace, bridge and iptables rule', async () => {
    const state = path.join(tmp, 'state');
    const runDir = path.join(tmp, 'run');
    spawnSync('mkdir', ['-p', runDir]);
    const orphan = spawn('sleep', ['60'], { cwd: runDir, stdio: 'ignore', detached: true });
    const bystander = spawn('sleep', ['60'], { cwd: tmp, stdio: 'ignore', detached: true });
    const tag = `rhc${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0')}`;
    const dead = spawnSync('true').pid ?? 0;
    try {
      if (isRoot) {
        spawnSync('ip', ['netns', 'add', `${tag}-0`]);
        spawnSync('ip', ['link', 'add', tag, 'type', 'bridge']);
        spawnSync('iptables', ['-I', 'DOCKER-USER', '-i', tag, '-o', tag, '-j', 'ACCEPT']);
      }
      process.env.REDIS_HA_CHAOS_STATE_DIR = state;
      writeMarker({
        runId: tag, ownerPid: dead, runDir, createdAt: new Date().toISOString(),
        ...(isRoot ? { bridge: tag, netns: [`${tag}-0`], iptables: [{ chain: 'DOCKER-USER', args: ['-i', tag, '-o', tag, '-j', 'ACCEPT'] }] } : { netns: [], iptables: [] }),
        pids: [orphan.pid!, bystander.pid!],
      });
      delete process.env.REDIS_HA_CHAOS_STATE_DIR;
      const r = cli(['down'], { REDIS_HA_CHAOS_STATE_DIR: state });
      expect(r.code).to.equal(0);
      expect(r.stdout).to.include(`${tag}: killed pid ${orphan.pid}`);
      expect(r.stdout).to.include(`${tag}: cleaned`);
      await waitFor('the orphan to die', async () => orphan.exitCode !== null || orphan.signalCode !== null, 5000);
      // A pid outside the run folder (reused by someone else) is left alone.
      expect(bystander.exitCode).to.equal(null);
      expect(readdirSync(path.join(state, 'runs'))).to.deep.equal([]);
      if (isRoot) {
        expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).to.not.include(tag);
        expect(spawnSync('ip', ['link', 'show', tag], { stdio: 'ignore' }).status).to.not.equal(0);
        expect(spawnSync('iptables', ['-S', 'DOCKER-USER'], { encoding: 'utf8' }).stdout).to.not.include(tag);
      }
      expect(cli(['down'], { REDIS_HA_CHAOS_STATE_DIR: state }).stdout).to.include('nothing left to clean');
    } finally {
      orphan.kill('SIGKILL');
      bystander.kill('SIGKILL');
      if (isRoot) {
        spawnSync('ip', ['netns', 'del', `${tag}-0`], { stdio: 'ignore' });
        spawnSync('ip', ['link', 'del', tag], { stdio: 'ignore' });
        spawnSync('iptables', ['-D', 'DOCKER-USER', '-i', tag, '-o', tag, '-j', 'ACCEPT'], { stdio: 'ignore' });
      }
    }
  });

  it('up prints every address, and Ctrl-C stops everything it started', async () => {
    const out = path.join(tmp, 'up');
    const child = spawn(process.execPath, [BIN, 'up', path.join(packageRoot(), 'topologies', 'sentinel-haproxy.yml'), '--target', 'redis', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('up to report it is running', async () => stdout.includes('press Ctrl-C'), 20_000, 50);
      expect(processesUnder(out)).to.have.length(4);
      for (const name of ['redis1', 'redis2', 'sentinel1', 'haproxy']) expect(stdout).to.match(new RegExp(`\\n  ${name} +\\S+ +host \\S+ +\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+`));
      const runId = /run (rhc[0-9a-f]{6})/.exec(stdout)![1];
      child.kill('SIGINT');
      expect(await exited).to.equal(0);
      expect(stdout).to.include('stopped; run folder kept');
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).to.not.include(runId);
      expect(processesUnder(out), 'processes left').to.deep.equal([]);
      expect(existsSync(path.join(out, 'instances', 'redis1', 'redis.conf'))).to.equal(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
