/** The per-run HTML report: verdict and scenario table first, then one section per scenario. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult, Interval, RunResults, ScenarioResult } from '../../harness/src/results/types.js';
import { bucketize, masterOverlaps, round, roleClass, type Buckets } from './aggregate.js';
import { page } from './assets.js';
import { anomalyLine, formatCount, formatMs, formatOffset, isAnomalyReproduced, scenarioVerdictLabel, verdictLabel, verdictRank } from './format.js';
import { anchorId, html, printable, printableText, shownValue, type SafeHtml } from './html.js';
import { loadRun, ScenarioHistory, type LoadedRun } from './load.js';
import { topologySvg } from './topology-svg.js';
import { buildClientMatrix, clientMatrixTable } from './client-matrix.js';

interface ScenarioView {
  s: ScenarioResult;
  h: ScenarioHistory;
  index: number;
  anchor: string;
  t0: number;
  t1: number;
  buckets?: Buckets;
  split: Interval[];
  splitFrom: 'checker' | 'observations' | 'cluster';
}

/** Chart input for the client script; times in seconds since the scenario start. */
interface ChartData {
  id: number;
  bucketMs: number;
  t: number[];
  rate: Buckets['rate'];
  p50: Buckets['p50'];
  p99: Buckets['p99'];
  faults: { s: number; e: number }[];
  split: { s: number; e: number }[];
  unavail: { s: number; e: number }[];
  failover: { s: number; e: number | null } | null;
}

/** The timeline starts when the deployment is up ('scenario-start'), so deploy time does not squeeze the picture. */
function scenarioStart(s: ScenarioResult, h: ScenarioHistory): number {
  const mark = h.marks.find((m) => m.name === 'scenario-start');
  if (mark) return mark.time;
  if (!Number.isFinite(h.firstTime)) return s.startedAt;
  if (s.startedAt >= h.firstTime - 60_000 && s.startedAt <= h.lastTime) return s.startedAt;
  return h.firstTime;
}

function viewOf(s: ScenarioResult, h: ScenarioHistory, index: number): ScenarioView {
  const t0 = scenarioStart(s, h);
  const end = s.startedAt + (s.durationMs || 0);
  const t1 = Math.max(t0 + 1, Number.isFinite(h.lastTime) ? h.lastTime : t0 + 1, end >= t0 && end - t0 < 86_400_000 ? end : t0 + 1);
  // Several masters are normal in a cluster (one per shard), and a single-master check without intervals saw none.
  const isCluster = s.topologyModel?.kind === 'cluster' || [...h.roles.values()].some((r) => r.source === 'cluster');
  const checked = s.checks.some((c) => c.name === 'single-master');
  const fromChecker = s.splitBrainIntervals ?? (checked || isCluster ? [] : undefined);
  const observed = fromChecker ? [] : masterOverlaps(h.roles.values());
  return {
    s,
    h,
    index,
    anchor: anchorId('scenario', s.name, index),
    t0,
    t1,
    buckets: h.completionTime.length > 0 ? bucketize(h, t0, t1) : undefined,
    split: fromChecker ?? observed,
    splitFrom: s.splitBrainIntervals || checked ? 'checker' : isCluster ? 'cluster' : 'observations',
  };
}

function chartData(v: ScenarioView): ChartData | undefined {
  if (!v.buckets) return undefined;
  const rel = (ms: number): number => round((ms - v.t0) / 1000, 3);
  const fi = v.s.failoverInterval;
  return {
    id: v.index,
    bucketMs: v.buckets.bucketMs,
    t: v.buckets.t,
    rate: v.buckets.rate,
    p50: v.buckets.p50,
    p99: v.buckets.p99,
    faults: v.h.faults.map((f) => ({ s: rel(f.start), e: rel(f.end ?? v.t1) })),
    split: v.split.map((i) => ({ s: rel(i.start), e: rel(i.end) })),
    unavail: (v.s.unavailabilityIntervals ?? []).map((i) => ({ s: rel(i.start), e: rel(i.end) })),
    failover: fi ? { s: rel(fi.start), e: Number.isFinite(fi.end) ? rel(fi.end) : null } : null,
  };
}

