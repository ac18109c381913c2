/** JUnit XML for CI: one testsuite per topology, one testcase per scenario check. */
import type { RunResults, ScenarioResult } from './types.js';

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // XML 1.0 forbids most control characters, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

interface Case {
  classname: string;
  name: string;
  time: number;
  body: string;
  kind: 'pass' | 'fail' | 'skip' | 'error';
}

function casesOf(s: ScenarioResult): Case[] {
  const classname = `${s.topology}.${s.name}`;
  const time = s.durationMs / 1000;
  if (s.verdict === 'skip' && s.checks.length === 0) {
    return [{ classname, name: s.name, time, kind: 'skip', body: `<skipped message="${xmlEscape(s.skipReason ?? 'skipped')}"/>` }];
  }
  const out: Case[] = [];
  if (s.verdict === 'error') {
    out.push({ classname, name: `${s.name} (harness)`, time, kind: 'error', body: `<error message="${xmlEscape(s.error ?? 'harness error')}">${xmlEscape(s.error ?? '')}</error>` });
  }
  const per = s.checks.length ? time / s.checks.length : 0;
  for (const c of s.checks) {
    let body = '';
    if (c.verdict === 'fail') body = `<failure message="${xmlEscape(c.detail)}" type="${xmlEscape(c.name)}">${xmlEscape(c.detail + (c.data ? `\n${JSON.stringify(c.data)}` : ''))}</failure>`;
    else if (c.verdict === 'skip') body = `<skipped message="${xmlEscape(c.detail)}"/>`;
    else if (c.verdict === 'error') body = `<error message="${xmlEscape(c.detail)}"/>`;
    else body = `<system-out>${xmlEscape(c.detail)}</system-out>`;
    out.push({ classname, name: `${s.name} / ${c.name}`, time: per, kind: c.verdict, body });
  }
  return out;
}

export function toJUnit(results: RunResults): string {
  const byTopology = new Map<string, ScenarioResult[]>();
  for (const s of results.scenarios) {
    const list = byTopology.get(s.topology) ?? [];
    list.push(s);
    byTopology.set(s.topology, list);
  }
  if (byTopology.size === 0) byTopology.set(results.topology, []);
  const suites: string[] = [];
  for (const [topology, scenarios] of byTopology) {
    const cases = scenarios.flatMap(casesOf);
    const count = (k: Case['kind']): number => cases.filter((c) => c.kind === k).length;
    const time = scenarios.reduce((s, x) => s + x.durationMs, 0) / 1000;
    const lines = cases.map((c) => `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="${c.time.toFixed(3)}">${c.body}</testcase>`);
    suites.push(
      `  <testsuite name="${xmlEscape(topology)}" tests="${cases.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skip')}" time="${time.toFixed(3)}" timestamp="${xmlEscape(results.startedAt)}">\n` +
        `    <properties><property name="seed" value="${results.seed}"/><property name="driver" value="${xmlEscape(results.driver)}"/><property name="target" value="${xmlEscape(results.target)}"/><property name="command" value="${xmlEscape(results.command)}"/></properties>\n` +
        lines.join('\n') +
        (lines.length ? '\n' : '') +
        '  </testsuite>',
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="redis-ha-chaos" time="${(results.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
