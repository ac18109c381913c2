import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterError, AdapterProcess, PROTOCOL_VERSION, parseAdapterLine, resolveAdapter, SHIPPED_CLIENTS, type Hello, type Message } from '../src/adapters/index.js';
import { packageRoot } from '../src/topology/paths.js';
import { freePort } from '../src/support/ports.js';

async function until<T>(what: string, cond: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process whose process group is `pgid` (ps), to prove nothing of an adapter is left running. */
async function groupMembers(pgid: number): Promise<number[]> {
  const out = await new Promise<string>((resolve) => {
    const ps = spawn('ps', ['-e', '-o', 'pid=,pgid=']);
    let s = '';
    ps.stdout.on('data', (d: Buffer) => (s += d.toString()));
    ps.on('close', () => resolve(s));
  });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, g]) => g === pgid)
    .map(([p]) => p!);
}

const fixture = (name: string, ...args: string[]) => ({ name, command: [process.execPath, join(packageRoot(), 'clients', 'fixtures', name), ...args] });

describe('client adapter protocol', () => {
  it('parses replies, ready, messages and logs, and says what is wrong with anything else', () => {
    expect(parseAdapterLine('{"id":3,"type":"ok","value":"OK","t0":1,"t1":2}').kind).to.equal('reply');
    expect(parseAdapterLine('{"type":"ready","client":"x 1"}').kind).to.equal('ready');
    expect(parseAdapterLine('{"type":"message","channel":"c","message":"m"}').kind).to.equal('message');
    expect(parseAdapterLine('{"type":"log","message":"reconnecting"}').kind).to.equal('log');
    expect(() => parseAdapterLine('hello')).to.throw('not JSON');
    expect(() => parseAdapterLine('[1]')).to.throw('not a JSON object');
    expect(() => parseAdapterLine('{"id":1,"type":"maybe"}')).to.throw('"ok", "fail" or "info"');
    expect(() => parseAdapterLine('{"id":1,"type":"ok","t0":"soon"}')).to.throw('"t0" must be a number');
    expect(() => parseAdapterLine('{"type":"ready"}')).to.throw('"client"');
    expect(() => parseAdapterLine('{"type":"bye"}')).to.throw('neither a reply');
  });

  it('resolves shipped names to programs under clients/, and anything else to a command line', () => {
    const io = resolveAdapter('ioredis');
    expect(io.command[1]).to.equal(join(packageRoot(), 'clients', 'ioredis', 'adapter.mjs'));
    const own = resolveAdapter('./bin/my-adapter --mode fast');
    expect(own).to.deep.equal({ name: 'my-adapter', command: ['./bin/my-adapter', '--mode', 'fast'] });
    expect(resolveAdapter('/usr/bin/python3 -u ./clients/mine.py --fast').name).to.equal('mine.py');
    expect(resolveAdapter(`${process.execPath} /x/y/adapter.mjs`).name).to.equal('adapter.mjs');
  });
});

