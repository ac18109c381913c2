/**
 * A one-shot RESP client for readiness and fault checks: connect, send commands, read replies, close.
 * Kept apart from the workload's clients so bring-up never depends on client reconnect policies.
 */
import type { Topology } from '../../topology/model.js';
import { ExpectationNotMet } from '../../results/expectation.js';
import net from 'node:net';
import { FatalWaitError, timeScale, waitFor as waitWithDeadline } from '../../support/time.js';
import { parseInfo } from '../../support/info.js';


/** The drivers poll process and port state every 25 ms (a kill is seen gone sooner than the observer's samples). */
export function waitFor<T>(what: string, check: () => Promise<T | false | undefined>, timeoutMs: number, intervalMs = 25): Promise<T> {
  return waitWithDeadline(what, check, timeoutMs, intervalMs);
}

export type RespValue = string | number | null | RespValue[] | RespError;

export class RespError {
  constructor(readonly message: string) {}
}

/** Returns the index after one complete reply, or -1 when the buffer holds only part of it. */
function parseReply(buf: Buffer, start: number, out: RespValue[]): number {
  if (start >= buf.length) return -1;
  const eol = buf.indexOf('\r\n', start);
  if (eol < 0) return -1;
  const type = String.fromCharCode(buf[start]);
  const line = buf.toString('utf8', start + 1, eol);
  switch (type) {
    case '+':
      out.push(line);
      return eol + 2;
    case '-':
      out.push(new RespError(line));
      return eol + 2;
    case ':':
      out.push(Number(line));
      return eol + 2;
    case '$': {
      const len = Number(line);
      if (len < 0) {
        out.push(null);
        return eol + 2;
      }
      if (buf.length < eol + 2 + len + 2) return -1;
      out.push(buf.toString('utf8', eol + 2, eol + 2 + len));
      return eol + 2 + len + 2;
    }
    case '*': {
      const n = Number(line);
      if (n < 0) {
        out.push(null);
        return eol + 2;
      }
      const items: RespValue[] = [];
      let pos = eol + 2;
      for (let i = 0; i < n; i++) {
        pos = parseReply(buf, pos, items);
        if (pos < 0) return -1;
      }
      out.push(items);
      return pos;
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function encode(cmd: string[]): string {
  return `*${cmd.length}\r\n` + cmd.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** Sends the commands in one write and resolves with one reply per command. */
export function respCommands(host: string, port: number, cmds: string[][], timeoutMs = 1000): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${host}:${port}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (err?: Error, val?: RespValue[]) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(val ?? []);
    };
    sock.once('connect', () => sock.write(cmds.map(encode).join('')));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const out: RespValue[] = [];
      let pos = 0;
      try {
        while (out.length < cmds.length) {
          const next = parseReply(buf, pos, out);
          if (next < 0) return;
          pos = next;
        }
      } catch (e) {
        finish(e as Error);
        return;
      }
      finish(undefined, out);
    });
    sock.once('error', (e) => finish(new Error(`${host}:${port}: ${e.message}`)));
    sock.once('close', () => finish(new Error(`${host}:${port}: connection closed`)));
  });
}

/** Runs one command after an optional AUTH; a Redis error reply is thrown. */
export async function respCall(host: string, port: number, cmd: string[], password?: string, timeoutMs = 1000): Promise<RespValue> {
  const cmds = password !== undefined ? [['AUTH', password], cmd] : [cmd];
  const replies = await respCommands(host, port, cmds, timeoutMs);
  for (const r of replies) if (r instanceof RespError) throw new Error(`${host}:${port}: ${r.message}`);
  return replies[replies.length - 1];
}

/** A flat [k1, v1, k2, v2] reply as a map. */
export function pairs(v: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(v)) return out;
  for (let i = 0; i + 1 < v.length; i += 2) out[String(v[i])] = String(v[i + 1]);
  return out;
}

/** HAProxy up but never routing to the initial master: a failed check of the user's configuration (exit 1), with what to look at. */
export function haproxyNeverRouted(t: Topology, cause: unknown): ExpectationNotMet {
  const h = t.haproxy!;
  const why = cause instanceof Error ? cause.message.replace(/^timed out after (\d+) ms waiting for /, '') : String(cause);
  const waited = cause instanceof Error ? /^timed out after (\d+) ms/.exec(cause.message)?.[1] : undefined;
  return new ExpectationNotMet(
    'haproxy-routing',
    `HAProxy never routed to the master${waited ? ` within ${Math.round(Number(waited) / 1000)} s of starting` : ''} (${why}): check its health check (${h.check.roleCheck ? 'AUTH with its password, then tcp-check expecting role:master' : 'plain TCP check'}, inter ${h.check.interMs} ms, rise ${h.check.rise}) and its backends (${h.backends.join(', ')})`,
  );
}
