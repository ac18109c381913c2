/** ACL against redis-server 7.0.15 side by side: ACL LOG entries, aclfile LOAD/SAVE, and ACL in Sentinel mode. */
import { expect } from 'chai';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameClient, type Frame } from './util/frame-client.js';
import { spawn } from 'node:child_process';
import { freePort, startRealRedis, startRefInProcess, stopChild, useBothServers, waitForPing, type RunningServer } from './util/servers.js';
import { startServer } from '../server/main.js';
import { startSentinel, type SentinelNode } from './fixtures/sentinel-kit.js';

/** Runs the same commands on a fresh connection per step list; returns every reply. */
async function run(port: number, steps: string[][][]): Promise<Frame[]> {
  const out: Frame[] = [];
  for (const commands of steps) {
    const c = await FrameClient.open(port);
    try {
      for (const argv of commands) out.push(await c.send(...argv));
    } finally {
      c.close();
    }
  }
  return out;
}

/** An ACL LOG entry without what differs between two servers by nature (age, client id, address, fd, memory). */
function comparableLog(log: Frame): Record<string, Frame>[] {
  return (log as Frame[][]).map((flat) => {
    const e: Record<string, Frame> = {};
    for (let i = 0; i < flat.length; i += 2) e[flat[i] as string] = flat[i + 1];
    const info = String(e['client-info']);
    expect(Number(e['age-seconds'])).to.be.within(0, 60);
    delete e['age-seconds'];
    // The fields of the client that was refused that do not depend on the process: its name, user, db, last command.
    e['client-info'] = info.split(' ').filter((f) => /^(name|user|db|cmd|multi|flags|resp)=/.test(f)).join(' ');
    return e;
  });
}

describe('ACL vs redis-server', function () {
  this.timeout(60000);
  const servers = useBothServers();

  afterEach(async () => {
    for (const port of [servers.real.port, servers.ref.port]) {
      await run(port, [[['ACL', 'DELUSER', 'u1', 'u2'], ['ACL', 'LOG', 'RESET'], ['FLUSHALL']]]);
    }
  });

  it('logs refused commands, keys, channels and AUTH failures as Redis does (reason, context, object, user, grouping)', async () => {
    const steps: string[][][] = [
      [['ACL', 'SETUSER', 'u1', 'on', '>pw', '~k*', '&news', '+@read', '+@transaction', '+publish', '+client|setname']],
      [
        ['AUTH', 'u1', 'pw'], ['CLIENT', 'SETNAME', 'alpha'], ['SET', 'k1', 'v'], ['GET', 'x1'], ['GET', 'x1'],
        ['PUBLISH', 'other', 'm'], ['MULTI'], ['GET', 'y1'], ['SET', 'k2', 'v'], ['EXEC'],
      ],
      [['AUTH', 'u1', 'wrong'], ['AUTH', 'nobody', 'x'], ['auth', 'nobody', 'x']],
      [['ACL', 'LOG'], ['ACL', 'LOG', '2'], ['ACL', 'LOG', '-1'], ['ACL', 'LOG', 'x']],
    ];
    const [real, ref] = await Promise.all([run(servers.real.port, steps), run(servers.ref.port, steps)]);
    const logAt = real.length - 4;
    expect(comparableLog(ref[logAt])).to.deep.equal(comparableLog(real[logAt]));
    // The same refusals in the same order: 2x GET x1 grouped into one entry with count 2.
    expect(comparableLog(real[logAt]).map((e) => [e.reason, e.object, e.count])).to.deep.include(['key', 'x1', 2]);
    expect(ref.slice(0, logAt)).to.deep.equal(real.slice(0, logAt));
    expect(comparableLog(ref[logAt + 1])).to.deep.equal(comparableLog(real[logAt + 1]));
    expect(ref.slice(logAt + 2)).to.deep.equal(real.slice(logAt + 2));
  });

  it('answers HELLO AUTH and the unauthenticated HELLO as Redis does', async () => {
    const steps: string[][][] = [
      [['ACL', 'SETUSER', 'u2', 'on', '>pw', '+@all', '~*']],
      [['ACL', 'SETUSER', 'default', 'resetpass', '>dpw']],
      [['HELLO', '2', 'AUTH', 'u2', 'bad'], ['HELLO', '2'], ['HELLO', '2', 'SETNAME', 'n1'], ['CLIENT', 'GETNAME'],
        ['HELLO', '2', 'AUTH', 'u2', 'pw', 'SETNAME', 'n2'], ['ACL', 'WHOAMI'], ['CLIENT', 'GETNAME'], ['HELLO', '2', 'AUTH', 'u2', 'pw', 'BAD']],
      [['AUTH', 'dpw'], ['ACL', 'SETUSER', 'default', 'nopass']],
    ];
    const [real, ref] = await Promise.all([run(servers.real.port, steps), run(servers.ref.port, steps)]);
    // HELLO's map carries the connection id: compare its keys and everything but the id.
    const noId = (f: Frame): Frame => (Array.isArray(f) ? f.map((x, i) => (f[i - 1] === 'id' ? 0 : x)) : f);
    expect(ref.map(noId)).to.deep.equal(real.map(noId));
    expect(real[2]).to.deep.equal({ error: 'WRONGPASS invalid username-password pair or user is disabled.' });
  });

  it('ACL DELUSER closes the deleted user\'s connections; a disabled user cannot AUTH but stays logged in', async () => {
    for (const port of [servers.real.port, servers.ref.port]) {
      await run(port, [[['ACL', 'SETUSER', 'u1', 'on', 'nopass', '+@all', '~*']]]);
      const a = await FrameClient.open(port);
      // A raw socket, to see the server close it.
      const b = net.connect(port, '127.0.0.1');
      const closed = new Promise<boolean>((resolve) => {
        b.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 10000);
      });
      try {
        const authed = new Promise<string>((resolve) => b.once('data', (d) => resolve(d.toString('latin1'))));
        b.write('AUTH u1 x\r\n');
        expect(await authed).to.equal('+OK\r\n');
        expect(await a.send('AUTH', 'u1', 'x')).to.equal('OK');
        await run(port, [[['ACL', 'SETUSER', 'u1', 'off']]]);
        expect(await a.send('PING')).to.equal('PONG');
        expect(await run(port, [[['AUTH', 'u1', 'x']]])).to.deep.equal([{ error: 'WRONGPASS invalid username-password pair or user is disabled.' }]);
        // The deleting connection gets its reply, then it is closed too.
        expect(await a.send('ACL', 'DELUSER', 'u1')).to.equal(1);
        expect(await closed).to.equal(true);
      } finally {
        a.close();
        b.destroy();
      }
    }
  });
});

