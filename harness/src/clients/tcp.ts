/** A raw TCP connection with a connect deadline, for clients that must see bytes and closes as they happen. */
import net from 'node:net';

/** Resolves with the connected socket; rejects on error or when no connection is made within timeoutMs. */
export function connectWithin(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${host}:${port} timed out`));
    }, timeoutMs);
    s.once('error', fail);
    s.once('connect', () => {
      clearTimeout(timer);
      // Later errors belong to whoever owns the socket now.
      s.off('error', fail);
      resolve(s);
    });
  });
}
