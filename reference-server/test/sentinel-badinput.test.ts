/**
 * Bad input never crashes a reference Sentinel nor makes it fail over a healthy master: malformed hello messages
 * (on the master's hello channel and published to the Sentinel), a peer that lies in its is-master-down-by-addr
 * replies and asks for votes with absurd epochs, and garbage bytes on the Sentinel's own port.
 */
import { expect } from 'chai';
import net from 'node:net';
import { client, rawCommand, removeDir, startReal, waitFor, type RealNode } from './fixtures/repl-kit.js';
import { eventsOf, fields, startSentinel, type SentinelNode } from './fixtures/sentinel-kit.js';
import { freePort } from './util/servers.js';

const FAKE_ID = 'f'.repeat(40);

/** A "Sentinel" that answers PING, claims every master is down with a vote for itself, and sends junk otherwise. */
function startLiar(): Promise<{ close: () => Promise<void>; port: number; received: string[][] }> {
  const received: string[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (!m) return;
        let pos = m[0].length;
        const argv: string[] = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const h = /^\$(\d+)\r\n/.exec(buf.slice(pos));
          if (!h) return;
          const start = pos + h[0].length;
          if (buf.length < start + Number(h[1]) + 2) return;
          argv.push(buf.slice(start, start + Number(h[1])));
          pos = start + Number(h[1]) + 2;
        }
        buf = buf.slice(pos);
        received.push(argv);
        const cmd = argv[0]!.toUpperCase();
        if (cmd === 'PING') {
          // PONG, then an unsolicited "master is down, vote for me" reply nobody asked for.
          sock.write(`+PONG\r\n*3\r\n:1\r\n$40\r\n${FAKE_ID}\r\n:999999\r\n`);
        } else if (cmd === 'SENTINEL') {
          sock.write(`*3\r\n:1\r\n$40\r\n${FAKE_ID}\r\n:999999\r\n`);
        } else if (cmd === 'PUBLISH') {
          sock.write('*2\r\n:1\r\n$3\r\nlie\r\n');
        } else {
          sock.write('$5\r\nhello\r\n');
        }
      }
    });
  });
  const close = () => new Promise<void>((resolve) => {
    for (const sock of sockets) sock.destroy();
    server.close(() => resolve());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ close, port: (server.address() as net.AddressInfo).port, received })));
}

describe('sentinel: bad input never crashes a reference Sentinel or fails over a healthy master', function () {
  this.timeout(120000);
  let master: RealNode;
  let sentinel: SentinelNode;
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('survives malformed hellos, a lying peer and garbage on its port', async () => {
    master = await startReal(await freePort());
    cleanup.push(async () => { await master.stop(); removeDir(master.dir); });
    const sentinelPort = await freePort();
    sentinel = await startSentinel('ref', sentinelPort, [
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 2`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 5000',
    ]);
    cleanup.push(async () => { await sentinel.stop(); removeDir(sentinel.dir); });
    const liar = await startLiar();
    cleanup.push(() => liar.close());

    const m = client(master.port);
    cleanup.push(async () => { m.disconnect(); });
    const malformed = [
      '', 'a,b,c', ',,,,,,,', `127.0.0.1,1,${FAKE_ID},0,nosuchmaster,127.0.0.1,1,0`,
      `127.0.0.1,zzz,${FAKE_ID.replace(/f/g, 'e')},-5,mymaster,127.0.0.1,notaport,abc`,
      `127.0.0.1,${liar.port},${FAKE_ID},0,mymaster`, 'x'.repeat(100000), ','.repeat(10000), '\u0000\u00ff\r\n*3\r\n',
      `127.0.0.1,${liar.port},${FAKE_ID},0,mymaster,127.0.0.1,${master.port},0,extra`,
    ];
    // The liar announces itself properly so our Sentinel links to it; junk hellos travel both ways in.
    const announce = `127.0.0.1,${liar.port},${FAKE_ID},0,mymaster,127.0.0.1,${master.port},0`;
    const s = sentinel.client;
    let rounds = 0;
    await waitFor('the liar was discovered and has been pinged and asked several times', async () => {
      rounds++;
      await m.publish('__sentinel__:hello', announce);
      for (const h of malformed) {
        await m.publish('__sentinel__:hello', h);
        await s.call('PUBLISH', '__sentinel__:hello', h);
      }
      // The liar asks us for votes with absurd or invalid epochs.
      await s.call('SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', String(master.port), '0', FAKE_ID);
      expect(await s.call('SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', String(master.port), '-1', FAKE_ID)).to.deep.equal([0, '*', 0]);
      await s.call('SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', 'x', '1', FAKE_ID).catch((e: Error) => expect(e.message).to.contain('not an integer'));
      // Garbage on the Sentinel's own port: the connection is dropped with a protocol error, nothing else.
      const reply = await rawCommand(sentinelPort, '*1\r\n$999999999999\r\n', 2000).catch(() => '');
      expect(reply === '' || reply.startsWith('-ERR Protocol error')).to.equal(true);
      await rawCommand(sentinelPort, '\u0000\u0001\u00ff garbage *-5 $abc\r\n', 2000).catch(() => '');
      const pings = liar.received.filter((a) => a[0] === 'PING').length;
      const peers = ((await s.call('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[]).map(fields);
      // Five pings at one per second: the liar's lies and junk have had time to arrive several times.
      return pings >= 5 && peers.some((p) => p.get('runid') === FAKE_ID);
    }, 60000, 500);
    expect(rounds).to.be.greaterThan(1);

    // Still alive, still answering, and the healthy master is still the master, never down, never failed over.
    expect(sentinel.child.exitCode).to.equal(null);
    expect(await s.call('PING')).to.equal('PONG');
    const mm = fields(await s.call('SENTINEL', 'MASTER', 'mymaster'));
    expect(mm.get('flags')).to.equal('master');
    expect(await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')).to.deep.equal(['127.0.0.1', String(master.port)]);
    // (The hello with port "zzz" names a Sentinel at port 0, which is down: only the master's events matter.)
    expect(eventsOf(sentinel, '+sdown').filter((e) => e.msg.startsWith('master '))).to.deep.equal([]);
    for (const type of ['+odown', '+try-failover', '+elected-leader', '+switch-master']) {
      expect(eventsOf(sentinel, type), type).to.deep.equal([]);
    }
    // The malformed hellos added no Sentinel besides the liar (and the 8-token one for a real master with a bad port).
    const peers = ((await s.call('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[]).map(fields);
    expect(peers.map((p) => p.get('runid'))).to.include(FAKE_ID);
    expect(peers.every((p) => p.get('runid') === FAKE_ID || p.get('runid') === FAKE_ID.replace(/f/g, 'e'))).to.equal(true);
    // Only hello messages are accepted on PUBLISH; other commands get Redis's errors.
    await s.call('PUBLISH', 'other', 'x').then(() => expect.fail('PUBLISH to another channel succeeded'), (e: Error) =>
      expect(e.message).to.equal('ERR Only HELLO messages are accepted by Sentinel instances.'));
    await s.call('GET', 'x').then(() => expect.fail('GET succeeded'), (e: Error) =>
      expect(e.message).to.equal("ERR unknown command 'GET', with args beginning with: 'x' "));
    expect(await s.call('ROLE')).to.deep.equal(['sentinel', ['mymaster']]);
  });
});
