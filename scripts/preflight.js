#!/usr/bin/env node
// Runs scripts/setup.sh when a system program the next step needs is missing, so `npm start` and `npm test` work on a fresh machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const NEEDS = {
  start: ['redis-server', 'redis-sentinel', 'redis-cli', 'haproxy', 'nft', 'ip'],
  test: ['redis-server', 'redis-sentinel', 'redis-cli', 'redis-benchmark', 'haproxy', 'nft', 'ip', 'chromium', 'dockerd'],
};
const job = process.argv[2] ?? 'test';
const PATHS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const has = (cmd) => PATHS.some((dir) => existsSync(path.join(dir, cmd)));
const dockerUp = () => spawnSync('docker', ['version'], { stdio: 'ignore' }).status === 0;
// The redis-py client adapter needs Debian's python3-redis (a module, not a program), run by the python3 the adapter registry picks.
const hasPythonRedis = () => spawnSync(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', 'import redis'], { stdio: 'ignore' }).status === 0;

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// A fresh clone: install the npm dependencies (whose `prepare` builds dist/) before anything else.
if (!existsSync(path.join(root, 'node_modules', '.package-lock.json')) || !existsSync(path.join(root, 'dist'))) {
  console.error('preflight: installing npm dependencies and building (npm install)');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 3);
}

const missing = (NEEDS[job] ?? NEEDS.test).filter((c) => !has(c));
if (job === 'test' && !hasPythonRedis()) missing.push('python3-redis');
const needDaemon = job === 'test' && has('dockerd') && !dockerUp();
if (missing.length === 0 && !needDaemon) process.exit(0);
console.error(`preflight: ${missing.length ? `missing ${missing.join(', ')}` : 'dockerd not running'}; running scripts/setup.sh`);
const setup = path.join(root, 'scripts', 'setup.sh');
const r = spawnSync('bash', [setup], { stdio: 'inherit' });
process.exit(r.status ?? 3);
