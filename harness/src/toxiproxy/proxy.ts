/**
 * A Toxiproxy proxy: a TCP listener that dials its upstream for each client, the toxics of both directions,
 * and the live connections those toxics act on.
 */
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { ApiError } from './decode.js';
import { Connection, type LinkEnv } from './link.js';
import { toxicToJson, type Direction, type ToxicConfig, type ToxicJson } from './toxics.js';

export interface ProxyEnv extends LinkEnv {
  log: (line: string) => void;
}

export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
}

export class AlreadyStarted extends Error {}

interface HostPort {
  host: string;
  port: number;
}

/** Splits "host:port" like Go's net.SplitHostPort; throws Go's wording on a malformed address. */
export function splitHostPort(addr: string): HostPort {
  // Go's net.Listen("tcp", "") means every interface, any port.
  if (addr === '') return { host: '', port: 0 };
  let host: string;
  let portText: string;
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    if (end < 0) throw new Error(`address ${addr}: missing ']' in address`);
    host = addr.slice(1, end);
    if (addr[end + 1] !== ':') throw new Error(`address ${addr}: missing port in address`);
    portText = addr.slice(end + 2);
  } else {
    const i = addr.lastIndexOf(':');
    if (i < 0) throw new Error(`address ${addr}: missing port in address`);
    host = addr.slice(0, i);
    if (host.includes(':')) throw new Error(`address ${addr}: too many colons in address`);
    portText = addr.slice(i + 1);
  }
  const port = portText === '' ? 0 : Number(portText);
  if (!/^\d*$/.test(portText) || !Number.isInteger(port) || port > 65535) throw new Error(`lookup tcp/${portText}: unknown port`);
  return { host, port };
}

function formatAddr(ip: string, port: number): string {
  if (ip === '') return `:${port}`;
  return net.isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

async function resolveHost(host: string): Promise<string> {
  if (host === '' || net.isIP(host) !== 0) return host;
  if (host === 'localhost') return '127.0.0.1';
  try {
    return (await lookup(host, { order: 'ipv4first' })).address;
  } catch {
    throw new Error(`lookup ${host}: no such host`);
  }
}

/** Go's net.ResolveTCPAddr(...).String(), used to decide whether an update changes the listen address. */
export async function resolveTcpAddr(addr: string): Promise<string> {
  try {
    const hp = splitHostPort(addr);
    return formatAddr(await resolveHost(hp.host), hp.port);
  } catch (e) {
    throw new ApiError(e instanceof Error ? e.message : String(e), 500);
  }
}

const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EAFNOSUPPORT: 'address family not supported by protocol',
};

function listenOn(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export class Proxy {
  enabled = false;
  readonly chains: Record<Direction, ToxicConfig[]> = { upstream: [], downstream: [] };
  private server: net.Server | null = null;
  private readonly conns = new Set<Connection>();
  private readonly dialing = new Set<net.Socket>();

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly env: ProxyEnv,
  ) {}

  toJson(): ProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, toxics: this.toxics().map(toxicToJson) };
  }

  connectionCount(): number {
    return this.conns.size;
  }

  /** Listens on `listen`; throws a 500 ApiError with Go's bind error text when it cannot. */
  async start(): Promise<void> {
    if (this.enabled) throw new AlreadyStarted('Proxy already started');
    let hp: HostPort;
    let ip: string;
    try {
      hp = splitHostPort(this.listen);
      ip = await resolveHost(hp.host);
    } catch (e) {
      throw new ApiError(`listen tcp: ${e instanceof Error ? e.message : String(e)}`, 500);
    }
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => this.accept(server, c));
    // Go listens dual-stack on a wildcard address and reports it as [::].
    const wildcard = ip === '' || ip === '0.0.0.0' || ip === '::';
    try {
      try {
        await listenOn(server, wildcard ? '::' : ip, hp.port);
      } catch (e) {
        if (!wildcard || (e as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw e;
        await listenOn(server, '0.0.0.0', hp.port);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const text = ERRNO_TEXT[code] ?? (e instanceof Error ? e.message : String(e));
      throw new ApiError(`listen tcp ${formatAddr(ip, hp.port)}: bind: ${text}`, 500);
    }
    const a = server.address() as net.AddressInfo;
    this.listen = formatAddr(a.address, a.port);
    this.server = server;
    this.enabled = true;
    this.env.log(`Started proxy name=${this.name} listen=${this.listen} upstream=${this.upstream}`);
  }

  /** Closes the listener and every connection on both sides. */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.server as net.Server;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of [...this.conns]) c.destroy();
    this.conns.clear();
    for (const s of [...this.dialing]) s.destroy();
    this.dialing.clear();
    await closed;
    this.env.log(`Terminated proxy name=${this.name}`);
  }

  async differs(listen: string, upstream: string): Promise<boolean> {
    return this.listen !== (await resolveTcpAddr(listen)) || this.upstream !== upstream;
  }

  /** Toxiproxy's Proxy.Update: a new address restarts the listener; `enabled` starts or stops it. */
  async update(input: { listen: string; upstream: string; enabled: boolean }): Promise<void> {
    if (await this.differs(input.listen, input.upstream)) {
      await this.stop();
      this.listen = input.listen;
      this.upstream = input.upstream;
    }
    if (input.enabled !== this.enabled) {
      if (input.enabled) await this.start();
      else await this.stop();
    }
  }

  private accept(server: net.Server, client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.server !== server) {
      client.destroy();
      return;
    }
    this.env.log(`Accepted client name=${this.name} client=${client.remoteAddress}:${client.remotePort}`);
    let target: HostPort;
    try {
      target = splitHostPort(this.upstream);
    } catch {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: target.host === '' ? 'localhost' : target.host, port: target.port, allowHalfOpen: true });
    upstream.pause();
    this.dialing.add(client);
    this.dialing.add(upstream);
    let connected = false;
    upstream.once('error', (e) => {
      if (connected) return;
      this.dialing.delete(client);
      this.dialing.delete(upstream);
      this.env.log(`Unable to open connection to upstream name=${this.name} upstream=${this.upstream}: ${e.message}`);
      // The client sees its connect succeed, then EOF.
      client.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      this.dialing.delete(client);
      this.dialing.delete(upstream);
      if (this.server !== server || client.destroyed) {
        client.destroy();
        upstream.destroy();
        return;
      }
      const conn = new Connection(client, upstream, [...this.chains.upstream], [...this.chains.downstream], this.env, (c) => this.conns.delete(c));
      this.conns.add(conn);
      conn.start();
    });
  }

  toxics(): ToxicConfig[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  findToxic(name: string): ToxicConfig | undefined {
    return this.toxics().find((t) => t.name === name);
  }

  addToxic(t: ToxicConfig): void {
    this.chains[t.direction].push(t);
    for (const c of [...this.conns]) c.link(t.direction).addToxic(t);
  }

  /** The toxic was changed in place; every connection restarts it with the new settings. */
  updatedToxic(t: ToxicConfig): void {
    for (const c of [...this.conns]) c.link(t.direction).updateToxic(t);
  }

  removeToxic(t: ToxicConfig): void {
    const chain = this.chains[t.direction];
    const i = chain.indexOf(t);
    if (i < 0) return;
    chain.splice(i, 1);
    for (const c of [...this.conns]) c.link(t.direction).removeToxic(t);
  }

  resetToxics(): void {
    for (const dir of ['upstream', 'downstream'] as const) {
      while (this.chains[dir].length > 0) this.removeToxic(this.chains[dir][0] as ToxicConfig);
    }
  }
}
