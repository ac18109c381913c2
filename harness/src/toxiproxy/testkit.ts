/**
 * Helpers for the toxiproxy tests (and anyone checking a proxy by hand): a loopback TCP echo upstream,
 * a client that records what arrives and when, and condition waits with deadlines instead of sleeps.
 */
import net from 'node:net';
import { connectWithin } from '../clients/tcp.js';

/** Polls `cond` until true; throws naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface EchoServer {
  port: number;
  address: string;
  /** Bytes each accepted connection received, in accept order. */
  received: number[];
  /** Accepted connections that have closed. */
  closed: number;
  accepted: number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that writes back whatever it reads and closes when its peer does. */
export async function startEchoServer(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const state = { received: [] as number[], closed: 0, accepted: 0 };
  const server = net.createServer((s) => {
    const i = state.received.length;
    state.received.push(0);
    state.accepted++;
    sockets.add(s);
    s.on('data', (d: Buffer) => {
      state.received[i] = (state.received[i] ?? 0) + d.length;
      s.write(d);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      state.closed++;
      sockets.delete(s);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, {
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

export interface ChunkAt {
  data: Buffer;
  at: number;
}

/** A client socket that records every chunk with its arrival time, its end, close and error. */
export class RecordingClient {
  readonly chunks: ChunkAt[] = [];
  endedAt: number | undefined;
  closedAt: number | undefined;
  error: NodeJS.ErrnoException | undefined;
  connectedAt: number | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (data: Buffer) => this.chunks.push({ data, at: performance.now() }));
    socket.on('end', () => (this.endedAt = performance.now()));
    socket.on('close', () => (this.closedAt = performance.now()));
    socket.on('error', (e: NodeJS.ErrnoException) => (this.error = e));
  }

  static async connect(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<RecordingClient> {
    const c = new RecordingClient(await connectWithin(host, port, timeoutMs));
    c.connectedAt = performance.now();
    return c;
  }

  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.data.length, 0);
  }

  get text(): string {
    return Buffer.concat(this.chunks.map((c) => c.data)).toString('latin1');
  }

  /** Time at which the total received reached n bytes. */
  async waitBytes(n: number, timeoutMs: number): Promise<number> {
    await waitFor(() => this.bytes >= n || this.closedAt !== undefined, timeoutMs, `${n} bytes (have ${this.bytes})`);
    if (this.bytes < n) throw new Error(`connection closed after ${this.bytes} of ${n} bytes`);
    let total = 0;
    for (const c of this.chunks) {
      total += c.data.length;
      if (total >= n) return c.at;
    }
    throw new Error('unreachable');
  }

  async waitClosed(timeoutMs: number): Promise<number> {
    await waitFor(() => this.closedAt !== undefined, timeoutMs, 'the connection to close');
    return this.closedAt as number;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A port nobody listens on right now (bound and released), for refused-connection checks. */
export async function unusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Resolves with the connect error code (e.g. ECONNREFUSED), or undefined if the connect succeeded. */
export function connectError(port: number, host = '127.0.0.1'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
