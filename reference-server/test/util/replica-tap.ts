/** A fake replica for tests: PSYNC ? -1 for a full resync, then the RDB payload and the command stream that follows. */
import net from 'node:net';
import { waitFor } from '../fixtures/repl-kit.js';
import { frameEnd } from './resp-client.js';

const PING = '*1\r\n$4\r\nPING\r\n';

export class ReplicaTap {
  private data = '';
  private payloadStart = -1;
  private payloadEnd = -1;

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.data += d;
    });
    sock.on('error', () => undefined);
  }

  /** Connects, announces itself and waits for the whole RDB payload (no "capa eof": a plain $<len> payload). */
  static async open(port: number): Promise<ReplicaTap> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const tap = new ReplicaTap(sock);
    sock.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n9999\r\n');
    // redis-server refuses PSYNC while an earlier reply is still pending, so wait for REPLCONF's.
    await waitFor('REPLCONF +OK', () => tap.data.startsWith('+OK\r\n') || undefined, 10_000, 10);
    sock.write('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
    // redis-server sends bare newlines as keep-alives while it prepares the RDB.
    await waitFor('FULLRESYNC and the whole RDB payload', () => {
      const m = /\+FULLRESYNC [0-9a-f]{40} \d+\r\n\n*\$(\d+)\r\n/.exec(tap.data);
      if (!m) return undefined;
      const start = m.index + m[0].length;
      if (tap.data.length < start + Number(m[1])) return undefined;
      tap.payloadStart = start;
      tap.payloadEnd = start + Number(m[1]);
      return true;
    }, 10_000, 10);
    return tap;
  }

  /** The RDB payload, one char per byte. */
  get payload(): string {
    return this.data.slice(this.payloadStart, this.payloadEnd);
  }

  /** Commands streamed so far, as raw frames, without the master's keep-alive PINGs. */
  frames(): string[] {
    const out: string[] = [];
    let p = this.payloadEnd;
    for (;;) {
      const e = frameEnd(this.data, p);
      if (e < 0) break;
      const f = this.data.slice(p, e);
      if (f !== PING) out.push(f);
      p = e;
    }
    return out;
  }

  close(): void {
    this.sock.destroy();
  }
}