describe('ACL aclfile LOAD / SAVE vs redis-server', function () {
  this.timeout(60000);
  let dir: string;
  let real: RunningServer;
  let ref: RunningServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acl-file-'));
    const body = 'user default on nopass ~* &* +@all\nuser ann on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 ~a* resetchannels -@all +get\n';
    writeFileSync(join(dir, 'real.acl'), body);
    writeFileSync(join(dir, 'ref.acl'), body);
    [real, ref] = await Promise.all([
      startRealRedis(['--aclfile', join(dir, 'real.acl')]),
      startRefInProcess(['--aclfile', join(dir, 'ref.acl')]),
    ]);
  });
  after(async () => {
    await Promise.all([real?.stop(), ref?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads users at startup, saves them in ACL LIST form and refuses a bad file as a whole', async () => {
    const steps: string[][][] = [
      [['ACL', 'LIST'], ['AUTH', 'ann', 'password'], ['GET', 'a1'], ['GET', 'b1'], ['SET', 'a1', 'v']],
      [['ACL', 'SETUSER', 'bob', 'on', '>x', '%R~r*', '+@read'], ['ACL', 'SAVE']],
      [['ACL', 'LOAD'], ['ACL', 'USERS'], ['ACL', 'LIST'], ['ACL', 'LOG', 'RESET']],
    ];
    const [a, b] = await Promise.all([run(real.port, steps), run(ref.port, steps)]);
    const norm = (f: Frame[]) => f.map((x) => (typeof x === 'string' ? x.replace(/\/[^ ]*\.acl/g, 'FILE') : x));
    expect(norm(b)).to.deep.equal(norm(a));
    expect(readFileSync(join(dir, 'ref.acl'), 'latin1')).to.equal(readFileSync(join(dir, 'real.acl'), 'latin1'));
    // A file with an unknown command: nothing changes, the error names file and line.
    writeFileSync(join(dir, 'real.acl'), 'user zed on +nosuch\nuser default on nopass ~* &* +@all\n');
    writeFileSync(join(dir, 'ref.acl'), 'user zed on +nosuch\nuser default on nopass ~* &* +@all\n');
    const bad = [[['ACL', 'LOAD'], ['ACL', 'USERS']]];
    const [c, d] = await Promise.all([run(real.port, bad), run(ref.port, bad)]);
    expect(JSON.stringify(d).replace(/\/[^ "]*\.acl/g, 'FILE')).to.equal(JSON.stringify(c).replace(/\/[^ "]*\.acl/g, 'FILE'));
  });
});

