import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseToxiproxyArgs } from '../src/toxiproxy/cli.js';
import { startEchoServer, unusedPort, waitFor, type EchoServer } from './fixtures/toxiproxy-testkit.js';

const cliModule = fileURLToPath(new URL('../src/toxiproxy/cli.js', import.meta.url));

describe('toxiproxy CLI', function () {
  this.timeout(10000);
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let echo: EchoServer | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
    await echo?.close();
    echo = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('parses toxiproxy-server style flags and rejects bad ones in one line', () => {
    expect(parseToxiproxyArgs([])).to.deep.equal({ host: '127.0.0.1', port: 8474 });
    expect(parseToxiproxyArgs(['--port', '18474', '-host=127.0.0.2', '--seed', '7', '-config', 'p.json'])).to.deep.equal({ host: '127.0.0.2', port: 18474, seed: 7, config: 'p.json' });
    expect(() => parseToxiproxyArgs(['--port', 'x'])).to.throw('toxiproxy: --port must be an integer from 0 to 65535, got "x"');
    expect(() => parseToxiproxyArgs(['--bogus'])).to.throw(/^toxiproxy: unknown argument "--bogus"; usage: /);
    expect(() => parseToxiproxyArgs(['--host'])).to.throw(/needs a value/);
  });

  it('main() serves in the foreground with --config proxies and exits 0 on SIGTERM', async () => {
    echo = await startEchoServer();
    dir = await mkdtemp(join(tmpdir(), 'toxiproxy-cli-'));
    const config = join(dir, 'proxies.json');
    await writeFile(config, JSON.stringify([{ name: 'from-file', listen: '127.0.0.1:0', upstream: echo.address }]));
    const port = await unusedPort();
    const script = `import(${JSON.stringify(cliModule)}).then((m) => m.main(process.argv.slice(1))).then((code) => process.exit(code))`;
    child = spawn(process.execPath, ['-e', script, '--', '--port', String(port), '--config', config, '--seed', '42'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('Populated proxies from file'), 5000, `the CLI to start (output so far: ${out})`);
    const proxies = (await (await fetch(`http://127.0.0.1:${port}/proxies`)).json()) as Record<string, { enabled: boolean }>;
    expect(proxies['from-file']?.enabled).to.equal(true);
    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(out).to.contain('seed=42');
  });

  it('main() exits 2 with one line on a bad flag', async () => {
    const script = `import(${JSON.stringify(cliModule)}).then((m) => m.main(process.argv.slice(1))).then((code) => process.exit(code))`;
    child = spawn(process.execPath, ['-e', script, '--', '--port', '99999'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).to.equal(2);
    expect(err.trim().split('\n')).to.have.length(1);
    expect(err).to.contain('--port must be an integer');
  });
});
