// The JSON-lines side of a Node adapter (protocol in the README, "Client adapters"): reads the hello, lets the
// adapter connect, then runs every request concurrently and prints one reply per id. `ping` is answered at
// once, whatever the client library is doing.
import { createInterface } from 'node:readline';

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

/**
 * connect(hello, emitMessage) -> { client: "name version", ops: { set(req), get(req), ... } -> { value, addr },
 * close() }; classify(err) -> 'fail' (certainly not applied) | 'info' (unknown).
 */
export function runAdapter({ connect, classify }) {
  const lines = createInterface({ input: process.stdin });
  let session;
  let quitting = false;
  const emitMessage = (channel, message) => print({ type: 'message', channel, message, t: Date.now() });
  const log = (message) => print({ type: 'log', message });
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    try {
      await session?.close();
    } finally {
      process.exit(0);
    }
  };
  let connecting;
  lines.on('line', async (line) => {
    const msg = JSON.parse(line);
    if (!connecting) {
      connecting = connect(msg, emitMessage, log);
      session = await connecting;
      print({ type: 'ready', client: session.client });
      return;
    }
    // Requests that arrive while the client is still connecting wait for it.
    if (!session) await connecting;
    const { id, op } = msg;
    if (op === 'ping') return print({ id, type: 'ok', value: 'PONG' });
    if (op === 'quit') {
      print({ id, type: 'ok' });
      return quit();
    }
    const run = session.ops[op];
    const t0 = Date.now();
    if (!run) return print({ id, type: 'fail', error: `unsupported op ${op}`, t0, t1: t0 });
    try {
      const { value, addr } = await run(msg);
      print({ id, type: 'ok', value, t0, t1: Date.now(), ...(addr ? { addr } : {}) });
    } catch (err) {
      print({ id, type: classify(err), error: String(err?.message ?? err).split('\n')[0], t0, t1: Date.now() });
    }
  });
  lines.on('close', quit);
}

/** "host:port" of a net.Socket's peer, if connected. */
export function peerOf(stream) {
  return stream && stream.remoteAddress ? `${stream.remoteAddress}:${stream.remotePort}` : undefined;
}
