/** LATENCY DOCTOR GRAPH HELP HISTOGRAM HISTORY LATEST RESET, as Redis 7.0's latency.c answers them. */
import type { CommandContext, CommandSpec, LatencySamples } from './command.js';
import { container, def, NOKEYS } from './define.js';
import { replyHelp } from './help.js';

/** fillCommandCDF: calls, then the cumulative counts at the histogram's power-of-two levels. */
function replyCdf(ctx: CommandContext, hist: LatencySamples): void {
  const rows = hist.cdf();
  ctx.reply.mapHeader(2);
  ctx.reply.bulk('calls');
  ctx.reply.integer(hist.total);
  ctx.reply.bulk('histogram_usec');
  ctx.reply.mapHeader(rows.length);
  for (const [us, count] of rows) {
    ctx.reply.integer(us);
    ctx.reply.integer(count);
  }
}

/** The stats to report: all commands with samples, or those named (a container name brings its subcommands). */
function histogramTargets(ctx: CommandContext, names: string[]): [string, LatencySamples][] {
  const s = ctx.server;
  const withData = (name: string): [string, LatencySamples] | null => {
    const hist = s.commandStats.get(name)?.hist;
    return hist !== undefined && hist !== null && hist.total > 0 ? [name, hist] : null;
  };
  const out: [string, LatencySamples][] = [];
  if (names.length === 0) {
    for (const name of s.commandStats.keys()) {
      const row = withData(name);
      if (row) out.push(row);
    }
    return out;
  }
  for (const arg of names) {
    const lower = arg.toLowerCase();
    const bar = lower.indexOf('|');
    const parent = s.commands.get(bar < 0 ? lower : lower.slice(0, bar));
    // Unknown names are skipped, as lookupCommandBySds finding nothing.
    if (parent === undefined) continue;
    const spec = bar < 0 ? parent : parent.subcommands?.find((c) => c.name === lower);
    if (spec === undefined) continue;
    const own = withData(spec.name);
    if (own) out.push(own);
    if (bar < 0) {
      for (const sub of spec.subcommands ?? []) {
        const row = withData(sub.name);
        if (row) out.push(row);
      }
    }
  }
  return out;
}

const FLAGS = 'admin noscript loading stale';
const ACL = 'admin slow dangerous';

const subs: CommandSpec[] = [
  def('latency|doctor', 2, FLAGS, NOKEYS, ACL, (ctx) => {
    const s = ctx.server;
    ctx.reply.verbatim(s.latency.doctor({
      threshold: s.config.getNumber('latency-monitor-threshold'),
      slowlogSlowerThan: s.config.getNumber('slowlog-log-slower-than'),
      hz: s.config.getNumber('hz'),
    }));
  }),
  def('latency|graph', 3, FLAGS, NOKEYS, ACL, (ctx, argv) => {
    const graph = ctx.server.latency.graph(argv[2]!);
    if (graph === undefined) ctx.reply.error(`ERR No samples available for event '${argv[2]}'`);
    else ctx.reply.verbatim(graph);
  }),
  def('latency|help', 2, 'loading stale', NOKEYS, 'slow', (ctx) => replyHelp(ctx.reply, 'LATENCY')),
  def('latency|histogram', -2, FLAGS, NOKEYS, ACL, (ctx, argv) => {
    const rows = histogramTargets(ctx, argv.slice(2));
    ctx.reply.mapHeader(rows.length);
    for (const [name, hist] of rows) {
      ctx.reply.bulk(name);
      replyCdf(ctx, hist);
    }
  }),
  def('latency|history', 3, FLAGS, NOKEYS, ACL, (ctx, argv) => {
    const rows = ctx.server.latency.history(argv[2]!) ?? [];
    ctx.reply.arrayHeader(rows.length);
    for (const [time, ms] of rows) {
      ctx.reply.arrayHeader(2);
      ctx.reply.integer(time);
      ctx.reply.integer(ms);
    }
  }),
  def('latency|latest', 2, FLAGS, NOKEYS, ACL, (ctx) => {
    const rows = ctx.server.latency.latest();
    ctx.reply.arrayHeader(rows.length);
    for (const [event, time, ms, max] of rows) {
      ctx.reply.arrayHeader(4);
      ctx.reply.bulk(event);
      ctx.reply.integer(time);
      ctx.reply.integer(ms);
      ctx.reply.integer(max);
    }
  }),
  def('latency|reset', -2, FLAGS, NOKEYS, ACL, (ctx, argv) => {
    const monitor = ctx.server.latency;
    if (argv.length === 2) ctx.reply.integer(monitor.reset());
    else ctx.reply.integer(argv.slice(2).reduce((n, e) => n + monitor.reset(e), 0));
  }),
];

export const commands: CommandSpec[] = [container('latency', 'slow', subs)];
