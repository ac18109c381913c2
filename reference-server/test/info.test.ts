import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { useBothServers } from './util/servers.js';

/** Field names per section of an INFO reply, skipping per-command and per-error sections whose lines depend on traffic. */
function fieldsBySection(raw: string): Map<string, string[]> {
  const body = raw.slice(raw.indexOf('\r\n') + 2).replace(/^txt:/, '');
  const out = new Map<string, string[]>();
  let cur = '';
  for (const line of body.split('\r\n')) {
    if (line.startsWith('# ')) {
      cur = line.slice(2);
      out.set(cur, []);
    } else if (line.includes(':') && cur) {
      out.get(cur)?.push(line.slice(0, line.indexOf(':')));
    }
  }
  return out;
}

describe('INFO matches redis-server 7.0 field names', function () {
  this.timeout(30000);
  const servers = useBothServers();

  it('default INFO has the same sections and fields in the same order', async () => {
    const get = async (port: number) => {
      const c = await RespClient.connect(port);
      await c.call(['SET', 'k', 'v']);
      const r = await c.call(['INFO']);
      c.close();
      return fieldsBySection(r ?? '');
    };
    const [want, got] = await Promise.all([get(servers.real.port), get(servers.ref.port)]);
    expect([...got.keys()]).to.deep.equal([...want.keys()]);
    for (const [section, fields] of want) {
      if (section === 'Server') {
        // Build-specific lines (os, gcc) exist in both; compare names only.
        expect(got.get(section)).to.include.members(fields.filter((f) => f !== 'executable' && f !== 'config_file'));
      } else if (section !== 'Errorstats') {
        expect(got.get(section), section).to.deep.equal(fields);
      }
    }
  });

  it('INFO everything has the same sections, and latencystats lines in Redis format', async () => {
    const get = async (port: number) => {
      const c = await RespClient.connect(port);
      await c.call(['PING']);
      await c.call(['CONFIG', 'GET', 'port']);
      const r = (await c.call(['INFO', 'everything'])) ?? '';
      c.close();
      return r;
    };
    const [want, got] = await Promise.all([get(servers.real.port), get(servers.ref.port)]);
    expect([...fieldsBySection(got).keys()]).to.deep.equal([...fieldsBySection(want).keys()]);
    expect(got).to.match(/\r\nlatency_percentiles_usec_ping:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n/);
    expect(got).to.match(/\r\nlatency_percentiles_usec_config\|get:p50=/);
  });
});
