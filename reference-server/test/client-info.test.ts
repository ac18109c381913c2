/** CLIENT INFO's query-buffer figure, side by side with redis-server: the batch being run is still in the buffer. */
import { expect } from 'chai';
import net from 'node:net';
import { startRealRedis, startRefInProcess, type RunningServer } from './util/servers.js';
import { waitFor } from './fixtures/repl-kit.js';

const PING = '*1\r\n$4\r\nPING\r\n';
const CLIENT_INFO = '*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n';

/** Sends one write holding the given commands and returns the CLIENT INFO line among the replies. */
async function infoAfter(port: number, payload: string): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  let got = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    got += d;
  });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  s.write(payload);
  const line = await waitFor('the CLIENT INFO reply', () => /\$\d+\r\n(id=[^\r]*)\r\n/.exec(got)?.[1], 5000, 5);
  s.destroy();
  return line;
}

for (const target of ['redis-server', 'reference'] as const) {
  describe(`CLIENT INFO query buffer [${target}]`, function () {
    this.timeout(20_000);
    let srv: RunningServer | undefined;
    before(async () => {
      srv = target === 'redis-server' ? await startRealRedis() : await startRefInProcess();
    });
    after(async () => {
      await srv?.stop();
    });

    it('counts the command being run, and the whole pipelined batch it came in', async () => {
      expect(await infoAfter(srv!.port, CLIENT_INFO)).to.match(/ qbuf=26 .* cmd=client\|info /);
      expect(await infoAfter(srv!.port, PING + CLIENT_INFO)).to.match(/ qbuf=40 /);
    });
  });
}