describe('client adapter process: broken adapters are one-line errors and leave nothing running', function () {
  this.timeout(30_000);
  const hello: Hello = { type: 'hello', protocol: PROTOCOL_VERSION, mode: 'direct', address: { host: '127.0.0.1', port: 1 }, timeouts: { connectMs: 500, commandMs: 500 } };

  it('garbage on stdout names the adapter and the line', async () => {
    let err: unknown;
    try {
      await AdapterProcess.start(fixture('garbage.mjs'), hello, { timings: { readyMs: 5000 } });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(AdapterError);
    const msg = (err as Error).message;
    expect(msg).to.match(/^adapter "garbage\.mjs" \(.*garbage\.mjs\) printed a line that is not protocol \(not JSON\): "hello from a confused adapter"$/);
    expect(msg).to.not.include('\n');
  });

  it('an adapter that exits early is reported with its exit code and last stderr line; pending requests reject', async () => {
    const a = await AdapterProcess.start(fixture('exits-early.mjs'), hello);
    expect(a.ready?.client).to.equal('exits-early 0');
    let err: unknown;
    try {
      await a.request({ op: 'set', key: 'k', value: 'v' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(AdapterError);
    expect((err as Error).message).to.match(/exited \(code 7\); last line it printed: ".*ready.*"; on stderr: "TypeError: cannot read properties of undefined"$/);
    expect(a.failure).to.equal(err);
    await a.close();
  });

  it('an adapter that stops answering ping is hung: error, and its whole process group is killed', async () => {
    const a = await AdapterProcess.start(fixture('hangs.mjs', '--with-child'), hello, { timings: { pingEveryMs: 100, pingTimeoutMs: 600 } });
    const pid = a.pid!;
    // The fixture starts a child in its group; wait until ps shows it.
    const deadline = performance.now() + 5000;
    while ((await groupMembers(pid)).length < 2) {
      if (performance.now() > deadline) throw new Error('the fixture never started its child');
      await new Promise((r) => setTimeout(r, 50));
    }
    const err = await a.failed().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AdapterError);
    expect((err as Error).message).to.match(/^adapter "hangs\.mjs" .* is hung: no answer to ping \d+ for \d+ ms; last line it printed: "\{\\"type\\":\\"ready\\"/);
    await a.close();
    const after = await (async () => {
      const deadline = performance.now() + 5000;
      for (;;) {
        const m = await groupMembers(pid);
        if (m.length === 0 || performance.now() > deadline) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    expect(after).to.deep.equal([]);
  });

  it('a program that never says ready fails at the ready deadline', async () => {
    const started = performance.now();
    const err = await AdapterProcess.start({ name: 'sleeper', command: ['sleep', '30'] }, hello, { timings: { readyMs: 400 } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AdapterError);
    expect((err as Error).message).to.equal('adapter "sleeper" (sleep 30) did not answer the hello with "ready" within 400 ms; it printed nothing');
    expect(performance.now() - started).to.be.lessThan(5000);
  });

  it('a missing program is an AdapterError, not a crash', async () => {
    const err = await AdapterProcess.start({ name: 'nope', command: ['/nonexistent/adapter'] }, hello).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AdapterError);
    expect((err as Error).message).to.match(/^adapter "nope" \(\/nonexistent\/adapter\) (could not be started|exited)/);
  });
});

interface Server {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startRedis(): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'adapter-test-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', 'pw'], { stdio: 'ignore' });
  const ok = async (): Promise<boolean> =>
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
  const deadline = performance.now() + 10_000;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    child,
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const name of SHIPPED_CLIENTS) {
  describe(`shipped adapter ${name} against redis-server`, function () {
    this.timeout(30_000);
    let server: Server;
    let adapter: AdapterProcess | undefined;
    const messages: Message[] = [];
    before(async () => {
      server = await startRedis();
    });
    after(async () => {
      await adapter?.close();
      await server?.stop();
    });

    it('says ready with its library and version, and answers set/get/sadd/smembers with its own timestamps', async () => {
      const hello: Hello = { type: 'hello', protocol: PROTOCOL_VERSION, mode: 'direct', address: { host: '127.0.0.1', port: server.port }, password: 'pw', timeouts: { connectMs: 1000, commandMs: 1000 } };
      adapter = await AdapterProcess.start(resolveAdapter(name), hello, { onMessage: (m) => messages.push(m) });
      expect(adapter.ready!.client).to.match(new RegExp(`^${name} \\d+\\.\\d+\\.\\d+ \\(direct\\)$`));
      const before = Date.now();
      const set = await adapter.request({ op: 'set', key: 'k1', value: 'v1' });
      expect(set.type).to.equal('ok');
      expect(set.t0).to.be.within(before - 1, Date.now());
      expect(set.t1).to.be.at.least(set.t0!);
      expect((await adapter.request({ op: 'get', key: 'k1' })).value).to.equal('v1');
      expect((await adapter.request({ op: 'get', key: 'missing' })).value).to.equal(null);
      await Promise.all(['a', 'b', 'c'].map((v) => adapter!.request({ op: 'sadd', key: 's', value: v })));
      const members = await adapter.request({ op: 'smembers', key: 's' });
      expect((members.value as string[]).slice().sort()).to.deep.equal(['a', 'b', 'c']);
    });

    it('answers a Redis error reply with fail and the error text', async () => {
      const r = await adapter!.request({ op: 'get', key: 's' });
      expect(r.type).to.equal('fail');
      expect(r.error).to.match(/WRONGTYPE/);
    });

    it('delivers published messages to a subscription', async () => {
      expect((await adapter!.request({ op: 'subscribe', channel: 'news' })).type).to.equal('ok');
      const pub = await adapter!.request({ op: 'publish', channel: 'news', message: 'hello' });
      expect(pub.type).to.equal('ok');
      expect(pub.value).to.equal(1);
      const m = await until('the message', () => messages.find((x) => x.channel === 'news'));
      expect(m.message).to.equal('hello');
    });

    it('a paused server: the command times out (info) while the adapter keeps answering ping', async () => {
      server.child.kill('SIGSTOP');
      try {
        const r = await adapter!.request({ op: 'set', key: 'k2', value: 'v2' });
        expect(r.type).to.equal('info');
        expect(adapter!.failure).to.equal(undefined);
        expect((await adapter!.request({ op: 'ping' })).value).to.equal('PONG');
      } finally {
        server.child.kill('SIGCONT');
      }
    });

    it('quits on request and leaves no process behind', async () => {
      const pid = adapter!.pid!;
      await adapter!.close();
      adapter = undefined;
      expect(alive(pid)).to.equal(false);
    });
  });
}

describe('broken-no-timeout fixture: a command to a paused server never settles, yet the adapter is alive', function () {
  this.timeout(30_000);
  it('stays pending past the command timeout while pings are answered; settles after SIGCONT', async () => {
    const server = await startRedis();
    const hello: Hello = { type: 'hello', protocol: PROTOCOL_VERSION, mode: 'direct', address: { host: '127.0.0.1', port: server.port }, password: 'pw', timeouts: { connectMs: 500, commandMs: 500 } };
    const a = await AdapterProcess.start(resolveAdapter('broken-no-timeout'), hello, { timings: { pingEveryMs: 100, pingTimeoutMs: 1000 } });
    try {
      expect((await a.request({ op: 'set', key: 'k', value: 'v' })).type).to.equal('ok');
      server.child.kill('SIGSTOP');
      const pending = a.request({ op: 'set', key: 'k', value: 'w' });
      await new Promise((r) => setTimeout(r, 1500));
      expect(a.pendingRequests().map((p) => p.request.op)).to.deep.equal(['set']);
      expect(a.failure).to.equal(undefined);
      server.child.kill('SIGCONT');
      expect((await pending).type).to.equal('ok');
    } finally {
      await a.close();
      await server.stop();
    }
  });
});

describe('the README\'s complete adapter example works as printed', function () {
  this.timeout(30_000);
  it('answers set/get/sadd/smembers and a WRONGTYPE fail against redis-server', async () => {
    const { readFileSync, writeFileSync, chmodSync } = await import('node:fs');
    const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### A complete adapter'));
    const code = /```python\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, 'the README has the example').to.be.a('string');
    const dir = mkdtempSync(join(tmpdir(), 'readme-adapter-'));
    const file = join(dir, 'my_adapter.py');
    writeFileSync(file, code!);
    chmodSync(file, 0o755);
    const server = await startRedis();
    const hello: Hello = { type: 'hello', protocol: PROTOCOL_VERSION, mode: 'direct', address: { host: '127.0.0.1', port: server.port }, password: 'pw', timeouts: { connectMs: 1000, commandMs: 1000 } };
    const a = await AdapterProcess.start(resolveAdapter(file), hello);
    try {
      expect(a.ready!.client).to.match(/^redis-py \d/);
      expect((await a.request({ op: 'set', key: 'k', value: 'v' })).type).to.equal('ok');
      expect((await a.request({ op: 'get', key: 'k' })).value).to.equal('v');
      expect((await a.request({ op: 'sadd', key: 's', value: 'x' })).type).to.equal('ok');
      expect((await a.request({ op: 'smembers', key: 's' })).value).to.deep.equal(['x']);
      const bad = await a.request({ op: 'get', key: 's' });
      expect([bad.type, bad.error]).to.satisfy(([t, e]: [string, string]) => t === 'fail' && /WRONGTYPE/.test(e));
    } finally {
      await a.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
