/**
 * A Toxiproxy 2.12-compatible server: the HTTP API (node:http) over a collection of proxies, so
 * toxiproxy-node-client and @testcontainers/toxiproxy work against it unchanged.
 *
 * Known differences from the Go server, all deliberate:
 * - removing or updating a reset_peer toxic that is waiting out its timeout answers at once (Go blocks the
 *   request until the reset happens); the reset still happens.
 * - integer attributes accept any JSON number with an integral value (Go rejects the literals 1.0 and 1e3).
 * - /populate errors list `"proxies": []` where Go would print null, as the API notes require.
 * - X-Toxiproxy-Request-Id is on every response, 404 and 405 included.
 * - a slicer (or bandwidth with a negative rate) never panics: pieces stay at least one byte long.
 */
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  ApiError,
  ERR,
  decodeAttributes,
  decodePopulate,
  decodeProxy,
  decodeToxicCreate,
  decodeToxicUpdate,
} from './decode.js';
import { AlreadyStarted, Proxy, type ProxyEnv, type ProxyJson } from './proxy.js';
import { isToxicType, parseDirection, toxicToJson, type ToxicConfig } from './toxics.js';

export const TOXIPROXY_VERSION = '2.12.0';

export interface ToxiproxyServerOptions {
  host?: string;
  port: number;
  log?: (line: string) => void;
  /** Uniform [0,1) source for toxicity rolls, jitter and slicer sizes; the harness passes its seeded generator. */
  random?: () => number;
}

export interface ToxiproxyServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body?: string;
  contentType?: string;
  nosniff?: boolean;
}

type Handler = (params: string[], body: string) => Promise<Reply>;

/** Go's encoding/json escapes these even though JSON does not require it. */
function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const json = (status: number, v: unknown): Reply => ({ status, body: goJson(v), contentType: 'application/json' });
const noContent = (): Reply => ({ status: 204 });
const plainError = (status: number, text: string): Reply => ({ status, body: `${text}\n`, contentType: 'text/plain; charset=utf-8', nosniff: true });

function errorReply(e: unknown): Reply {
  const err = e instanceof ApiError ? e : new ApiError(e instanceof Error ? e.message : String(e), 500);
  return plainError(err.status, goJson({ error: err.message, status: err.status }));
}

const XID_ALPHABET = '0123456789abcdefghijklmnopqrstuv';
let xidCounter = randomBytes(3).readUIntBE(0, 3);
const xidMachine = randomBytes(5);

