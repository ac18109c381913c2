/**
 * The thread behind blocking-socket.ts: it owns MIGRATE's target sockets and performs each connect, write and line
 * read with its timeout, answering on the port it was given and waking the waiting server thread through the shared
 * flag (the server thread sleeps in Atomics.wait, as Redis's connBlockingConnect/connSyncWrite/connSyncReadLine do).
 */
import net from 'node:net';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { BlockingReply, BlockingRequest } from './blocking-socket.js';

/** connSyncReadLine reads into a 1024-byte buffer: a longer reply line is cut there. */
const MAX_LINE = 1023;

interface Conn {
  socket: net.Socket;
  buffer: Buffer;
  closed: boolean;
  /** Wakes a pending read when data, EOF or an error arrives. */
  wake: (() => void) | null;
}

const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
const conns = new Map<number, Conn>();

function answer(reply: BlockingReply): void {
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function connect(id: number, host: string, portNum: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: portNum });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      const c: Conn = { socket, buffer: Buffer.alloc(0), closed: false, wake: null };
      socket.on('data', (d: Buffer) => {
        c.buffer = c.buffer.length === 0 ? d : Buffer.concat([c.buffer, d]);
        c.wake?.();
      });
      const gone = (): void => {
        c.closed = true;
        c.wake?.();
      };
      socket.on('end', gone);
      socket.on('close', gone);
      socket.on('error', gone);
      conns.set(id, c);
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(false);
    });
  });
}

function write(c: Conn, data: Uint8Array, timeoutMs: number): Promise<BlockingReply> {
  return new Promise((resolve) => {
    if (c.closed || c.socket.destroyed || !c.socket.writable) return resolve({ ok: false, timedOut: false });
    let done = false;
    const finish = (r: BlockingReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, timedOut: true }), timeoutMs);
    c.socket.write(data, (err) => finish({ ok: !err, timedOut: false }));
  });
}

function readLine(c: Conn, timeoutMs: number): Promise<string | 'timeout' | 'closed'> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const attempt = (): void => {
      clearTimeout(timer);
      const nl = c.buffer.indexOf(10);
      if (nl !== -1) {
        c.wake = null;
        const end = nl > 0 && c.buffer[nl - 1] === 13 ? nl - 1 : nl;
        const line = c.buffer.subarray(0, Math.min(end, MAX_LINE)).toString('latin1');
        c.buffer = c.buffer.subarray(nl + 1);
        resolve(line);
        return;
      }
      if (c.closed) {
        c.wake = null;
        resolve('closed');
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        c.wake = null;
        resolve('timeout');
        return;
      }
      c.wake = attempt;
      timer = setTimeout(attempt, left);
    };
    attempt();
  });
}

/** Up to count lines, each within timeoutMs; fewer when one timed out or the link closed. */
async function readLines(c: Conn, count: number, timeoutMs: number): Promise<BlockingReply> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const line = await readLine(c, timeoutMs);
    if (line === 'timeout' || line === 'closed') return { ok: false, timedOut: line === 'timeout', lines };
    lines.push(line);
  }
  return { ok: true, timedOut: false, lines };
}

async function serve(req: BlockingRequest): Promise<BlockingReply> {
  switch (req.op) {
    case 'connect':
      return { ok: await connect(req.id, req.host, req.port, req.timeoutMs), timedOut: false };
    case 'exchange': {
      const c = conns.get(req.id);
      if (!c) return { ok: false, timedOut: false, written: false, lines: [] };
      const w = await write(c, req.data, req.timeoutMs);
      if (!w.ok) return { ...w, written: false, lines: [] };
      return { ...(await readLines(c, req.count, req.timeoutMs)), written: true };
    }
    case 'close': {
      conns.get(req.id)?.socket.destroy();
      conns.delete(req.id);
      return { ok: true, timedOut: false };
    }
  }
}

parentPort!.on('message', (req: BlockingRequest) => {
  serve(req).then(answer, () => answer({ ok: false, timedOut: false }));
});