function badge(verdict: string): SafeHtml {
  return html`<span class="badge v-${verdict}">${verdictLabel(verdict as ScenarioResult['verdict'])}</span>`;
}

/** A scenario's verdict badge: an anomaly it exists to reproduce reads as such, not as a plain pass. */
function scenarioBadge(s: ScenarioResult): SafeHtml {
  return isAnomalyReproduced(s) ? html`<span class="badge v-anomaly" data-anomaly="reproduced">${scenarioVerdictLabel(s)}</span>` : badge(s.verdict);
}

function failedChecks(s: ScenarioResult): CheckResult[] {
  return s.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'error');
}

function whyLine(s: ScenarioResult): string {
  if (s.verdict === 'skip') return `skipped: ${s.skipReason ?? 'no reason given'}`;
  if (s.verdict === 'error') return `harness error: ${s.error ?? 'unknown'}`;
  if (isAnomalyReproduced(s)) return anomalyLine(s);
  const failed = failedChecks(s);
  return failed.map((c) => `${c.name}: ${c.detail}`).join('; ');
}

function banner(r: RunResults): SafeHtml {
  const total = r.scenarios.length;
  const counts = { pass: 0, fail: 0, skip: 0, error: 0 };
  for (const s of r.scenarios) counts[s.verdict]++;
  let headline =
    r.verdict === 'pass'
      ? `${counts.pass} of ${total} scenarios passed${counts.skip ? `, ${counts.skip} skipped` : ''}`
      : `${counts.fail} failed, ${counts.error} harness error${counts.error === 1 ? '' : 's'}, ${counts.pass} passed, ${counts.skip} skipped (of ${total})`;
  const bad = r.scenarios.filter((s) => s.verdict === 'fail' || s.verdict === 'error' || isAnomalyReproduced(s));
  const anomalies = r.scenarios.filter(isAnomalyReproduced).length;
  if (anomalies) headline += ` (${anomalies} of them by reproducing a documented anomaly)`;
  return html`<div class="banner v-${r.verdict}" id="verdict" data-verdict="${r.verdict}">
<div class="big">${verdictLabel(r.verdict)}</div>
<div><div><strong>${headline}</strong></div>
${bad.length ? html`<ul class="why">${bad.map((s) => html`<li><a href="#${anchorId('scenario', s.name, r.scenarios.indexOf(s))}">${printable(s.name)}</a> — ${printable(whyLine(s))}</li>`)}</ul>` : ''}
</div></div>`;
}