/** A 20-character request id shaped like the xid Toxiproxy's logger puts in X-Toxiproxy-Request-Id. */
function requestId(): string {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(Math.floor(Date.now() / 1000) >>> 0, 0);
  xidMachine.copy(b, 4);
  xidCounter = (xidCounter + 1) & 0xffffff;
  b.writeUIntBE(xidCounter, 9, 3);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += XID_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += XID_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** The server side of the Toxiproxy API: its proxies and their toxics (the one client is toxiproxy/client.ts). */
export class ToxiproxyServerState {
  readonly proxies = new Map<string, Proxy>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly routes: { pattern: RegExp; methods: Record<string, Handler> }[];

  constructor(private readonly env: ProxyEnv) {
    const toxic: Record<string, Handler> = { GET: (p) => this.toxicShow(p), POST: (p, b) => this.toxicUpdate(p, b), PATCH: (p, b) => this.toxicUpdate(p, b), DELETE: (p) => this.toxicDelete(p) };
    this.routes = [
      { pattern: /^\/reset$/, methods: { POST: () => this.reset() } },
      { pattern: /^\/proxies$/, methods: { GET: () => this.proxyIndex(), POST: (_p, b) => this.proxyCreate(b) } },
      { pattern: /^\/populate$/, methods: { POST: (_p, b) => this.populate(b) } },
      {
        pattern: /^\/proxies\/([^/]+)$/,
        methods: { GET: (p) => this.proxyShow(p), POST: (p, b) => this.proxyUpdate(p, b), PATCH: (p, b) => this.proxyUpdate(p, b), DELETE: (p) => this.proxyDelete(p) },
      },
      { pattern: /^\/proxies\/([^/]+)\/toxics$/, methods: { GET: (p) => this.toxicIndex(p), POST: (p, b) => this.toxicCreate(p, b) } },
      { pattern: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/, methods: toxic },
      { pattern: /^\/version$/, methods: { GET: async () => ({ status: 200, body: `{"version": "${TOXIPROXY_VERSION}"}\n`, contentType: 'application/json;charset=utf-8' }) } },
    ];
  }

  /** Routes one request; handlers run one at a time, as Toxiproxy's collection lock serialises them. */
  async handle(method: string, rawPath: string, userAgent: string, body: string): Promise<Reply> {
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const h = route.methods[method];
      if (!h) return { status: 405 };
      if (userAgent.startsWith('Mozilla/')) return plainError(403, 'User agent not allowed');
      const run = this.queue.then(() => h(m.slice(1), body).catch(errorReply));
      this.queue = run.catch(() => undefined);
      return run;
    }
    return plainError(404, '404 page not found');
  }

  private getProxy(name: string | undefined): Proxy {
    const p = this.proxies.get(name ?? '');
    if (!p) throw ERR.proxyNotFound();
    return p;
  }

  private async proxyIndex(): Promise<Reply> {
    const out: Record<string, ProxyJson> = {};
    // Go marshals maps with sorted keys.
    for (const name of [...this.proxies.keys()].sort()) out[name] = (this.proxies.get(name) as Proxy).toJson();
    return json(200, out);
  }

  private async proxyCreate(body: string): Promise<Reply> {
    const input = decodeProxy(body, { name: '', listen: '', upstream: '', enabled: true });
    if (input.name === '') throw ERR.missingField('name');
    if (input.upstream === '') throw ERR.missingField('upstream');
    if (this.proxies.has(input.name)) throw ERR.proxyExists();
    const proxy = new Proxy(input.name, input.listen, input.upstream, this.env);
    if (input.enabled) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return json(201, proxy.toJson());
  }

  private async populate(body: string): Promise<Reply> {
    const done: Proxy[] = [];
    const reply = (status: number, err?: ApiError): Reply => {
      const proxies = done.map((p) => p.toJson());
      return json(status, err ? { error: err.message, status: err.status, proxies } : { proxies });
    };
    try {
      const input = decodePopulate(body);
      // Every entry is checked before any proxy is touched.
      input.forEach((p, i) => {
        if (p.name === '') throw ERR.missingField(`name at proxy ${i + 1}`);
        if (p.upstream === '') throw ERR.missingField(`upstream at proxy ${i + 1}`);
      });
      for (const entry of input) done.push(await this.addOrReplace(new Proxy(entry.name, entry.listen, entry.upstream, this.env), entry.enabled ?? true));
      return reply(201);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(e instanceof Error ? e.message : String(e), 500);
      return reply(err.status, err);
    }
  }

  private async addOrReplace(proxy: Proxy, start: boolean): Promise<Proxy> {
    const existing = this.proxies.get(proxy.name);
    if (existing) {
      if (!(await existing.differs(proxy.listen, proxy.upstream))) return existing;
      await existing.stop();
    }
    if (start) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }

  private async proxyShow(params: string[]): Promise<Reply> {
    return json(200, this.getProxy(params[0]).toJson());
  }

  private async proxyUpdate(params: string[], body: string): Promise<Reply> {
    const proxy = this.getProxy(params[0]);
    const input = decodeProxy(body, { name: proxy.name, listen: proxy.listen, upstream: proxy.upstream, enabled: proxy.enabled });
    await proxy.update(input);
    return json(200, proxy.toJson());
  }

  private async proxyDelete(params: string[]): Promise<Reply> {
    const proxy = this.getProxy(params[0]);
    await proxy.stop();
    this.proxies.delete(proxy.name);
    return noContent();
  }

  private async toxicIndex(params: string[]): Promise<Reply> {
    return json(200, this.getProxy(params[0]).toxics().map(toxicToJson));
  }

  private async toxicCreate(params: string[], body: string): Promise<Reply> {
    const proxy = this.getProxy(params[0]);
    const input = decodeToxicCreate(body);
    const direction = parseDirection(input.stream);
    if (direction === undefined) throw ERR.invalidStream();
    const name = input.name === '' ? `${input.type}_${input.stream}` : input.name;
    if (!isToxicType(input.type)) throw ERR.invalidToxicType();
    if (proxy.findToxic(name)) throw ERR.toxicExists();
    const attributes = decodeAttributes(input.type, input.attributesRaw, {});
    const toxic: ToxicConfig = { name, type: input.type, stream: input.stream, direction, toxicity: input.toxicity, attributes };
    proxy.addToxic(toxic);
    return json(200, toxicToJson(toxic));
  }

  private findToxic(params: string[]): { proxy: Proxy; toxic: ToxicConfig } {
    const proxy = this.getProxy(params[0]);
    const toxic = proxy.findToxic(params[1] ?? '');
    if (!toxic) throw ERR.toxicNotFound();
    return { proxy, toxic };
  }

  private async toxicShow(params: string[]): Promise<Reply> {
    return json(200, toxicToJson(this.findToxic(params).toxic));
  }

  private async toxicUpdate(params: string[], body: string): Promise<Reply> {
    const { proxy, toxic } = this.findToxic(params);
    const u = decodeToxicUpdate(body, toxic.type, toxic.attributes, toxic.toxicity);
    toxic.attributes = u.attributes;
    toxic.toxicity = u.toxicity;
    proxy.updatedToxic(toxic);
    return json(200, toxicToJson(toxic));
  }

  private async toxicDelete(params: string[]): Promise<Reply> {
    const { proxy, toxic } = this.findToxic(params);
    proxy.removeToxic(toxic);
    return noContent();
  }

  private async reset(): Promise<Reply> {
    for (const proxy of this.proxies.values()) {
      try {
        await proxy.start();
      } catch (e) {
        if (!(e instanceof AlreadyStarted)) throw e;
      }
      proxy.resetToxics();
    }
    return noContent();
  }

  async closeAll(): Promise<void> {
    await this.queue;
    for (const p of this.proxies.values()) await p.stop();
    this.proxies.clear();
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the API on host:port (port 0 picks a free one); close() stops it, every proxy and every connection. */
export async function startToxiproxyServer(opts: ToxiproxyServerOptions): Promise<ToxiproxyServer> {
  const log = opts.log ?? ((): void => undefined);
  const api = new ToxiproxyServerState({ log, random: opts.random ?? Math.random });
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const id = requestId();
    void (async () => {
      let reply: Reply;
      try {
        const body = await readBody(req);
        const url = new URL(req.url ?? '/', 'http://toxiproxy');
        reply = await api.handle(req.method ?? 'GET', url.pathname, req.headers['user-agent'] ?? '', body);
      } catch (e) {
        reply = errorReply(e);
      }
      res.setHeader('X-Toxiproxy-Request-Id', id);
      if (reply.contentType) res.setHeader('Content-Type', reply.contentType);
      if (reply.nosniff) res.setHeader('X-Content-Type-Options', 'nosniff');
      if (reply.status !== 204) res.setHeader('Content-Length', Buffer.byteLength(reply.body ?? ''));
      res.writeHead(reply.status);
      res.end(reply.body ?? '');
      log(`API ${req.method} ${req.url} -> ${reply.status}`);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  const urlHost = net.isIPv6(host) ? `[${host}]` : host;
  log(`Starting Toxiproxy HTTP server address=${host}:${port}`);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close(): Promise<void> {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await api.closeAll();
        await stopped;
      })();
      return closing;
    },
  };
}
