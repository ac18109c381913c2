/** DEBUG REPLY-FAULT: chosen commands or keys answered with Redis's own error replies, seeded and counted. */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RespClient } from './util/resp-client.js';
import { startRefInProcess, type RunningServer } from './util/servers.js';
import { keyHashSlot } from '../cluster/keyslot.js';
import { waitFor } from './util/wait.js';

const err = (line: string): string => `-${line}\r\n`;

describe('reference server: DEBUG REPLY-FAULT', function () {
  this.timeout(30000);
  let srv: RunningServer;
  let c: RespClient;
  before(async () => {
    srv = await startRefInProcess(['--enable-debug-command', 'yes']);
    c = await RespClient.connect(srv.port);
  });
  afterEach(async () => {
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'OFF'])).to.equal('+OK\r\n');
  });
  after(async () => {
    c.close();
    await srv.stop();
  });

  it('answers a matching command with each kind in Redis 7.0.15 words, in its place: the command does not run', async () => {
    const texts: Record<string, string> = {
      tryagain: 'TRYAGAIN Multiple keys request during rehashing of slot',
      clusterdown: 'CLUSTERDOWN The cluster is down',
      loading: 'LOADING Redis is loading the dataset in memory',
      busy: 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
      masterdown: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      readonly: "READONLY You can't write against a read only replica.",
    };
    for (const [kind, text] of Object.entries(texts)) {
      expect(await c.call(['DEBUG', 'REPLY-FAULT', kind.toUpperCase(), 'COMMAND', 'set'])).to.equal('+OK\r\n');
      expect(await c.call(['SET', `rf:${kind}`, 'v'])).to.equal(err(text));
      expect(await c.call(['GET', `rf:${kind}`])).to.equal('$-1\r\n');
      expect(await c.call(['DEBUG', 'REPLY-FAULT', 'OFF'])).to.equal('+OK\r\n');
      expect(await c.call(['SET', `rf:${kind}`, 'v'])).to.equal('+OK\r\n');
    }
  });

  it('MOVED and ASK carry the key slot and the address the client connected to, or the TO address', async () => {
    const key = 'user:{42}:name';
    await c.call(['DEBUG', 'REPLY-FAULT', 'MOVED', 'KEY', 'user:*']);
    expect(await c.call(['GET', key])).to.equal(err(`MOVED ${keyHashSlot(key)} 127.0.0.1:${srv.port}`));
    expect(await c.call(['GET', 'other'])).to.equal('$-1\r\n');
    await c.call(['DEBUG', 'REPLY-FAULT', 'OFF']);
    await c.call(['DEBUG', 'REPLY-FAULT', 'ASK', 'KEY', '*', 'TO', '127.0.0.9:7001']);
    expect(await c.call(['SET', 'k1', 'v'])).to.equal(err(`ASK ${keyHashSlot('k1')} 127.0.0.9:7001`));
    // A command without keys is never matched by a KEY rule.
    expect(await c.call(['PING'])).to.equal('+PONG\r\n');
  });

  it('COUNT bounds the answers, then commands run again; STATS tells what matched and what was answered', async () => {
    await c.call(['DEBUG', 'REPLY-FAULT', 'LOADING', 'COMMAND', 'incr', 'COUNT', '3']);
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push((await c.call(['INCR', 'rf:count'])) ?? '');
    expect(replies).to.deep.equal([...Array(3).fill(err('LOADING Redis is loading the dataset in memory')), ':1\r\n', ':2\r\n']);
    const stats = await c.call(['DEBUG', 'REPLY-FAULT', 'STATS']);
    expect(stats).to.match(/kind=loading match=command pattern=incr probability=1 seed=\d+ matched=3 injected=3 remaining=0/);
  });

  it('PROBABILITY with a SEED replays the same sequence of answers, and answers about that share', async () => {
    const run = async (): Promise<string> => {
      await c.call(['DEBUG', 'REPLY-FAULT', 'TRYAGAIN', 'COMMAND', 'get', 'PROBABILITY', '0.3', 'SEED', '12345']);
      let seq = '';
      for (let i = 0; i < 400; i++) seq += (await c.call(['GET', 'rf:p'])) === '$-1\r\n' ? '.' : 'x';
      await c.call(['DEBUG', 'REPLY-FAULT', 'OFF']);
      return seq;
    };
    const a = await run();
    const b = await run();
    expect(a).to.equal(b);
    const share = a.split('').filter((ch) => ch === 'x').length / a.length;
    expect(share).to.be.within(0.2, 0.4);
  });

  it('a fault on a command queued in MULTI flags the transaction: EXEC answers EXECABORT', async () => {
    await c.call(['DEBUG', 'REPLY-FAULT', 'MOVED', 'COMMAND', 'set']);
    expect(await c.call(['MULTI'])).to.equal('+OK\r\n');
    expect(await c.call(['SET', 'rf:multi', 'v'])).to.match(/^-MOVED \d+ 127\.0\.0\.1:\d+\r\n$/);
    expect(await c.call(['EXEC'])).to.equal(err('EXECABORT Transaction discarded because of previous errors.'));
  });

  it('never answers DEBUG itself, so COMMAND * can always be switched off', async () => {
    await c.call(['DEBUG', 'REPLY-FAULT', 'BUSY', 'COMMAND', '*']);
    expect(await c.call(['PING'])).to.match(/^-BUSY /);
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'STATS'])).to.match(/kind=busy/);
  });

  it('bad arguments get one clear error line each', async () => {
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'NOPE', 'COMMAND', 'get'])).to.match(/^-ERR unknown reply fault 'NOPE', expected one of moved, ask, tryagain/);
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'LOADING', 'KEYS', 'x'])).to.match(/^-ERR expected KEY or COMMAND, got 'KEYS'/);
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'LOADING', 'KEY', 'x', 'PROBABILITY', '2'])).to.match(/^-ERR PROBABILITY must be a number from 0 to 1/);
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'LOADING', 'KEY', 'x', 'COUNT', '0'])).to.match(/^-ERR COUNT must be a positive integer/);
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'LOADING', 'KEY', 'x', 'TO', 'h:1'])).to.equal(err('ERR TO applies only to MOVED and ASK'));
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'MOVED', 'KEY', 'x', 'TO', 'nohost'])).to.match(/^-ERR TO must be host:port/);
    expect(await c.call(['DEBUG', 'REPLY-FAULT', 'STATS'])).to.equal('*0\r\n');
  });

  it('a client library sees each reply as the error it is (ioredis: a ReplyError with the text)', async () => {
    const io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await io.connect();
      await c.call(['DEBUG', 'REPLY-FAULT', 'READONLY', 'KEY', 'ro:*', 'COUNT', '1']);
      let message = '';
      await io.set('ro:1', 'v').catch((e: Error) => (message = e.message));
      expect(message).to.equal("READONLY You can't write against a read only replica.");
      expect(await io.set('ro:1', 'v')).to.equal('OK');
    } finally {
      io.disconnect();
    }
  });

  it('the replication stream from a master is never answered with a fault', async () => {
    const replica = await startRefInProcess(['--enable-debug-command', 'yes', '--replicaof', '127.0.0.1', String(srv.port)]);
    const r = await RespClient.connect(replica.port);
    try {
      await waitFor('the replica link', async () => /master_link_status:up/.test((await r.call(['INFO', 'replication'])) ?? ''));
      // The rule stays on while the stream's SET arrives: only the replica's own clients may see it.
      expect(await r.call(['DEBUG', 'REPLY-FAULT', 'MASTERDOWN', 'COMMAND', 'set'])).to.equal('+OK\r\n');
      await c.call(['SET', 'rf:repl', 'from-master']);
      await waitFor('the key on the replica', async () => (await r.call(['GET', 'rf:repl'])) === '$11\r\nfrom-master\r\n');
      expect(await r.call(['SET', 'rf:own', 'v'])).to.match(/^-MASTERDOWN /);
    } finally {
      r.close();
      await replica.stop();
    }
  });

  it('is refused like every DEBUG subcommand when enable-debug-command is no', async () => {
    const plain = await startRefInProcess([]);
    const p = await RespClient.connect(plain.port);
    try {
      expect(await p.call(['DEBUG', 'REPLY-FAULT', 'LOADING', 'COMMAND', 'get'])).to.match(/^-ERR DEBUG command not allowed/);
    } finally {
      p.close();
      await plain.stop();
    }
  });
});