function metaList(r: RunResults): SafeHtml {
  const versions = Object.entries(r.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  return html`<dl class="meta">
<dt>Run</dt><dd class="mono" data-field="runId">${printable(r.runId)}</dd>
<dt>Started</dt><dd>${r.startedAt} (took ${formatMs(r.durationMs)})</dd>
<dt>Topology</dt><dd>${printable(r.topology)} <span class="note mono">${printable(r.topologyFile)}</span></dd>
<dt>Target</dt><dd data-field="target">${r.target}</dd>
<dt>Driver</dt><dd data-field="driver">${printable(r.driver)}</dd>
<dt>Seed</dt><dd class="mono" data-field="seed">${r.seed}</dd>
<dt>Versions</dt><dd>${printable(versions) || '—'} <span class="note">(${r.tool} ${r.version})</span></dd>
</dl>
<div class="cmd"><pre id="repro-command" data-field="command">${printable(r.command)}</pre><button class="copy" data-target="repro-command">copy</button></div>`;
}

function numCell(field: string, value: number | undefined, bad = false): SafeHtml {
  return html`<td class="num${bad ? ' bad' : ''}" data-field="${field}" data-value="${value ?? ''}">${formatCount(value)}</td>`;
}

function msCell(field: string, value: number | null | undefined, budget?: number): SafeHtml {
  const over = value === null || (budget !== undefined && typeof value === 'number' && value > budget);
  return html`<td class="num${over ? ' bad' : ''}" data-field="${field}" data-value="${value === undefined ? '' : String(value)}">${formatMs(value)}</td>`;
}

function scenarioTable(views: ScenarioView[]): SafeHtml {
  return html`<table class="scenarios" id="scenario-table">
<thead><tr><th>Scenario</th><th>Verdict</th><th class="num">Failover</th><th class="num">Unavailable</th><th class="num">Acknowledged</th><th class="num">Lost</th><th class="num">Unexpected</th><th class="num">Indeterminate</th><th>Notes</th></tr></thead>
<tbody>${views.map(({ s, anchor }) => {
    const budgets = s.topologyModel?.budgets;
    return html`<tr class="v-${s.verdict}" data-scenario="${s.name}">
<td><a href="#${anchor}">${printable(s.name)}</a></td><td data-field="verdict" data-value="${s.verdict}">${scenarioBadge(s)}</td>
${msCell('failoverMs', s.failoverMs, budgets?.failoverMs)}${msCell('unavailabilityMs', s.unavailabilityMs, budgets?.unavailabilityMs)}
${numCell('acknowledged', s.writes.acknowledged)}${numCell('lost', s.writes.lost, s.writes.lost > 0)}${numCell('unexpected', s.writes.unexpected, s.writes.unexpected > 0)}${numCell('indeterminate', s.writes.indeterminate)}
<td data-field="notes">${printable(whyLine(s))}</td></tr>`;
  })}</tbody></table>`;
}

function card(label: string, value: string, bad: boolean, field: string, sub?: string): SafeHtml {
  return html`<div class="card${bad ? ' bad' : ''}" data-field="${field}"><div class="label">${label}</div><div class="value">${value}</div>${sub ? html`<div class="label">${sub}</div>` : ''}</div>`;
}

function cards(v: ScenarioView): SafeHtml {
  const s = v.s;
  const b = s.topologyModel?.budgets;
  const splitMs = v.split.reduce((acc, i) => acc + Math.max(0, i.end - i.start), 0);
  const over = (value: number | null | undefined, budget?: number): boolean => value === null || (budget !== undefined && typeof value === 'number' && value > budget);
  return html`<div class="cards">
${card('Failover', formatMs(s.failoverMs), over(s.failoverMs, b?.failoverMs), 'failoverMs', b ? `budget ${formatMs(b.failoverMs)}` : 'no budget')}
${card('Unavailable', formatMs(s.unavailabilityMs), over(s.unavailabilityMs, b?.unavailabilityMs), 'unavailabilityMs', b ? `budget ${formatMs(b.unavailabilityMs)}` : 'no budget')}
${card('Writes attempted', formatCount(s.writes.attempted), false, 'attempted')}
${card('Acknowledged', formatCount(s.writes.acknowledged), false, 'acknowledged')}
${card('Lost', formatCount(s.writes.lost), s.writes.lost > 0, 'lost')}
${card('Unexpected', formatCount(s.writes.unexpected), s.writes.unexpected > 0, 'unexpected')}
${card('Recovered', formatCount(s.writes.recovered), false, 'recovered')}
${card('Indeterminate', formatCount(s.writes.indeterminate), false, 'indeterminate')}
${
  v.splitFrom === 'cluster'
    ? card('Two masters', 'n/a', false, 'splitBrain', 'cluster: a master per shard')
    : card('Two masters', v.split.length ? `${v.split.length}× ${formatMs(splitMs)}` : 'never', v.split.length > 0, 'splitBrain', v.splitFrom === 'checker' ? 'per checker' : 'from observed roles')
}
</div>`;
}

/** Evidence that the scenario tested something: each fault applied, and the writes acknowledged after it. */
function evidenceTable(s: ScenarioResult): SafeHtml {
  if (!s.evidence) return html``;
  if (s.evidence.length === 0) return html`<h3>Faults applied</h3><p class="note" data-field="evidence">No fault is recorded in this scenario's history.</p>`;
  return html`<h3>Faults applied</h3><table class="checks" data-field="evidence"><thead><tr><th>Fault</th><th class="num">At</th><th class="num">Writes acknowledged after it</th></tr></thead>
<tbody>${s.evidence.map((f) => html`<tr data-fault="${f.fault}"><td>${printable(f.fault)}</td><td class="num">${formatOffset(f.at - s.startedAt)}</td><td class="num${f.acknowledgedAfter === 0 ? ' bad' : ''}">${formatCount(f.acknowledgedAfter)}</td></tr>`)}</tbody></table>`;
}

function checksTable(s: ScenarioResult): SafeHtml {
  if (s.checks.length === 0) return html`<p class="note">No checks ran.</p>`;
  const sorted = [...s.checks].sort((a, b) => verdictRank(a.verdict) - verdictRank(b.verdict));
  return html`<table class="checks"><thead><tr><th>Check</th><th>Verdict</th><th>Detail</th></tr></thead><tbody>
${sorted.map(
  (c) => html`<tr class="v-${c.verdict}" data-check="${c.name}"><td>${printable(c.name)}</td><td>${badge(c.verdict)}</td><td>${printable(c.detail)}${
    c.data && Object.keys(c.data).length
      ? html`<details><summary>data</summary><pre>${printable(JSON.stringify(c.data, null, 2))}</pre></details>`
      : ''
  }</td></tr>`,
)}</tbody></table>`;
}

function pct(v: ScenarioView, t: number): number {
  return round(Math.min(100, Math.max(0, ((t - v.t0) / (v.t1 - v.t0)) * 100)), 3);
}

function span(v: ScenarioView, start: number, end: number): string {
  const l = pct(v, start);
  const r = pct(v, end);
  return `left:${l}%;width:${Math.max(0.15, r - l)}%`;
}

function niceStep(spanS: number): number {
  for (const step of [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) if (spanS / step <= 12) return step;
  return 1200;
}

function sentinelClass(event: string): string {
  if (event === '+switch-master') return 'switch';
  if (event === '+sdown' || event === '+odown') return 'sdown';
  if (event === '-sdown' || event === '-odown') return 'undown';
  return 'other';
}

function timeline(v: ScenarioView): SafeHtml {
  const { h, s } = v;
  const rel = (t: number): string => formatOffset(t - v.t0);
  const shades = html`${h.faults.map((f) => html`<div class="tl-shade fault" style="${span(v, f.start, f.end ?? v.t1)}"></div>`)}${v.split.map(
    (i) => html`<div class="tl-shade split" style="${span(v, i.start, i.end)}"></div>`,
  )}`;
  const row = (label: string, content: SafeHtml, cls = '', title = ''): SafeHtml =>
    html`<div class="tl-row ${cls}"><div class="tl-label" title="${title || label}">${printable(label)}</div><div class="tl-track">${shades}${content}</div></div>`;
  const rows: SafeHtml[] = [];
  rows.push(
    row(
      'faults',
      html`${h.faults.map((f) => {
        const text = `${f.name} ${f.targets.join(',')}`;
        return html`<div class="seg fault" style="${span(v, f.start, f.end ?? v.t1)}" title="${printable(`${text}${f.detail ? ` (${f.detail})` : ''}: ${rel(f.start)} → ${f.end === null ? 'not healed' : rel(f.end)}`)}">${printable(text)}</div>`;
      })}`,
      'tl-faults',
    ),
  );
  const instances = [...h.roles.values()].sort((a, b) => a.instance.localeCompare(b.instance));
  for (const entry of instances) {
    rows.push(
      row(
        entry.instance,
        html`${entry.segments.map((seg) => {
          const cls = roleClass(seg.role);
          const readonly = cls === 'master' && seg.writable === false;
          const tip = `${entry.instance}: ${seg.role}${seg.master ? ` of ${seg.master}` : ''}${seg.writable === undefined ? '' : seg.writable ? ', writable' : ', not writable'} ${rel(seg.start)} → ${rel(seg.end)}`;
          return html`<div class="seg r-${cls}${readonly ? ' readonly' : ''}" style="${span(v, seg.start, seg.end)}" title="${printable(tip)}">${printable(seg.role)}</div>`;
        })}`,
        'tl-instance',
        `${entry.instance} (${entry.source})`,
      ),
    );
  }
  if (h.sentinelEvents.length) {
    rows.push(
      row(
        'sentinel events',
        html`${h.sentinelEvents.map(
          (e) =>
            html`<div class="marker ${sentinelClass(e.event)}" style="left:${pct(v, e.time)}%" title="${printable(`${e.sentinel} ${e.event}${e.message ? ` ${e.message}` : ''} at ${rel(e.time)}`)}"></div>`,
        )}`,
        'tl-sentinel',
        'Sentinel events: red = +sdown/+odown, orange = +switch-master, green = -sdown/-odown, grey = other',
      ),
    );
  }
  const marks = h.marks.filter((m) => !m.name.startsWith('phase-') || m.name === 'phase-workload');
  if (marks.length) {
    rows.push(
      row(
        'marks',
        html`${marks.map(
          (m) => html`<div class="mark" style="left:${pct(v, m.time)}%" title="${printable(`${m.name}${m.detail ? `: ${m.detail}` : ''} at ${rel(m.time)}`)}"><span>${printable(m.name)}</span></div>`,
        )}`,
        'tl-marks',
      ),
    );
  }
  rows.push(
    row(
      'two masters',
      html`${v.split.map((i) => html`<div class="seg split" style="${span(v, i.start, i.end)}" title="two writable masters ${rel(i.start)} → ${rel(i.end)}">split brain</div>`)}`,
      'tl-split',
      `two writable masters (from ${v.splitFrom})`,
    ),
  );
  const lostTimes = s.lostSample.slice(0, 100).flatMap((k) => {
    const ack = h.acknowledged.get(k);
    return ack ? [ack.time] : [];
  });
  if (lostTimes.length) {
    rows.push(
      row(
        `lost (${lostTimes.length < s.writes.lost ? `first ${lostTimes.length}` : lostTimes.length})`,
        html`${lostTimes.map((t) => html`<div class="marker lost" style="left:${pct(v, t)}%"></div>`)}`,
        'tl-lost',
        'when the lost writes were acknowledged',
      ),
    );
  }
  const fi = s.failoverInterval;
  rows.push(
    row(
      'failover / unavail.',
      html`${fi ? html`<div class="seg failover" style="${span(v, fi.start, Number.isFinite(fi.end) ? fi.end : v.t1)}" title="failover ${rel(fi.start)} → ${rel(fi.end)}">failover ${formatMs(s.failoverMs)}</div>` : ''}${(s.unavailabilityIntervals ?? []).map(
        (i) => html`<div class="seg unavail" style="${span(v, i.start, i.end)};top:12px" title="unavailable ${rel(i.start)} → ${rel(i.end)}"></div>`,
      )}`,
    ),
  );
  const spanS = (v.t1 - v.t0) / 1000;
  const step = niceStep(spanS);
  const ticks: SafeHtml[] = [];
  for (let x = 0; x <= spanS + 1e-9; x += step) ticks.push(html`<span style="left:${round((x / spanS) * 100, 3)}%">${round(x, 1)}s</span>`);
  return html`<div class="timeline" data-scenario-timeline="${v.index}">${rows}<div class="tl-row"><div></div><div class="tl-axis">${ticks}</div></div></div>
<div class="legend"><span><i style="background:var(--master)"></i>master</span><span><i style="background:repeating-linear-gradient(45deg,#1b7f3b,#1b7f3b 3px,#5aa872 3px,#5aa872 6px)"></i>master, not writable</span><span><i style="background:var(--replica)"></i>replica</span><span><i style="background:var(--down)"></i>down / failed</span><span><i style="background:var(--fault)"></i>fault window (shaded)</span><span><i style="background:var(--split)"></i>two writable masters</span><span><i style="background:#455a64"></i>failover</span><span><i style="background:#e37400"></i>client path unavailable</span></div>`;
}

function keyList(v: ScenarioView, title: string, count: number, sample: string[], field: string): SafeHtml {
  if (count === 0 && sample.length === 0) return html`<h3>${title}: none</h3>`;
  const shown = sample.slice(0, 100);
  return html`<h3 data-field="${field}">${title}: ${formatCount(count)}${shown.length < count ? ` (first ${shown.length} shown)` : ''}</h3>
<ol class="list-keys mono">${shown.map((k) => {
    const ack = v.h.acknowledged.get(k);
    return html`<li title="${ack ? `acknowledged at ${formatOffset(ack.time - v.t0)} via ${printable(ack.via)}` : ''}">${printable(k)}${ack ? html` <span class="note">@${formatOffset(ack.time - v.t0)}</span>` : ''}</li>`;
  })}</ol>`;
}

function errorTable(v: ScenarioView): SafeHtml {
  const rows = [...v.h.errors.values()].sort((a, b) => b.fail + b.info - (a.fail + a.info));
  if (rows.length === 0) return html``;
  return html`<table class="errors"><thead><tr><th>Error</th><th class="num">failed</th><th class="num">indeterminate</th><th class="num">first</th><th class="num">last</th></tr></thead><tbody>
${rows.map((e) => html`<tr><td class="mono">${printable(e.error)}</td><td class="num">${formatCount(e.fail)}</td><td class="num">${formatCount(e.info)}</td><td class="num">${formatOffset(e.first - v.t0)}</td><td class="num">${formatOffset(e.last - v.t0)}</td></tr>`)}
</tbody></table>`;
}

function failuresTable(v: ScenarioView): SafeHtml {
  const { h } = v;
  if (h.failureCount === 0) return html`<h3>Failed and indeterminate operations: none</h3>`;
  return html`<h3>Failed and indeterminate operations: ${formatCount(h.failureCount)} (${formatCount(h.counts.fail)} failed, ${formatCount(h.counts.info)} indeterminate${h.failures.length < h.failureCount ? `; first ${h.failures.length} shown` : ''})</h3>
${errorTable(v)}
<details ${h.failureCount <= 20 ? 'open' : ''}><summary>operations</summary>
<table class="failures"><thead><tr><th class="num">at</th><th class="num">process</th><th>op</th><th>via</th><th>outcome</th><th>key</th><th>value</th><th>error</th><th class="num">latency</th></tr></thead><tbody>
${h.failures.map(
  (f) => html`<tr><td class="num">${formatOffset(f.time - v.t0)}</td><td class="num">${f.process}</td><td>${printable(f.f)}</td><td>${printable(f.via)}</td><td>${f.phase === 'info' ? 'indeterminate' : 'fail'}</td><td class="mono">${shownValue(f.key)}</td><td class="mono">${shownValue(f.value)}</td><td>${printable(f.error ?? '')}</td><td class="num">${formatMs(f.latencyMs ?? undefined)}</td></tr>`,
)}</tbody></table></details>`;
}

function configFiles(s: ScenarioResult): SafeHtml {
  if (s.configFiles.length === 0) return html`<p class="note">No configuration files recorded.</p>`;
  return html`${s.configFiles.map(
    (c) => html`<details class="config"><summary>${printable(c.instance)} — ${printable(c.kind)}</summary><pre>${printableText(c.content)}</pre></details>`,
  )}`;
}

function scenarioSection(v: ScenarioView, run: LoadedRun): SafeHtml {
  const { s, h } = v;
  const charts = v.buckets
    ? html`<div class="chart-title">Throughput (completions per second, bucket ${formatMs(v.buckets.bucketMs)})</div>
<div class="chart" id="chart-throughput-${v.index}" data-chart="throughput"></div>
<div class="chart-title">Latency (p50 / p99 per bucket)</div>
<div class="chart" id="chart-latency-${v.index}" data-chart="latency"></div>
<div class="legend"><span><i style="background:var(--fault)"></i>fault window</span><span><i style="background:var(--split)"></i>two writable masters</span><span><i style="background:#e37400"></i>unavailable (bottom strip)</span><span>- - failover start / end</span></div>`
    : html`<p class="note">No operations recorded for this scenario${run.historyMissing ? ' (history file missing)' : ''}.</p>`;
  const showDetail = s.verdict !== 'skip' || h.completionTime.length > 0;
  return html`<section class="scenario v-${s.verdict}" id="${v.anchor}" data-scenario="${s.name}">
<h2>${printable(s.name)} ${scenarioBadge(s)}</h2>
<p>${printable(s.description)}</p>
${isAnomalyReproduced(s) ? html`<div class="warn" data-field="anomaly">${printable(anomalyLine(s))}</div>` : ''}
<p class="note">topology ${printable(s.topology)} · target ${s.target} · driver ${printable(s.driver)} · duration ${formatMs(s.durationMs)} · ${formatCount(h.invokes)} operations (${formatCount(h.counts.ok)} ok, ${formatCount(h.counts.fail)} failed, ${formatCount(h.counts.info)} indeterminate)</p>
${s.verdict === 'skip' ? html`<div class="warn" data-field="skipReason">Skipped: ${printable(s.skipReason ?? 'no reason given')}</div>` : ''}
${s.error ? html`<div class="warn" data-field="error">Harness error: ${printable(s.error)}</div>` : ''}
${(s.warnings ?? []).map((w) => html`<div class="warn">${printable(w)}</div>`)}
${
  showDetail
    ? html`${cards(v)}
<h3>Checks</h3>${checksTable(s)}
${evidenceTable(s)}
<h3>Timeline</h3>${timeline(v)}
${charts}
${keyList(v, 'Lost acknowledged writes', s.writes.lost, s.lostSample, 'lostList')}
${keyList(v, 'Unexpected writes', s.writes.unexpected, s.unexpectedSample, 'unexpectedList')}
${failuresTable(v)}`
    : ''
}
<h3>Topology</h3><div class="topology-wrap">${topologySvg(s, [...h.roles.keys()], v.index)}</div>
<h3>Configuration files used</h3>${configFiles(s)}
</section>`;
}

export async function buildRunPage(run: LoadedRun): Promise<string> {
  const r = run.results;
  const views = r.scenarios.map((s, i) => viewOf(s, run.histories.get(s.name) ?? new ScenarioHistory(), i));
  const data = { runId: r.runId, scenarios: views.map(chartData).filter((d): d is ChartData => d !== undefined) };
  const body = html`<header>
<h1>Resilience report — ${printable(r.topology)} on ${r.target}</h1>
${banner(r)}
${metaList(r)}
${run.historyMissing ? html`<div class="warn">History file ${printable(r.history)} not found: timelines and charts are empty.</div>` : ''}
${run.malformedLines ? html`<div class="warn">${run.malformedLines} history lines were not valid events and were skipped.</div>` : ''}
</header>
<h3>Scenarios</h3>
${scenarioTable(views)}
${clientMatrixTable(buildClientMatrix([r]))}
<nav class="toc">Jump to: ${views.map((v) => html`<a href="#${v.anchor}">${printable(v.s.name)}</a>`)}</nav>
${views.map((v) => scenarioSection(v, run))}`;
  return page(`${r.verdict.toUpperCase()} · ${r.topology} · ${r.runId}`, body, data);
}

export async function renderRunReport(runDir: string): Promise<string> {
  const run = await loadRun(runDir);
  const out = join(runDir, 'report.html');
  await writeFile(out, await buildRunPage(run));
  return out;
}
