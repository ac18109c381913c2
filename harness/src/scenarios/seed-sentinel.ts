/**
 * The seed's Sentinel + HAProxy walk-through, step by step as a person does it with redis-cli: each step's
 * observation (INFO replication, INFO sentinel, INFO keyspace, NOAUTH, a dropped connection) becomes a check.
 */
import { Redis } from 'ioredis';
import type { HistoryEvent, Round } from '../history/events.js';
import type { CheckResult } from '../results/types.js';
import { ExpectationNotMet } from '../results/expectation.js';
import type { Topology } from '../topology/model.js';
import { dataPassword } from '../clients/index.js';
import { connectWithin } from '../clients/tcp.js';
import { asCheck, checkFailback, checkNoWritesToReplica, checkPromotion, haproxyDetectMs } from '../checkers/index.js';
import { parseInfo } from '../observer/observer.js';
import { delay, scaled, waitFor } from '../support/time.js';
import { expectWithin, initialMaster, promotionHint, markWorkloadEnd, markWorkloadStart, standardChecks, waitReplicationSettled, writePath } from './common.js';
import type { CheckOutput, Scenario, ScenarioContext, ScenarioFacts } from './types.js';
import { observationChecks } from '../checkers/seed-steps.js';

export { observationChecks };


const SEED_RATE = 200;

export function observe(ctx: ScenarioContext, step: string, ok: boolean, detail: string): void {
  ctx.noteItem('seedSteps', { step, ok, detail, at: ctx.history.now() });
  ctx.history.mark(`seed-${step}`, `${ok ? 'ok' : 'unexpected'}: ${detail}`);
  ctx.log(`${step}: ${ok ? 'as the seed shows' : 'NOT as the seed shows'}: ${detail}`);
}

