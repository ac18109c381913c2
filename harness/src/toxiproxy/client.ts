/**
 * The harness's one Toxiproxy client (ours or the real one; the nemesis applies toxics through it), built on toxiproxy-node-client so it speaks
 * exactly what that client speaks. `down` is not a toxic in Toxiproxy: it maps to disabling the proxy.
 */
import { Toxiproxy, type Proxy, type ToxicAttributeTypes, type ToxicDirection, type ToxicType } from 'toxiproxy-node-client';

export interface ToxicSpec {
  type: ToxicType;
  stream?: ToxicDirection;
  attributes?: Record<string, number>;
  toxicity?: number;
  name?: string;
}

export interface AddedToxic {
  proxy: string;
  name: string;
  type: ToxicType;
  stream: ToxicDirection;
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

function state(p: Proxy): ProxyState {
  return { name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.enabled };
}

function port(addr: string): string {
  return addr.slice(addr.lastIndexOf(':') + 1);
}

export class ToxiproxyClient {
  private readonly client: Toxiproxy;

  constructor(readonly apiUrl: string) {
    this.client = new Toxiproxy(apiUrl.replace(/\/+$/, ''));
  }

  private async wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new Error(`toxiproxy ${this.apiUrl}: ${what}: ${(e as Error).message}`);
    }
  }

  private async find(name: string): Promise<Proxy | undefined> {
    const all = await this.client.getAll();
    return all[name];
  }

  /** Makes the proxy exist, enabled, with this upstream; listen port 0 accepts whatever port it already has. */
  ensureProxy(name: string, listen: string, upstream: string): Promise<ProxyState> {
    return this.wrap(`ensure proxy ${name}`, async () => {
      const existing = await this.find(name);
      if (!existing) return state(await this.client.createProxy({ name, listen, upstream, enabled: true }));
      const sameListen = existing.listen === listen || port(listen) === '0';
      if (sameListen && existing.upstream === upstream && existing.enabled) return state(existing);
      return state(await existing.update({ enabled: true, listen: sameListen ? existing.listen : listen, upstream }));
    });
  }

  /** Adds a toxic (default stream downstream, toxicity 1); type `down` disables the proxy instead. */
  addToxic(proxy: string, spec: ToxicSpec): Promise<AddedToxic> {
    const stream = spec.stream ?? 'downstream';
    const toxicity = spec.toxicity ?? 1;
    const name = spec.name ?? (spec.type === 'down' ? 'down' : `${spec.type}_${stream}`);
    return this.wrap(`add ${spec.type} toxic ${name} to ${proxy}`, async () => {
      if (spec.type === 'down') {
        await this.setEnabledRaw(proxy, false);
        return { proxy, name, type: 'down', stream, toxicity, attributes: {} };
      }
      const p = await this.client.get(proxy);
      const t = await p.addToxic<ToxicAttributeTypes>({ name, type: spec.type, stream, toxicity, attributes: (spec.attributes ?? {}) as unknown as ToxicAttributeTypes });
      return { proxy, name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity, attributes: { ...(t.attributes as unknown as Record<string, number>) } };
    });
  }

  /** Removes a toxic by name; the name `down` re-enables a proxy that addToxic({type:'down'}) disabled. */
  removeToxic(proxy: string, name: string): Promise<void> {
    return this.wrap(`remove toxic ${name} from ${proxy}`, async () => {
      const p = await this.client.get(proxy);
      if (name === 'down') {
        try {
          const t = await p.getToxic(name);
          await t.remove();
        } catch {
          await this.setEnabledRaw(proxy, true);
        }
        return;
      }
      const t = await p.getToxic(name);
      await t.remove();
    });
  }

  private async setEnabledRaw(proxy: string, enabled: boolean): Promise<void> {
    const p = await this.client.get(proxy);
    await p.update({ enabled, listen: p.listen, upstream: p.upstream });
  }

  setEnabled(proxy: string, enabled: boolean): Promise<void> {
    return this.wrap(`${enabled ? 'enable' : 'disable'} proxy ${proxy}`, () => this.setEnabledRaw(proxy, enabled));
  }

  /** Re-enables every proxy and removes every toxic. */
  reset(): Promise<void> {
    return this.wrap('reset', () => this.client.reset());
  }

  listProxies(): Promise<ProxyState[]> {
    return this.wrap('list proxies', async () => Object.values(await this.client.getAll()).map(state));
  }
}
