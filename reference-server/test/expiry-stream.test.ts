/**
 * What expired keys put in the replication stream, compared with Redis 7.0.15 itself: a full sync carries expired
 * keys in its RDB without deleting them (no DEL, no expired_keys), and SCAN's lazy expiry sends plain DELs, never
 * wrapped in MULTI/EXEC. The same steps run against Debian's redis-server and the reference server.
 */
import { expect } from 'chai';
import net from 'node:net';
import { startRealRedis, startRefInProcess, type RunningServer } from './util/servers.js';
import { waitFor } from './fixtures/repl-kit.js';
import { FrameClient } from './util/frame-client.js';

/** A raw replication client: sends SYNC, keeps the RDB payload, then collects the command stream. */
class SyncReader {
  private buf = Buffer.alloc(0);
  payload: Buffer | undefined;
  private readonly sock: net.Socket;
  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.takePayload();
    });
    this.sock.write('SYNC\r\n');
  }
  private takePayload(): void {
    if (this.payload) return;
    // Newlines before the bulk header are keep-alives.
    while (this.buf[0] === 0x0a) this.buf = this.buf.subarray(1);
    const eol = this.buf.indexOf('\r\n');
    if (eol < 0 || this.buf[0] !== 0x24) return;
    const len = Number(this.buf.subarray(1, eol).toString());
    if (this.buf.length < eol + 2 + len) return;
    this.payload = this.buf.subarray(eol + 2, eol + 2 + len);
    this.buf = this.buf.subarray(eol + 2 + len);
  }
  /** The commands received after the payload, as lower-case words joined by spaces. */
  commands(): string[] {
    const out: string[] = [];
    let i = 0;
    const b = this.buf;
    for (;;) {
      if (b[i] !== 0x2a) break;
      const e = b.indexOf('\r\n', i);
      if (e < 0) break;
      const n = Number(b.subarray(i + 1, e).toString());
      let j = e + 2;
      const words: string[] = [];
      for (let k = 0; k < n; k++) {
        const e2 = b.indexOf('\r\n', j);
        if (e2 < 0) return out;
        const len = Number(b.subarray(j + 1, e2).toString());
        if (b.length < e2 + 2 + len + 2) return out;
        words.push(b.subarray(e2 + 2, e2 + 2 + len).toString('latin1').toLowerCase());
        j = e2 + 2 + len + 2;
      }
      out.push(words.join(' '));
      i = j;
    }
    return out;
  }
  close(): void {
    this.sock.destroy();
  }
}

for (const target of ['redis-server', 'reference'] as const) {
  describe(`expired keys in the replication stream [${target}]`, function () {
    this.timeout(20_000);
    let srv: RunningServer | undefined;
    const readers: SyncReader[] = [];
    before(async () => {
      srv = target === 'redis-server' ? await startRealRedis(['--enable-debug-command', 'yes']) : await startRefInProcess(['--enable-debug-command', 'yes']);
    });
    after(async () => {
      for (const r of readers) r.close();
      await srv?.stop();
    });

    it('a full sync carries expired keys without deleting them; SCAN then sends unwrapped DELs', async () => {
      const port = srv!.port;
      const c = await FrameClient.open(port);
      const call = (...argv: string[]) => c.send(...argv);
      await call('CONFIG', 'SET', 'repl-ping-replica-period', '3600');
      await call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
      await call('SET', 'gone1', 'v', 'PX', '1');
      await call('SET', 'gone2', 'v', 'PX', '1');
      const setAt = Date.now();
      await waitFor('the keys to be past their expiry', () => Date.now() > setAt + 5 || undefined);
      const r = new SyncReader(port);
      readers.push(r);
      await waitFor('the RDB payload', () => r.payload);
      const rdb = r.payload!.toString('latin1');
      expect(rdb, 'the expired keys are in the RDB').to.contain('gone1').and.to.contain('gone2');
      expect(await call('INFO', 'stats')).to.match(/expired_keys:0\r\n/);
      expect(await call('SCAN', '0')).to.deep.equal(['0', []]);
      const stream = await waitFor('the DELs', () => (r.commands().filter((c) => c.startsWith('del')).length === 2 ? r.commands() : undefined));
      expect(stream.filter((c) => c !== 'ping')).to.have.members(['select 0', 'del gone1', 'del gone2']);
      expect(stream).to.not.include('multi');
      await call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
      c.close();
    });
  });
}
