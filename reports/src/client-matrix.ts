/**
 * The client matrix: rows are client adapters, columns are client scenarios per topology and target, each cell
 * the verdict and the client-side failover time (beside the server-side switch). Built from results alone, for
 * one run (its report) or every run under a folder (its index).
 */
import type { RunResults, ScenarioResult } from '../../harness/src/results/types.js';
import { formatMs } from './format.js';
import { html, printable, type SafeHtml } from './html.js';

export interface MatrixCell {
  verdict: ScenarioResult['verdict'];
  clientFailoverMs: number | null | undefined;
  serverSwitchMs: number | null | undefined;
  stuckMs: number | undefined;
  failed: string[];
}

export interface ClientMatrix {
  clients: string[];
  /** "scenario · topology · target" */
  columns: string[];
  cells: Map<string, MatrixCell>;
}

const key = (client: string, column: string): string => `${client}\u0000${column}`;

export function buildClientMatrix(runs: RunResults[]): ClientMatrix {
  const clients = new Set<string>();
  const columns = new Set<string>();
  const cells = new Map<string, MatrixCell>();
  for (const r of runs) {
    for (const s of r.scenarios) {
      if (!s.client) continue;
      const column = `${s.name} · ${s.topology} · ${s.target}`;
      clients.add(s.client.name);
      columns.add(column);
      // Double failovers show their slower round: the second is where clients break.
      const rounds = s.client.rounds;
      const worst = rounds.reduce<(typeof rounds)[number] | undefined>((w, x) => (w === undefined || (x.clientFailoverMs ?? Infinity) > (w.clientFailoverMs ?? Infinity) ? x : w), undefined);
      cells.set(key(s.client.name, column), {
        verdict: s.verdict,
        clientFailoverMs: worst?.clientFailoverMs,
        serverSwitchMs: worst?.serverSwitchMs,
        stuckMs: rounds.length ? Math.max(...rounds.map((x) => x.stuckMs)) : undefined,
        failed: s.checks.filter((c) => c.verdict === 'fail').map((c) => c.name),
      });
    }
  }
  return { clients: [...clients].sort(), columns: [...columns].sort(), cells };
}

export function clientMatrixTable(m: ClientMatrix): SafeHtml {
  if (m.clients.length === 0) return html``;
  return html`<h3>Client matrix</h3>
<p class="note">Each cell: verdict, client-side failover (fault to the first write acknowledged through the client) and the server-side switch; the longest a command waited to settle; the checks that failed.</p>
<table class="client-matrix" id="client-matrix"><thead><tr><th>Client</th>${m.columns.map((c) => html`<th>${printable(c)}</th>`)}</tr></thead>
<tbody>${m.clients.map(
    (client) => html`<tr data-client="${client}"><td>${printable(client)}</td>${m.columns.map((column) => {
      const c = m.cells.get(key(client, column));
      if (!c) return html`<td class="note">—</td>`;
      return html`<td class="v-${c.verdict}" data-verdict="${c.verdict}" data-client-failover="${c.clientFailoverMs ?? ''}"><span class="badge v-${c.verdict}">${c.verdict}</span> client ${formatMs(c.clientFailoverMs)} · server ${formatMs(c.serverSwitchMs)}<br><span class="note">stuck ${formatMs(c.stuckMs)}${c.failed.length ? ` · failed: ${c.failed.join(', ')}` : ''}</span></td>`;
    })}</tr>`,
  )}</tbody></table>`;
}
