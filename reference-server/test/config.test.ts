import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, ConfigFileError, parseCommandLine } from '../config/config.js';
import { registerDirective } from '../config/directives.js';
import { configFromArgs } from '../server/main.js';

describe('config: redis.conf and command line', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rr-conf-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses quotes, repeated directives (last wins), include, accumulating save and unknown directives', () => {
    writeFileSync(join(dir, 'inc.conf'), 'timeout 7\n');
    const c = new Config();
    c.loadString(`# comment\nport 7000\n  port 7001  \nrequirepass "a b\\x41"\ninclude ${join(dir, 'inc.conf')}\nsave 900 1\nsave 300 10\nmysterious-directive 1 2\nreplica-read-only no\nslave-priority 5\nmaxmemory 2mb\n`);
    expect(c.get('port')).to.equal('7001');
    expect(c.get('requirepass')).to.equal('a bA');
    expect(c.get('timeout')).to.equal('7');
    expect(c.get('save')).to.equal('900 1 300 10');
    expect(c.get('replica-read-only')).to.equal('no');
    expect(c.get('replica-priority')).to.equal('5');
    expect(c.get('maxmemory')).to.equal(String(2 * 1024 * 1024));
    expect(c.warnings[0]).to.match(/mysterious-directive/);
  });

  it('reports bad values the way redis-server does', () => {
    const c = new Config();
    let err: unknown;
    try {
      c.loadString('port 1\nport abc\n');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigFileError);
    expect((err as Error).message).to.equal(
      "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'port abc'\nargument couldn't be parsed into an integer",
    );
    expect(() => new Config().loadString('requirepass "abc')).to.throw(/Unbalanced quotes in configuration line/);
  });

  it('merges command-line options after the file, like redis-server', () => {
    expect(parseCommandLine(['/x.conf', '--port', '7', '--save', '', '--bind', '127.0.0.1', '::1'])).to.deep.equal({
      configFile: '/x.conf', options: 'port "7" \nsave "" \nbind "127.0.0.1" "::1" ', fromStdin: false,
    });
    expect(parseCommandLine(['-', '--port', '9']).fromStdin).to.equal(true);
    expect(parseCommandLine(['--save', '--port', '1']).options).to.equal('save "" \nport "1" ');
    const file = join(dir, 'r.conf');
    writeFileSync(file, 'port 7000\ntimeout 3\n');
    const c = configFromArgs([file, '--port', '7100', '--save', '', '--dir', dir]);
    expect(c.get('port')).to.equal('7100');
    expect(c.get('timeout')).to.equal('3');
    expect(c.get('save')).to.equal('');
    expect(c.get('dir')).to.equal(dir);
    expect(c.configFile).to.equal(file);
  });

  it('CONFIG SET is atomic over several pairs and uses Redis error texts', () => {
    const c = new Config();
    expect(c.setMany([['timeout', '5'], ['maxclients', 'x']])).to.equal(
      "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer");
    expect(c.get('timeout')).to.equal('0');
    expect(c.setMany([['port', '70000']])).to.equal("ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive");
    expect(c.setMany([['daemonize', 'yes']])).to.equal("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
    // Server code may record immutable values (REPLICAOF keeps replicaof current for CONFIG REWRITE).
    c.set('replicaof', '127.0.0.1 7000');
    expect(c.get('slaveof')).to.equal('127.0.0.1 7000');
    expect(c.setMany([['nope', '1']])).to.equal("ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
    expect(c.setMany([['timeout', '5'], ['maxclients', '50']])).to.equal(undefined);
    expect(c.getMatching(['timeout', 'maxc*'])).to.deep.equal([['timeout', '5'], ['maxclients', '50']]);
  });

  it('a listener that refuses a change rolls every staged value back', () => {
    const c = new Config();
    c.onChange((name) => {
      if (name === 'maxclients') throw new Error('refused');
    });
    expect(c.setMany([['timeout', '9'], ['maxclients', '5']])).to.match(/refused/);
    expect(c.get('timeout')).to.equal('0');
  });

  it('lets other modules register directives', () => {
    registerDirective({ name: 'test-owner-directive', type: 'int', default: '3', min: 1, max: 5 });
    const c = new Config();
    c.loadString('test-owner-directive 4');
    expect(c.getNumber('test-owner-directive')).to.equal(4);
    expect(c.setMany([['test-owner-directive', '9']])).to.match(/between 1 and 5/);
  });

  it('CONFIG REWRITE keeps comments and unknown lines, rewrites in place, appends new directives', () => {
    const file = join(dir, 'redis.conf');
    writeFileSync(file, '# keep me\nport 7000\nweird-directive yes\ntimeout 1\ntimeout 2\n');
    const c = new Config();
    c.loadFile(file);
    c.set('timeout', '30');
    c.set('maxmemory-policy', 'allkeys-lru');
    c.set('requirepass', 'p w');
    expect(c.rewrite()).to.equal(undefined);
    const text = readFileSync(file, 'latin1');
    expect(text).to.equal('# keep me\nport 7000\nweird-directive yes\ntimeout 30\n\n# Generated by CONFIG REWRITE\nrequirepass "p w"\nmaxmemory-policy allkeys-lru\nsave 3600 1 300 100 60 10000\n');
    // A second rewrite with no change is stable.
    c.rewrite();
    expect(readFileSync(file, 'latin1')).to.equal(text);
    const reread = new Config();
    reread.loadFile(file);
    expect(reread.get('requirepass')).to.equal('p w');
    expect(reread.get('timeout')).to.equal('30');
    expect(new Config().rewrite()).to.equal('ERR The server is running without a config file');
  });
});
