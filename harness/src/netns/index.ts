/**
 * Hosts as network namespaces on a bridge the run creates, and partitions as nft rules inside those namespaces.
 * Names are short (`rhc` + 6 hex) because interface names stop at 15 characters.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { IptablesRule } from '../cleanup/state.js';

const execFileP = promisify(execFile);

export async function sh(cmd: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) {
    try {
      const { stdout } = await execFileP(cmd, args, { encoding: 'utf8' });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${cmd} ${args.join(' ')}: ${(err.stderr || err.message).trim()}`);
    }
  }
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let netnsProbe: string | undefined | null = null;

/** Why namespaces cannot be used here (e.g. a container without CAP_SYS_ADMIN), or undefined when they can; probed once. */
export function netnsUnusableReason(): string | undefined {
  if (netnsProbe !== null) return netnsProbe;
  if (!isRoot()) return (netnsProbe = 'not root');
  const name = `rhcprobe${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  netnsProbe = add.status === 0 ? undefined : `ip netns add failed: ${(add.stderr || add.error?.message || '').trim()}`;
  return netnsProbe;
}

export interface HostNetwork {
  bridge: string;
  /** host name -> namespace name */
  netns: Map<string, string>;
  /** host name -> address */
  addresses: Map<string, string>;
  bridgeAddress: string;
  iptables: IptablesRule[];
}

function usedSubnets(): Set<string> {
  const r = spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  const used = new Set<string>();
  for (const m of `${r.stdout}\n${routes.stdout}`.matchAll(/\b10\.(\d+)\.(\d+)\.\d+/g)) used.add(`10.${m[1]}.${m[2]}`);
  return used;
}

/** A /24 in 10.x nobody on this machine uses; it exists only on the run's bridge. */
function pickSubnet(tag: string): string {
  const used = usedSubnets();
  const seed = parseInt(tag.slice(-4), 16);
  for (let i = 0; i < 4096; i++) {
    const n = (seed + i * 7919) % (56 * 256);
    const candidate = `10.${200 + Math.floor(n / 256)}.${n % 256}`;
    if (!used.has(candidate)) return candidate;
  }
  throw new Error('no free 10.200-255.x.0/24 subnet for the run bridge');
}

function chainExists(chain: string): boolean {
  return spawnSync('iptables', ['-S', chain], { stdio: 'ignore' }).status === 0;
}

function forwardPolicyDrop(): boolean {
  const r = spawnSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' });
  return r.status === 0 && /^-P FORWARD DROP/m.test(r.stdout);
}

/**
 * Creates the bridge, one namespace and veth per host, and the iptables accept rule Docker's FORWARD DROP needs.
 * `record` is called before each resource is created so a crash in between still leaves a complete marker.
 */
export async function createHostNetwork(hosts: string[], record: (n: Partial<HostNetwork>) => void): Promise<HostNetwork> {
  // Fresh per deployment: run ids are free text and one run brings up many deployments.
  const tag = randomBytes(3).toString('hex');
  const bridge = `rhc${tag}`;
  const subnet = pickSubnet(tag);
  const net: HostNetwork = { bridge, netns: new Map(), addresses: new Map(), bridgeAddress: `${subnet}.1`, iptables: [] };
  hosts.forEach((h, i) => {
    net.netns.set(h, `rhc${tag}-${i}`);
    net.addresses.set(h, `${subnet}.${i + 2}`);
  });
  record({ bridge, netns: net.netns });
  const batch = [`link add ${bridge} type bridge`, `addr add ${net.bridgeAddress}/24 dev ${bridge}`, `link set ${bridge} up`];
  hosts.forEach((h, i) => {
    const ns = net.netns.get(h)!;
    const veth = `rhc${tag}v${i}`;
    batch.push(`netns add ${ns}`, `link add ${veth} type veth peer name eth0 netns ${ns}`, `link set ${veth} master ${bridge} up`);
  });
  await sh('ip', ['-batch', '-'], batch.join('\n') + '\n');
  await Promise.all(hosts.map((h) => {
    const inside = [`addr add ${net.addresses.get(h)}/24 dev eth0`, 'link set eth0 up', 'link set lo up'];
    return sh('ip', ['-n', net.netns.get(h)!, '-batch', '-'], inside.join('\n') + '\n');
  }));
  const rule: IptablesRule | undefined = chainExists('DOCKER-USER')
    ? { chain: 'DOCKER-USER', args: ['-i', bridge, '-o', bridge, '-j', 'ACCEPT'] }
    : forwardPolicyDrop()
      ? { chain: 'FORWARD', args: ['-i', bridge, '-o', bridge, '-j', 'ACCEPT'] }
      : undefined;
  if (rule) {
    net.iptables.push(rule);
    record({ iptables: net.iptables });
    await sh('iptables', ['-I', rule.chain, ...rule.args]);
  }
  return net;
}

export async function destroyHostNetwork(net: HostNetwork): Promise<void> {
  const errors: string[] = [];
  for (const ns of net.netns.values()) {
    // Anything still inside (a crashed start) dies with the namespace's processes first.
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
    for (const p of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  const batch = [...net.netns.values()].map((ns) => `netns del ${ns}`);
  batch.push(`link del ${net.bridge}`);
  spawnSync('ip', ['-force', '-batch', '-'], { input: batch.join('\n') + '\n', encoding: 'utf8' });
  for (const rule of net.iptables) {
    while (spawnSync('iptables', ['-D', rule.chain, ...rule.args], { stdio: 'ignore' }).status === 0) {
      // a rule inserted twice is removed twice
    }
  }
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const ns of net.netns.values()) if (new RegExp(`^${ns}\\b`, 'm').test(left)) errors.push(`netns ${ns} still exists`);
  if (errors.length) throw new Error(errors.join('; '));
}

/** nft table inside a host's namespace: drop traffic from/to the listed addresses. */
export async function applyDropRules(ns: string, dropFrom: string[], dropTo: string[]): Promise<void> {
  const set = (a: string[]) => `{ ${a.join(', ')} }`;
  const lines = ['table inet rhc_partition', 'delete table inet rhc_partition', 'table inet rhc_partition {'];
  lines.push('  chain input {', '    type filter hook input priority 0; policy accept;');
  if (dropFrom.length) lines.push(`    ip saddr ${set(dropFrom)} drop`);
  lines.push('  }', '  chain output {', '    type filter hook output priority 0; policy accept;');
  if (dropTo.length) lines.push(`    ip daddr ${set(dropTo)} drop`);
  lines.push('  }', '}');
  await sh('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], lines.join('\n') + '\n');
}

export async function clearDropRules(ns: string): Promise<void> {
  await sh('ip', ['netns', 'exec', ns, 'nft', 'flush', 'ruleset']);
}

export async function listNftTables(ns: string): Promise<string> {
  return sh('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables']);
}
