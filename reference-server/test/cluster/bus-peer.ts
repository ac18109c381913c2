/** Test helpers: a raw cluster-bus endpoint that speaks the codec, and ports whose bus port (+10000) is free too. */
import net from 'node:net';
import { FrameReader, decodeMessage, type ClusterMessage } from '../../cluster/codec.js';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A loopback port P in 20000-22767 with P and P + 10000 both free (cluster mode binds both). */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // P and P + 10000 both below Linux's ephemeral range (32768 up): no outgoing connection can take one of them
    // between this check and the node's bind.
    const port = 20000 + Math.floor(Math.random() * 2768);
    if ((await canListen(port)) && (await canListen(port + 10000))) return port;
  }
  throw new Error('no free port pair (P, P+10000) found');
}

/** One bus connection: raw frames as received (for byte comparisons) and their decoding. */
export class BusPeer {
  readonly frames: Buffer[] = [];
  closed = false;
  private readonly reader = new FrameReader();
  private waiters: Array<() => void> = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      for (const f of this.reader.push(d)) this.frames.push(f);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<BusPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new BusPeer(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next raw frame whose type is one of `types`, skipping others; throws at the deadline. */
  async nextRaw(types: number[], timeoutMs = 10000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.frames.length) {
        const f = this.frames.shift()!;
        if (types.includes(f.readUInt16BE(12))) return f;
      }
      if (this.closed) throw new Error('bus link closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no bus message of type ${types.join('/')} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async next(types: number[], timeoutMs = 10000): Promise<{ raw: Buffer; message: ClusterMessage }> {
    const raw = await this.nextRaw(types, timeoutMs);
    const r = decodeMessage(raw);
    if (!r.ok) throw new Error(`undecodable message: ${r.reason}`);
    return { raw, message: r.message };
  }

  /** Resolves true once the peer closed the connection, false at the deadline. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
