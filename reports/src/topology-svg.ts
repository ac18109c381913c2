/** The topology picture: hosts as boxes, their instances inside, links between them, roles before and after. */
import type { ScenarioResult } from '../../harness/src/results/types.js';
import type { Topology } from '../../harness/src/topology/model.js';
import { roleClass } from './aggregate.js';
import { html, type SafeHtml } from './html.js';

type ItemKind = 'redis' | 'sentinel' | 'haproxy' | 'toxiproxy' | 'client';

interface Item {
  kind: ItemKind;
  name: string;
  detail: string;
  before?: string;
  after?: string;
  x: number;
  y: number;
}

interface Edge {
  from: string;
  to: string;
  kind: 'backend' | 'replicaof' | 'monitors' | 'toxic' | 'client';
  label?: string;
}

const HOST_W = 250;
const ITEM_H = 46;
const HOST_GAP = 30;
const PER_ROW = 4;
const TOP = 80;

const ROLE_COLOURS: Record<string, string> = { master: '#1b7f3b', replica: '#2459a6', down: '#b3261e', other: '#6b5b00' };

function kindOfConfig(kind: string): ItemKind | undefined {
  if (kind.includes('sentinel')) return 'sentinel';
  if (kind.includes('haproxy')) return 'haproxy';
  if (kind.includes('redis')) return 'redis';
  return undefined;
}

function fromModel(t: Topology, showTarget: boolean): { hosts: Map<string, Omit<Item, 'x' | 'y'>[]>; edges: Edge[] } {
  const hosts = new Map<string, Omit<Item, 'x' | 'y'>[]>();
  for (const h of t.hosts) hosts.set(h.name, []);
  const put = (host: string, item: Omit<Item, 'x' | 'y'>): void => {
    if (!hosts.has(host)) hosts.set(host, []);
    hosts.get(host)!.push(item);
  };
  const edges: Edge[] = [];
  for (const r of t.redis) {
    put(r.host, { kind: 'redis', name: r.name, detail: showTarget ? `redis :${r.port} (${r.target})` : `redis :${r.port}` });
    if (r.replicaof) edges.push({ from: r.name, to: r.replicaof, kind: 'replicaof' });
  }
  for (const s of t.sentinels) {
    put(s.host, { kind: 'sentinel', name: s.name, detail: `sentinel :${s.port} quorum ${s.quorum}` });
    edges.push({ from: s.name, to: s.monitors, kind: 'monitors' });
  }
  if (t.haproxy) {
    put(t.haproxy.host, { kind: 'haproxy', name: t.haproxy.name, detail: `haproxy :${t.haproxy.port} check ${t.haproxy.check.interMs}ms` });
    for (const b of t.haproxy.backends) edges.push({ from: t.haproxy.name, to: b, kind: 'backend' });
  }
  if (t.toxiproxy) {
    put(t.toxiproxy.host, { kind: 'toxiproxy', name: 'toxiproxy', detail: `toxiproxy api :${t.toxiproxy.apiPort}` });
    for (const l of t.toxiproxy.links) edges.push({ from: l.from, to: l.to, kind: 'toxic', label: `${l.name} :${l.listenPort}` });
  }
  const clientTarget = t.haproxy?.name ?? (t.kind === 'cluster' ? undefined : t.redis.find((r) => !r.replicaof)?.name);
  if (clientTarget && !t.toxiproxy?.links.some((l) => l.from === 'client')) edges.push({ from: 'client', to: clientTarget, kind: 'client' });
  return { hosts, edges };
}

function inferred(s: ScenarioResult, observed: string[]): { hosts: Map<string, Omit<Item, 'x' | 'y'>[]>; edges: Edge[] } {
  const items = new Map<string, Omit<Item, 'x' | 'y'>>();
  for (const c of s.configFiles) {
    const kind = kindOfConfig(c.kind) ?? 'redis';
    if (!items.has(c.instance)) items.set(c.instance, { kind, name: c.instance, detail: c.kind });
  }
  for (const name of [...Object.keys(s.rolesBefore ?? {}), ...Object.keys(s.rolesAfter ?? {}), ...observed]) {
    if (!items.has(name)) items.set(name, { kind: 'redis', name, detail: 'redis' });
  }
  return { hosts: new Map([['hosts not recorded', [...items.values()]]]), edges: [] };
}

/** Where the line from a box's centre towards another point leaves the box, so arrowheads stay visible. */
function edgePoint(from: { x: number; y: number }, to: { x: number; y: number }, w: number): { x: number; y: number } {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  if (dx === 0 && dy === 0) return from;
  const t = Math.min(dx === 0 ? Infinity : w / 2 / Math.abs(dx), dy === 0 ? Infinity : ITEM_H / 2 / Math.abs(dy));
  return { x: Math.round(from.x + dx * Math.min(1, t)), y: Math.round(from.y + dy * Math.min(1, t)) };
}

