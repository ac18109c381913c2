/** What stopHost took down, so startHost brings back exactly that (and not what a fault had stopped before). */
export class HostStops {
  private readonly byHost = new Map<string, string[]>();

  /** Records the instances a stop takes down, on top of an earlier stop of the same host. */
  stopping(host: string, names: string[]): void {
    this.byHost.set(host, [...new Set([...(this.byHost.get(host) ?? []), ...names])]);
  }

  /** The instances to start again: what stops took down, or every instance of the host when it was never stopped. */
  take(host: string, all: () => string[]): string[] {
    const names = this.byHost.get(host) ?? all();
    this.byHost.delete(host);
    return names;
  }
}