/** A short-lived connection for one probe; the caller closes it. */
export function probeClient(ctx: ScenarioContext, name: string, password: string | undefined): Redis {
  const ep = ctx.endpoint(name);
  const c = new Redis({
    host: ep.host,
    port: ep.port,
    ...(password !== undefined ? { password } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    connectTimeout: scaled(1000),
    commandTimeout: scaled(1500),
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  return c;
}

async function infoOf(ctx: ScenarioContext, name: string, section: string, password: string | undefined): Promise<Record<string, string>> {
  const c = probeClient(ctx, name, password);
  try {
    await c.connect();
    return parseInfo(String(await c.info(section)));
  } finally {
    c.disconnect();
  }
}

/** master0's fields from INFO sentinel (name, status, address, slaves, sentinels). */
export function parseSentinelMaster(info: Record<string, string>): Record<string, string> | undefined {
  const line = info['master0'];
  if (!line) return undefined;
  const out: Record<string, string> = {};
  for (const kv of line.split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** Waits until `sentinel` reports master0 at `addr` with status ok; returns its line (or the last line it showed). */
async function waitSentinelAddress(ctx: ScenarioContext, sentinel: string, addr: string, timeoutMs: number): Promise<Record<string, string> | undefined> {
  let last: Record<string, string> | undefined;
  return waitFor(
    `${sentinel} to report the master at ${addr}`,
    async () => {
      last = parseSentinelMaster(await infoOf(ctx, sentinel, 'sentinel', undefined));
      return last && last['address'] === addr && last['status'] === 'ok' ? last : undefined;
    },
    timeoutMs,
    200,
  ).catch(() => last);
}

function promotionWait(t: Topology): number {
  return Math.max(t.budgets.failoverMs * 2, 20_000);
}

/** INFO replication on the master and every replica, as the seed's first check shows it. */
async function observeRoles(ctx: ScenarioContext, master: string, pass: string | undefined, step: string): Promise<void> {
  const replicas = ctx.topology.redis.filter((r) => r.name !== master).map((r) => r.name);
  const m = await infoOf(ctx, master, 'replication', pass);
  const problems: string[] = [];
  if (m['role'] !== 'master') problems.push(`${master} role:${m['role']}`);
  if (Number(m['connected_slaves']) !== replicas.length) problems.push(`${master} connected_slaves:${m['connected_slaves']} (expected ${replicas.length})`);
  for (let i = 0; i < replicas.length; i++) {
    const line = m[`slave${i}`] ?? '';
    if (!/state=online/.test(line)) problems.push(`${master} slave${i}:${line || 'missing'} (expected state=online)`);
  }
  const masterAddr = ctx.addressOf(master);
  for (const r of replicas) {
    const info = await infoOf(ctx, r, 'replication', pass);
    if (info['role'] !== 'slave') problems.push(`${r} role:${info['role']}`);
    if (`${info['master_host']}:${info['master_port']}` !== masterAddr) problems.push(`${r} master ${info['master_host']}:${info['master_port']} (expected ${masterAddr})`);
    if (info['master_link_status'] !== 'up') problems.push(`${r} master_link_status:${info['master_link_status']}`);
    if (info['master_replid'] !== m['master_replid']) problems.push(`${r} master_replid ${info['master_replid']} differs from ${master}'s ${m['master_replid']}`);
  }
  observe(
    ctx,
    step,
    problems.length === 0,
    problems.length ? problems.join('; ') : `${master} role:master connected_slaves:${replicas.length}, every slave state=online; ${replicas.join(', ')} role:slave of ${masterAddr}, link up, same master_replid`,
  );
}

async function observeNoAuth(ctx: ScenarioContext, master: string, pass: string | undefined): Promise<void> {
  if (pass === undefined) {
    observe(ctx, 'noauth', true, 'the topology sets no password; nothing to refuse');
    return;
  }
  const ep = ctx.endpoint(master);
  let reply: string;
  let c: RawConnection | undefined;
  try {
    c = await RawConnection.open(ep.host, ep.port, () => ctx.history.now(), scaled(1000));
    reply = await c.command(['GET', 'TestKey'], scaled(1000));
  } catch (e) {
    reply = e instanceof Error ? e.message : String(e);
  } finally {
    c?.close();
  }
  observe(ctx, 'noauth', /^NOAUTH\b/.test(reply), `GET without the password answered: ${reply}`);
}

async function observeSentinels(ctx: ScenarioContext, master: string, replicas: number, step: string): Promise<void> {
  const addr = ctx.addressOf(master);
  const t = ctx.topology;
  const problems: string[] = [];
  const shown: string[] = [];
  // Each Sentinel's own INFO sentinel is judged: one that never learnt the master must not hide behind another.
  for (const s of t.sentinels) {
    const m0 = await waitSentinelAddress(ctx, s.name, addr, 10_000);
    shown.push(m0 ? `${s.name} master0:${Object.entries(m0).map(([k, v]) => `${k}=${v}`).join(',')}` : `${s.name} no master0`);
    if (!m0) problems.push(`${s.name}: INFO sentinel has no master0`);
    else {
      if (m0['name'] !== s.masterName) problems.push(`${s.name}: name=${m0['name']} (expected ${s.masterName})`);
      if (m0['status'] !== 'ok') problems.push(`${s.name}: status=${m0['status']}`);
      if (m0['address'] !== addr) problems.push(`${s.name}: address=${m0['address']} (expected ${addr})`);
      if (Number(m0['slaves']) !== replicas) problems.push(`${s.name}: slaves=${m0['slaves']} (expected ${replicas})`);
      if (Number(m0['sentinels']) !== t.sentinels.length) problems.push(`${s.name}: sentinels=${m0['sentinels']} (expected ${t.sentinels.length})`);
    }
  }
  observe(ctx, step, problems.length === 0, problems.length ? problems.join('; ') : shown.join('; '));
}

/** Stops `victim` as the seed does (service stop: SIGTERM) and follows the switch through INFO sentinel. */
async function stopAndFollow(ctx: ScenarioContext, victim: string, pass: string | undefined, round: Round, preferred?: string): Promise<string> {
  // Failover time counts from the signal: Redis may take a while to exit on SIGTERM (it hands writes to a replica first).
  const at = ctx.history.mark('fault', `stop ${victim}`).time;
  await ctx.dep.terminate(victim);
  ctx.note(`faultAt${round}` as const, at);
  ctx.note(`victim${round}` as const, victim);
  if (round === 1) {
    ctx.note('faultAt', at);
    ctx.note('oldMaster', victim);
  }
  const candidates = ctx.topology.redis.filter((r) => r.name !== victim).map((r) => r.name);
  const byAddr = new Map(candidates.map((n) => [ctx.addressOf(n), n]));
  let promoted: string | undefined;
  try {
    promoted = await expectWithin(
      { check: 'seed-failover-' + round, failure: 'the Sentinels did not all switch to a promoted replica', since: `stopping ${victim}`, hint: promotionHint(ctx.topology) },
      async () => {
        let seen: string | undefined;
        for (const s of ctx.topology.sentinels) {
          const m0 = parseSentinelMaster(await infoOf(ctx, s.name, 'sentinel', undefined));
          const n = m0 ? byAddr.get(m0['address'] ?? '') : undefined;
          if (!n || (seen !== undefined && seen !== n)) return undefined;
          seen = n;
        }
        return seen;
      },
      promotionWait(ctx.topology),
      200,
    );
  } catch (e) {
    observe(ctx, `failover-${round}`, false, e instanceof Error ? e.message : String(e));
    throw e;
  }
  ctx.note(`promoted${round}` as const, promoted);
  const took = ctx.history.now() - at;
  const role = await waitFor(`${promoted} to report role:master`, async () => ((await infoOf(ctx, promoted!, 'replication', pass))['role'] === 'master' ? 'master' : undefined), 10_000).catch(() => 'not master');
  const expectFirst = preferred !== undefined && candidates.length === 1;
  const ok = role === 'master' && (!expectFirst || promoted === preferred);
  observe(ctx, `failover-${round}`, ok, `after stopping ${victim}, INFO sentinel shows address=${ctx.addressOf(promoted)} (${promoted}) after ${Math.round(took)} ms; ${promoted} role:${role}${expectFirst && promoted !== preferred ? ` (expected ${preferred})` : ''}`);
  return promoted;
}

async function startAndRejoin(ctx: ScenarioContext, old: string, master: string, pass: string | undefined, round: Round): Promise<void> {
  // Marked before the start: the returning node can be seen rejoined before the start call returns.
  const at = ctx.history.mark('heal', `start ${old}`).time;
  await ctx.dep.start(old);
  ctx.note(`healAt${round}` as const, at);
  if (round === 1) ctx.note('healAt', at);
  const want = ctx.addressOf(master);
  let last: Record<string, string> = {};
  const ok = await waitFor(
    `${old} to come back as a replica of ${master} with its link up`,
    async () => {
      last = await infoOf(ctx, old, 'replication', pass);
      return last['role'] === 'slave' && `${last['master_host']}:${last['master_port']}` === want && last['master_link_status'] === 'up';
    },
    promotionWait(ctx.topology) + 10_000,
    200,
  ).catch(() => false);
  observe(ctx, `failback-${round}`, ok, `${old} after restart: role:${last['role']} master ${last['master_host']}:${last['master_port']} master_link_status:${last['master_link_status']}${ok ? '' : ` (expected role:slave of ${want}, link up)`}`);
  if (!ok) throw new ExpectationNotMet(`seed-failback-${round}`, `${old} did not rejoin as a replica of ${master} within ${Math.round(scaled(promotionWait(ctx.topology) + 10_000) / 1000)} s of starting it again: check that it can reach ${master} (masterauth) and that Sentinel reconfigures returning masters`);
}


function roundChecks(events: HistoryEvent[], facts: ScenarioFacts, t: Topology, round: Round): CheckResult[] {
  const victim = facts[`victim${round}`] as string | undefined;
  const promoted = facts[`promoted${round}`] as string | undefined;
  const faultAt = facts[`faultAt${round}`] as number | undefined;
  const healAt = facts[`healAt${round}`] as number | undefined;
  const suffix = round === 1 ? '' : `-${round}`;
  if (!victim || !promoted || faultAt === undefined) return [{ name: `promotion${suffix}`, verdict: 'fail', detail: `round ${round} never completed its failover` }];
  const out: CheckResult[] = [{ ...asCheck(checkPromotion(events, { oldMaster: victim, faultAt, withinMs: t.budgets.failoverMs })), name: `promotion${suffix}` }];
  const addr = (facts['addresses'] as Record<string, string> | undefined)?.[promoted];
  if (healAt !== undefined && addr) out.push({ ...asCheck(checkFailback(events, { oldMaster: victim, newMaster: promoted, newMasterAddress: addr, after: healAt })), name: `failback${suffix}` });
  else out.push({ name: `failback${suffix}`, verdict: 'fail', detail: `round ${round} never brought ${victim} back` });
  return out;
}

function noteAddresses(ctx: ScenarioContext): void {
  const a: Record<string, string> = {};
  for (const r of ctx.topology.redis) a[r.name] = ctx.addressOf(r.name);
  ctx.note('addresses', a);
}

const WALK_STEPS = ['roles', 'noauth', 'sentinel-sees-master', 'failover-1', 'failback-1', 'failover-2', 'failback-2'];

export const sentinelSeedWalkthrough: Scenario = {
  name: 'sentinel-seed-walkthrough',
  description:
    "The seed's Sentinel half step by step: INFO replication on both sides (role, connected_slaves, slave0 state=online, master_link_status:up, equal master_replid), NOAUTH without the password, INFO sentinel master0 (name, status=ok, address, slaves, sentinels); stop the master (SIGTERM): the sentinels' address switches to the replica, which reports role:master; start the old master: it returns as a replica of the new one with its link up; stop the new master: the first is master again; start it: it rejoins. A set workload runs throughout.",
  topologyKinds: ['sentinel'],
  requires: ['sentinel', 'replicas'],
  unsupported: (t) => (t.redis.length < 2 ? 'needs at least one replica to promote' : undefined),
  async run(ctx) {
    const t = ctx.topology;
    const first = initialMaster(t);
    const pass = dataPassword(ctx.dep);
    const replicas = t.redis.length - 1;
    noteAddresses(ctx);
    await waitReplicationSettled(ctx, first);
    await observeRoles(ctx, first, pass, 'roles');
    await observeNoAuth(ctx, first, pass);
    await observeSentinels(ctx, first, replicas, 'sentinel-sees-master');
    const wl = await ctx.startWorkload({ kind: 'set', path: writePath(t), processes: 8, rate: SEED_RATE });
    markWorkloadStart(ctx, wl.via);
    await delay(scaled(500));
    const second = await stopAndFollow(ctx, first, pass, 1);
    await startAndRejoin(ctx, first, second, pass, 1);
    await waitReplicationSettled(ctx, second);
    const third = await stopAndFollow(ctx, second, pass, 2, first);
    await startAndRejoin(ctx, second, third, pass, 2);
    await delay(scaled(500));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, facts, t): CheckOutput {
    // A stopped master is graceful, but the returning one is writable until Sentinel converts it (about 10 s).
    const out = standardChecks(events, facts, t, {
      gracefulStop: true,
      maxLost: 100,
      lossRationale: 'a restarted old master accepts writes until Sentinel converts it to a replica, and those are lost',
      maxSplitBrainMs: Number.POSITIVE_INFINITY,
      maxSplitBrainWindowMs: 15_000,
    });
    out.checks.push(...observationChecks(facts, WALK_STEPS), ...roundChecks(events, facts, t, 1), ...roundChecks(events, facts, t, 2));
    return out;
  },
};

/** RESP over a raw socket, so the probe sees exactly what redis-cli sees: replies, errors, and a closed connection. */
class RawConnection {
  private buf = '';
  private waiters: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  closedAt?: number;
  private constructor(private readonly sock: import('node:net').Socket, private readonly now: () => number) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.drain();
    });
    const closed = (): void => {
      this.closedAt ??= this.now();
      for (const w of this.waiters.splice(0)) w.reject(new Error('Server closed the connection'));
    };
    sock.on('close', closed);
    sock.on('error', closed);
  }

  static async open(host: string, port: number, now: () => number, timeoutMs: number): Promise<RawConnection> {
    return new RawConnection(await connectWithin(host, port, timeoutMs), now);
  }

  /** One inline-free RESP reply as text: simple/error/integer lines, or a bulk string (nil as "(nil)"). */
  private drain(): void {
    while (this.waiters.length) {
      const nl = this.buf.indexOf('\r\n');
      if (nl < 0) return;
      const head = this.buf[0];
      const line = this.buf.slice(1, nl);
      if (head === '$') {
        const n = Number(line);
        if (n < 0) {
          this.buf = this.buf.slice(nl + 2);
          this.waiters.shift()!.resolve('(nil)');
          continue;
        }
        if (Buffer.byteLength(this.buf.slice(nl + 2)) < n + 2) return;
        const body = this.buf.slice(nl + 2, nl + 2 + n);
        this.buf = this.buf.slice(nl + 2 + n + 2);
        this.waiters.shift()!.resolve(body);
        continue;
      }
      this.buf = this.buf.slice(nl + 2);
      const w = this.waiters.shift()!;
      if (head === '-') w.reject(new Error(line));
      else w.resolve(line);
    }
  }

  command(args: string[], timeoutMs: number): Promise<string> {
    if (this.closedAt !== undefined) return Promise.reject(new Error('Server closed the connection'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

const TEST_VALUE = 'Some test string';

export const haproxyTestKey: Scenario = {
  name: 'haproxy-seed-testkey',
  description:
    "The seed's HAProxy check: SET TestKey through HAProxy, GET it back, INFO keyspace shows db0:keys=1; stop the master: the client sees its connection closed, then through the same HAProxy address reads TestKey again and writes succeed within the failover budget; no write through HAProxy gets READONLY once the switch has settled.",
  topologyKinds: ['sentinel'],
  requires: ['haproxy', 'sentinel', 'replicas'],
  unsupported: (t) => (t.redis.length < 2 ? 'needs at least one replica to promote' : undefined),
  async run(ctx) {
    const t = ctx.topology;
    const master = initialMaster(t);
    const pass = dataPassword(ctx.dep);
    noteAddresses(ctx);
    await waitReplicationSettled(ctx, master);
    const ep = ctx.endpoint(t.haproxy!.name);
    const now = (): number => ctx.history.now();
    const open = async (): Promise<RawConnection> => {
      const c = await RawConnection.open(ep.host, ep.port, now, scaled(1000));
      if (pass !== undefined) await c.command(['AUTH', pass], scaled(1000));
      return c;
    };
    // HAProxy needs rise x inter to mark the master up after a fresh start.
    const cli = await expectWithin({ check: 'seed-testkey-set-get', failure: 'no connection through HAProxy reached the master', since: 'the start', hint: `check HAProxy's health check (tcp-check expecting role:master) and its backends (${t.haproxy!.backends.join(', ')})` }, async () => {
      const c = await open();
      try {
        await c.command(['SET', 'TestKey', TEST_VALUE], scaled(1000));
        return c;
      } catch (e) {
        c.close();
        throw e;
      }
    }, 20_000, 200);
    const got = await cli.command(['GET', 'TestKey'], scaled(1000));
    const keyspace = parseInfo(await cli.command(['INFO', 'keyspace'], scaled(1000)));
    observe(ctx, 'testkey-set-get', got === TEST_VALUE && /^keys=1,/.test(keyspace['db0'] ?? ''), `SET TestKey, GET TestKey -> "${got}"; INFO keyspace db0:${keyspace['db0'] ?? '(none)'}`);

    const wl = await ctx.startWorkload({ kind: 'set', path: writePath(t), processes: 8, rate: SEED_RATE, keyPrefix: 'hp' });
    markWorkloadStart(ctx, wl.via);
    await delay(scaled(500));
    const stopAt = ctx.history.now();
    // Failover time counts from the signal, not from the process's exit.
    const faultAt = ctx.history.mark('fault', `stop ${master}`).time;
    await ctx.dep.terminate(master);
    ctx.note('faultAt', faultAt);
    ctx.note('oldMaster', master);
    // The seed's next command on the open connection fails: the proxy closed it with the master.
    const dropped = await waitFor('the client connection through HAProxy to be closed', async () => {
      await cli.command(['INFO', 'keyspace'], scaled(1000)).catch(() => undefined);
      return cli.closedAt !== undefined;
    }, promotionWait(t), 200).catch(() => false);
    cli.close();
    observe(ctx, 'connection-dropped', dropped, dropped ? `the open connection was closed ${Math.round((cli.closedAt ?? stopAt) - stopAt)} ms after ${master} was told to stop` : 'the open connection stayed up after the master stopped');

    let readBack = '';
    let wrote = false;
    const back = await waitFor('TestKey readable and a write accepted through the same HAProxy address', async () => {
      const c = await open();
      try {
        readBack = await c.command(['GET', 'TestKey'], scaled(1000));
        await c.command(['SET', 'TestKey2', 'after failover'], scaled(1000));
        wrote = true;
        const ks = parseInfo(await c.command(['INFO', 'keyspace'], scaled(1000)));
        return { at: ctx.history.now(), keys: ks['db0'] ?? '' };
      } finally {
        c.close();
      }
    }, promotionWait(t), 200).catch(() => undefined);
    const took = back ? back.at - faultAt : undefined;
    if (took !== undefined) ctx.note('testKeyBackMs', took);
    observe(
      ctx,
      'testkey-after-failover',
      back !== undefined && readBack === TEST_VALUE && wrote && took! <= t.budgets.failoverMs,
      back ? `GET TestKey -> "${readBack}" and SET accepted ${Math.round(took!)} ms after the stop (budget ${t.budgets.failoverMs} ms); INFO keyspace db0:${back.keys}` : `TestKey was not readable with a write accepted within ${promotionWait(t)} ms (last GET -> "${readBack}")`,
    );
    const hc = t.haproxy!.check;
    await delay(scaled(hc.interMs * (hc.fall + hc.rise) + 1000));
    await wl.stop();
    markWorkloadEnd(ctx);
    await wl.finalRead();
  },
  check(events, facts, t): CheckOutput {
    // SIGTERM is a graceful stop: Redis hands its last writes to the replica first, so nothing acknowledged may be lost.
    const out = standardChecks(events, facts, t, { maxLost: 0, gracefulStop: true });
    const promotion = checkPromotion(events, { oldMaster: String(facts.oldMaster), faultAt: facts.faultAt ?? 0, withinMs: t.budgets.failoverMs });
    const hc = t.haproxy?.check ?? { interMs: 1000, fall: 3, rise: 2 };
    out.checks.push(asCheck(promotion), checkNoWritesToReplica(events, { via: facts.via ?? 'haproxy', detectMs: haproxyDetectMs(hc), ...(t.haproxy ? { backends: t.haproxy.backends } : {}) }));
    out.checks.push(...observationChecks(facts, ['testkey-set-get', 'connection-dropped', 'testkey-after-failover']));
    return out;
  },
};