describe('ACL users in redis.conf and CONFIG REWRITE vs redis-server', function () {
  this.timeout(60000);

  it('loads `user` lines (the default user from reset) and rewrites every user as a `user` line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acl-conf-'));
    const body = (port: number) => [`port ${port}`, 'bind 127.0.0.1', 'save ""', `dir ${dir}`,
      'user default on nopass ~* &* +@all', 'user alice on >pw ~a* &c* +get +@hash', 'user bob >x', ''].join('\n');
    const [p1, p2] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'real.conf'), body(p1));
    writeFileSync(join(dir, 'ref.conf'), body(p2));
    const child = spawn('redis-server', [join(dir, 'real.conf')], { stdio: 'ignore' });
    const { server } = await startServer([join(dir, 'ref.conf'), '--logfile', join(dir, 'ref.log')], { logStartup: false });
    try {
      await waitForPing(p1);
      const steps: string[][][] = [[['ACL', 'LIST'], ['AUTH', 'alice', 'pw'], ['HGET', 'a1', 'f'], ['GET', 'b1']],
        [['ACL', 'SETUSER', 'carol', 'on', 'nopass', '%R~r*'], ['ACL', 'DELUSER', 'bob'], ['CONFIG', 'REWRITE']]];
      const [a, b] = await Promise.all([run(p1, steps), run(p2, steps)]);
      expect(b).to.deep.equal(a);
      const users = (f: string) => readFileSync(join(dir, f), 'latin1').split('\n').filter((l) => l.startsWith('user '));
      expect(users('ref.conf')).to.deep.equal(users('real.conf'));
      expect(users('real.conf')).to.have.length(3);
    } finally {
      server.close();
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ACL in Sentinel mode vs redis-sentinel', function () {
  this.timeout(60000);
  const nodes: SentinelNode[] = [];
  let real: SentinelNode;
  let ref: SentinelNode;
  before(async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    // A monitored master that does not exist: ACL needs no live master.
    const lines = [`sentinel monitor m 127.0.0.1 ${p3} 2`];
    real = await startSentinel('real', p1, lines);
    nodes.push(real);
    ref = await startSentinel('ref', p2, lines);
    nodes.push(ref);
  });
  after(async () => {
    for (const n of nodes) await n.stop();
  });

  it('serves ACL with Sentinel\'s command table: COMMAND COUNT, ACL CAT, SETUSER errors, AUTH, NOPERM', async () => {
    const steps: string[][][] = [
      [['COMMAND', 'COUNT'], ['ACL', 'CAT', 'admin'], ['ACL', 'CAT', 'string'], ['ACL', 'SETUSER', 'x', '+get'],
        ['ACL', 'SETUSER', 's1', 'on', '>pw', '+ping', '+sentinel|masters', '+@connection'], ['ACL', 'GETUSER', 's1'], ['ACL', 'WHOAMI']],
      [['AUTH', 's1', 'pw'], ['PING'], ['SENTINEL', 'MASTERS'], ['SENTINEL', 'MYID'], ['INFO'], ['ACL', 'WHOAMI'], ['ACL', 'LIST']],
      [['ACL', 'DELUSER', 's1'], ['ACL', 'LOG', 'RESET'], ['ACL', 'DRYRUN', 'default', 'sentinel', 'masters'], ['ACL', 'DRYRUN', 'default', 'get', 'k']],
    ];
    const [a, b] = await Promise.all([run(real.port, steps), run(ref.port, steps)]);
    const sorted = (f: Frame): Frame => (Array.isArray(f) ? [...f].sort() : f);
    // ACL CAT lists commands in dict order: compared as sets; SENTINEL MASTERS and MYID are this Sentinel's own.
    const norm = (f: Frame[]) => f.map((x, i) => ([1, 2].includes(i) ? sorted(x) : [9, 10].includes(i) ? typeof x : x));
    expect(norm(b)).to.deep.equal(norm(a));
    expect(a[0]).to.equal(15);
    expect(a[10]).to.deep.equal({ error: "NOPERM this user has no permissions to run the 'sentinel|myid' command" });
  });

  it('a default user with a password makes new connections AUTH first (NOAUTH), as requirepass does', async () => {
    for (const n of [real, ref]) {
      const steps: string[][][] = [
        [['ACL', 'SETUSER', 'default', '>sp']],
        [['PING'], ['AUTH', 'bad'], ['AUTH', 'sp'], ['PING'], ['ACL', 'SETUSER', 'default', 'nopass']],
        [['PING']],
      ];
      expect(await run(n.port, steps), n.kind).to.deep.equal(['OK', { error: 'NOAUTH Authentication required.' },
        { error: 'WRONGPASS invalid username-password pair or user is disabled.' }, 'OK', 'PONG', 'OK', 'PONG']);
    }
  });
});