function roleText(role: string | undefined): string {
  return role ?? '?';
}

export function topologySvg(s: ScenarioResult, observedInstances: string[], id: number): SafeHtml {
  const { hosts, edges } = s.topologyModel ? fromModel(s.topologyModel, s.target === 'mixed') : inferred(s, observedInstances);
  if ([...hosts.values()].every((items) => items.length === 0)) return html`<p class="note">No topology recorded for this scenario.</p>`;
  const placed = new Map<string, Item>();
  const hostBoxes: { name: string; x: number; y: number; h: number }[] = [];
  let col = 0;
  let rowY = TOP;
  let rowMaxH = 0;
  for (const [host, items] of hosts) {
    if (col === PER_ROW) {
      col = 0;
      rowY += rowMaxH + HOST_GAP;
      rowMaxH = 0;
    }
    const x = 10 + col * (HOST_W + HOST_GAP);
    const h = 30 + Math.max(1, items.length) * (ITEM_H + 6);
    hostBoxes.push({ name: host, x, y: rowY, h });
    items.forEach((it, i) => {
      placed.set(it.name, {
        ...it,
        before: s.rolesBefore?.[it.name],
        after: s.rolesAfter?.[it.name],
        x: x + 10,
        y: rowY + 26 + i * (ITEM_H + 6),
      });
    });
    rowMaxH = Math.max(rowMaxH, h);
    col++;
  }
  const width = 20 + Math.min(PER_ROW, Math.max(1, hostBoxes.length)) * (HOST_W + HOST_GAP);
  const height = rowY + rowMaxH + 20;
  placed.set('client', { kind: 'client', name: 'client', detail: 'workload', x: 10, y: 14 });
  const itemW = HOST_W - 20;
  const boxW = (it: Item): number => (it.kind === 'client' ? 120 : itemW);
  const centre = (it: Item): { x: number; y: number } => ({ x: it.x + boxW(it) / 2, y: it.y + ITEM_H / 2 });

  const lines = edges.flatMap((e) => {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (!a || !b) return [];
    const c1 = centre(a);
    const c2 = centre(b);
    const p = edgePoint(c1, c2, boxW(a));
    const q = edgePoint(c2, c1, boxW(b));
    const cls = `edge edge-${e.kind}`;
    const title = `${e.from} → ${e.to}${e.label ? ` (${e.label})` : ''} [${e.kind}]`;
    return [
      html`<g class="${cls}"><title>${title}</title><line x1="${p.x}" y1="${p.y}" x2="${q.x}" y2="${q.y}" marker-end="url(#arrow-${id})"/>${
        e.label ? html`<text x="${(p.x + q.x) / 2}" y="${(p.y + q.y) / 2 - 4}" class="edge-label">${e.label}</text>` : ''
      }</g>`,
    ];
  });

  const boxes = hostBoxes.map(
    (b) => html`<g class="host"><rect x="${b.x}" y="${b.y}" width="${HOST_W}" height="${b.h}" rx="6"/><text x="${b.x + 8}" y="${b.y + 17}" class="host-name">${b.name}</text></g>`,
  );

  const items = [...placed.values()].map((it) => {
    const changed = it.before !== undefined && it.after !== undefined && it.before !== it.after;
    const beforeColour = ROLE_COLOURS[roleClass(roleText(it.before))] ?? '#333';
    const afterColour = ROLE_COLOURS[roleClass(roleText(it.after))] ?? '#333';
    const hasRoles = it.before !== undefined || it.after !== undefined;
    return html`<g class="item item-${it.kind}${changed ? ' role-changed' : ''}" data-instance="${it.name}">
<rect x="${it.x}" y="${it.y}" width="${boxW(it)}" height="${ITEM_H}" rx="4"/>
<text x="${it.x + 8}" y="${it.y + 17}" class="item-name">${it.name}</text>
<text x="${it.x + 8}" y="${it.y + 34}" class="item-detail">${it.detail}</text>
${
  hasRoles
    ? html`<text x="${it.x + itemW - 8}" y="${it.y + 17}" text-anchor="end" class="item-role"><tspan fill="${beforeColour}">${roleText(it.before)}</tspan><tspan fill="#555"> → </tspan><tspan fill="${afterColour}" font-weight="${changed ? 'bold' : 'normal'}">${roleText(it.after)}</tspan></text>`
    : ''
}</g>`;
  });

  return html`<svg class="topology" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="topology">
<defs><marker id="arrow-${id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#888"/></marker></defs>
${boxes}${lines}${items}
<g class="legend" transform="translate(160,24)"><text class="item-detail">roles: before first fault → at end;</text>
<text y="16" class="item-detail"><tspan fill="#1b7f3b">■ master</tspan> <tspan fill="#2459a6">■ replica</tspan> <tspan fill="#b3261e">■ down</tspan>  lines: haproxy backend, replica of, sentinel monitors, toxiproxy link</text></g>
</svg>`;
}
