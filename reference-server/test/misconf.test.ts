/**
 * A failed background save with save points and stop-writes-on-bgsave-error stops writes and PING with MISCONF (so
 * Sentinel sees the instance as down), side by side with redis-server; clearing the save points lifts it.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { RespClient } from './util/resp-client.js';
import { freePort, REF_BIN, stopChild, waitForPing } from './util/servers.js';
import { waitFor } from './util/wait.js';

async function replies(kind: 'real' | 'ref'): Promise<string[]> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `rr-misconf-${kind}-`));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  const child = kind === 'real' ? spawn('redis-server', args, { stdio: 'ignore' }) : spawn(process.execPath, [REF_BIN, ...args], { stdio: 'ignore' });
  try {
    await waitForPing(port);
    const c = await RespClient.connect(port);
    const out: string[] = [];
    const run = async (...argv: string[]): Promise<void> => {
      out.push(`${argv.join(' ')} -> ${(await c.call(argv)) ?? 'no reply'}`);
    };
    await run('CONFIG', 'SET', 'save', '1000000 1000000');
    await run('SET', 'k', 'before');
    // The save fails: its folder is gone.
    rmSync(dir, { recursive: true, force: true });
    await run('BGSAVE');
    await waitFor('the failed background save', async () => {
      const info = (await c.call(['INFO', 'persistence'])) ?? '';
      return info.includes('rdb_bgsave_in_progress:0') && info.includes('rdb_last_bgsave_status:err');
    });
    await run('PING');
    await run('SET', 'k', 'after');
    await run('GET', 'k');
    await run('MULTI');
    await run('INCR', 'n');
    await run('EXEC');
    await run('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no');
    await run('SET', 'k', 'allowed');
    await run('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'yes');
    await run('PING');
    await run('CONFIG', 'SET', 'save', '');
    await run('PING');
    await run('SET', 'k', 'again');
    c.close();
    return out;
  } finally {
    await stopChild(child, dir);
  }
}

describe('reference server: MISCONF after a failed background save', function () {
  this.timeout(60000);

  it('answers writes, EXEC of writes and PING as redis-server does until the save points are cleared', async () => {
    const [real, ref] = await Promise.all([replies('real'), replies('ref')]);
    expect(ref).to.deep.equal(real);
    expect(real.find((l) => l.startsWith('PING'))).to.match(/^PING -> -MISCONF Redis is configured to save RDB snapshots/);
    expect(real[real.length - 2]).to.equal('PING -> +PONG\r\n');
  });
});
