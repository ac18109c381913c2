import { expect } from 'chai';
import net from 'node:net';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, REF_BIN, startRefProcess, waitExit } from './util/servers.js';

const run = promisify(execFile);

describe('redis-ref-server CLI and Redis tools', function () {
  this.timeout(60000);
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rr-cli-'));
  });
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--version and -v print the version like redis-server', async () => {
    const { stdout } = await run(process.execPath, [REF_BIN, '--version']);
    expect(stdout).to.match(/^Redis server v=7\.0\.15 /);
    const v = await run(process.execPath, [REF_BIN, '-v']);
    expect(v.stdout).to.equal(stdout);
  });

  it('exits 1 with Redis lines when the port is taken, before any PID line', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const child = spawn(process.execPath, [REF_BIN, '--port', String(port), '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      expect(await waitExit(child)).to.equal(1);
      expect(out).to.contain(`Failed listening on port ${port} (TCP), aborting.`);
      expect(out).to.contain('Address already in use');
      // As server.c logs its PID only after initServer bound: Redis's test runner reads " PID: " as "started".
      expect(out).to.not.contain(' PID: ');
      expect(out).to.not.contain('Server initialized');
    } finally {
      blocker.close();
    }
  });

  it('exits 1 with the FATAL CONFIG FILE ERROR block on a bad config file', async () => {
    const conf = join(dir, 'bad.conf');
    writeFileSync(conf, 'port 6379\nmaxclients lots\n');
    const child = spawn(process.execPath, [REF_BIN, conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await waitExit(child)).to.equal(1);
    expect(err).to.contain("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'maxclients lots'");
  });

  it('loads a config file plus flags, writes logfile and pidfile, and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const conf = join(dir, 'redis.conf');
    const log = join(dir, 'redis.log');
    const pid = join(dir, 'redis.pid');
    writeFileSync(conf, `port 1\nbind 127.0.0.1\nsave ""\nlogfile ${log}\npidfile ${pid}\nunknown-thing 5\n`);
    const p = await startRefProcess([conf, '--port', String(port), '--dir', dir], port);
    stops.push(p.stop);
    expect(readFileSync(pid, 'utf8').trim()).to.equal(String(p.child.pid));
    const { stdout } = await run('redis-cli', ['-p', String(port), 'config', 'get', 'dir']);
    expect(stdout).to.equal(`dir\n${dir}\n`);
    p.child.kill('SIGTERM');
    expect(await waitExit(p.child)).to.equal(0);
    expect(existsSync(pid)).to.equal(false);
    const text = readFileSync(log, 'utf8');
    for (const line of ['Server initialized', 'Ready to accept connections', 'Received SIGTERM scheduling shutdown...', 'Removing the pid file.', 'Redis is now ready to exit, bye bye...']) {
      expect(text).to.contain(line);
    }
    expect(text).to.match(/^\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} # Unknown directive 'unknown-thing'/m);
  });

  it('SHUTDOWN from a client and SIGINT both exit 0 with Redis log lines', async () => {
    for (const how of ['command', 'SIGINT'] as const) {
      const port = await freePort();
      const p = await startRefProcess(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], port);
      stops.push(p.stop);
      if (how === 'command') await run('redis-cli', ['-p', String(port), 'SHUTDOWN', 'NOSAVE']).catch(() => undefined);
      else p.child.kill('SIGINT');
      expect(await waitExit(p.child), how).to.equal(0);
      expect(p.output()).to.contain('User requested shutdown...');
      expect(p.output()).to.contain('Redis is now ready to exit, bye bye...');
      if (how === 'SIGINT') expect(p.output()).to.contain('Received SIGINT scheduling shutdown...');
    }
  });

  it('redis-cli works unchanged (--no-raw replies, errors, RESP3)', async () => {
    const port = await freePort();
    const p = await startRefProcess(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], port);
    stops.push(p.stop);
    const cli = async (...args: string[]) => (await run('redis-cli', ['-p', String(port), '--no-raw', ...args])).stdout;
    expect(await cli('SET', 'k', 'v')).to.equal('OK\n');
    expect(await cli('GET', 'k')).to.equal('"v"\n');
    expect(await cli('GET', 'missing')).to.equal('(nil)\n');
    expect(await cli('NOSUCH', 'x')).to.equal("(error) ERR unknown command 'NOSUCH', with args beginning with: 'x' \n");
    expect(await cli('PING')).to.equal('PONG\n');
    expect(await cli('-3', 'HELLO', '3')).to.contain('1# "server" => "redis"');
    expect(await cli('CLIENT', 'SETNAME', 'a b')).to.contain('(error) ERR Client names cannot contain spaces');
    const info = await cli('INFO', 'server');
    expect(info).to.contain('redis_version:7.0.15');
  });

  it('redis-benchmark runs against it', async () => {
    const port = await freePort();
    const p = await startRefProcess(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], port);
    stops.push(p.stop);
    const { stdout } = await run('redis-benchmark', ['-p', String(port), '-n', '2000', '-c', '10', '-q', '-t', 'ping,set,get,incr,lpush,lpop,sadd,hset,mset']);
    const lines = stdout.split(/\r|\n/).filter((l) => / requests per second/.test(l));
    expect(lines.length).to.be.greaterThanOrEqual(9);
    for (const l of lines) expect(Number(/([\d.]+) requests per second/.exec(l)?.[1])).to.be.greaterThan(0);
    const { stdout: dbsize } = await run('redis-cli', ['-p', String(port), 'DBSIZE']);
    expect(Number(dbsize)).to.be.greaterThan(0);
  });
});
