/**
 * The cluster bus's sockets: the listener on the bus port and one ClusterLink per connection (clusterLink in
 * cluster.h). A link frames incoming bytes into whole messages and hands them to its owner; a framing error, an I/O
 * error or the peer closing frees the link, as handleLinkIOError does.
 */
import net from 'node:net';
import { BusFramingError, FrameReader } from './codec.js';
import type { ClusterNode, LinkHandle } from './nodes.js';

export interface LinkOwner {
  /** A whole message arrived; return false if the link was freed while processing it. */
  onMessage(link: ClusterLink, message: Buffer): boolean;
  /** An outbound connection is established (send the first PING / MEET). */
  onConnected(link: ClusterLink): void;
  /** The link is gone (error, close, framing error, or close() called); detach it from its node. */
  onFreed(link: ClusterLink): void;
  log(level: 'debug' | 'verbose' | 'notice' | 'warning', msg: string): void;
}

export class ClusterLink implements LinkHandle {
  readonly ctime = Date.now();
  /** Bytes queued on the socket and not yet written (CLUSTER LINKS send-buffer-used). */
  sendBufferPeak = 0;
  freed = false;
  /** An outbound link's connection was established. */
  connected = false;
  private readonly reader = new FrameReader();

  constructor(
    readonly socket: net.Socket,
    readonly inbound: boolean,
    public node: ClusterNode | null,
    private readonly owner: LinkOwner,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => {
      owner.log('debug', `I/O error on node link: ${e.message}`);
      this.close();
    });
    socket.on('close', () => this.close());
    if (!inbound) {
      socket.once('connect', () => {
        this.connected = true;
        if (!this.freed) owner.onConnected(this);
      });
    } else {
      this.connected = true;
    }
  }

  private onData(chunk: Buffer): void {
    if (this.freed) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      if (e instanceof BusFramingError) this.owner.log('warning', e.message);
      this.close();
      return;
    }
    for (const f of frames) {
      if (this.freed || !this.owner.onMessage(this, f)) return;
    }
  }

  /** Bytes handed to the socket but not yet flushed. */
  get sendBufferUsed(): number {
    return this.socket.writableLength;
  }

  send(bytes: Buffer): void {
    if (this.freed) return;
    this.socket.write(bytes);
    if (this.socket.writableLength > this.sendBufferPeak) this.sendBufferPeak = this.socket.writableLength;
  }

  /** freeClusterLink: close the socket and detach from the node; idempotent. */
  close(): void {
    if (this.freed) return;
    this.freed = true;
    this.socket.destroy();
    this.owner.onFreed(this);
  }
}

/** The bus listener(s): one per bind address, on the bus port. */
export class BusListener {
  private servers: net.Server[] = [];

  constructor(private readonly onInbound: (socket: net.Socket) => void) {}

  async listen(port: number, addresses: string[]): Promise<void> {
    for (const addr of addresses) {
      const server = net.createServer((s) => this.onInbound(s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, addr, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
    }
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.servers = [];
  }
}

/** The socket's own address without an IPv4-mapped prefix (connSockName). */
export function localIp(socket: net.Socket): string {
  return stripMapped(socket.localAddress ?? '');
}

/** The peer's address without an IPv4-mapped prefix (connPeerToString). */
export function peerIp(socket: net.Socket): string {
  return stripMapped(socket.remoteAddress ?? '');
}

function stripMapped(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
