import { expect } from 'chai';
import { RespClient } from './util/resp-client.js';
import { startRefInProcess } from './util/servers.js';
import { seededRandom } from '../../harness/src/random/prng.js';

const VALID = [
  '*1\r\n$4\r\nPING\r\n', '*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n', '*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n', '*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n',
  'PING\r\n', 'ECHO "quoted \\x41"\r\n', '*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n', '*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n',
];

const ALLOWED_PROTOCOL_ERRORS = new Set([
  'Protocol error: invalid multibulk length', 'Protocol error: invalid bulk length', 'Protocol error: too big inline request',
  'Protocol error: too big mbulk count string', 'Protocol error: too big bulk count string', 'Protocol error: unbalanced quotes in request',
]);

function mutate(rand: () => number, s: string): string {
  const b = [...s];
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(rand() * (b.length + 1));
    const r = rand();
    const byte = String.fromCharCode(rand() < 0.5 ? '*$\r\n-0123456789 "\''.charCodeAt(Math.floor(rand() * 17)) : Math.floor(rand() * 256));
    if (r < 0.33) b.splice(pos, 1);
    else if (r < 0.66) b.splice(pos, 0, byte);
    else b[Math.min(pos, b.length - 1)] = byte;
  }
  return b.join('');
}

function randomInput(rand: () => number): string {
  const kind = rand();
  if (kind < 0.3) {
    let s = '';
    const len = Math.floor(rand() * 200);
    for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(rand() * 256));
    return s;
  }
  let s = '';
  const count = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < count; i++) s += VALID[Math.floor(rand() * VALID.length)];
  return kind < 0.9 ? mutate(rand, s) : s;
}

describe('protocol fuzz: malformed input never crashes or stalls the server', function () {
  this.timeout(60000);
  let ref: Awaited<ReturnType<typeof startRefInProcess>>;
  const open: RespClient[] = [];
  before(async () => {
    ref = await startRefInProcess();
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => ref.stop());

  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1000000);
  it(`survives 400 random and mutated inputs, answering only Redis protocol errors (FUZZ_SEED=${seed})`, async () => {
    const rand = seededRandom(seed);
    const healthy = await RespClient.connect(ref.port);
    open.push(healthy);
    for (let i = 0; i < 400; i++) {
      const input = randomInput(rand);
      const c = await RespClient.connect(ref.port);
      open.push(c);
      // Random chunking exercises the incremental parser's partial-frame paths.
      let p = 0;
      while (p < input.length) {
        const n = 1 + Math.floor(rand() * 40);
        c.write(input.slice(p, p + n));
        p += n;
      }
      const t0 = Date.now();
      const pong = await healthy.call(['PING'], 2000);
      expect(pong, `seed ${seed} case ${i}: healthy client got no PONG; input ${JSON.stringify(input)}`).to.equal('+PONG\r\n');
      expect(Date.now() - t0, `seed ${seed} case ${i}: slow PONG`).to.be.lessThan(1500);
      for (;;) {
        const f = await c.read(c.closed ? 0 : 20);
        if (!f) break;
        if (f.raw.startsWith('-ERR Protocol error')) {
          const msg = f.raw.slice(5, -2);
          expect(ALLOWED_PROTOCOL_ERRORS.has(msg) || /^Protocol error: expected '\$', got '.'$/s.test(msg), `seed ${seed} case ${i}: ${msg}`).to.equal(true);
          expect(await c.waitClosed(2000), `seed ${seed} case ${i}: not closed after protocol error`).to.equal(true);
        }
      }
      c.close();
      open.pop();
    }
    await healthy.call(['FLUSHALL']);
    expect(await healthy.call(['PING'])).to.equal('+PONG\r\n');
  });

  it('a huge declared bulk that never arrives does not block other clients', async () => {
    const a = await RespClient.connect(ref.port);
    const b = await RespClient.connect(ref.port);
    open.push(a, b);
    a.write('*2\r\n$4\r\nECHO\r\n$400000000\r\nabc');
    expect(await b.call(['PING'], 1000)).to.equal('+PONG\r\n');
    a.close();
    expect(await b.call(['PING'], 1000)).to.equal('+PONG\r\n');
  });

  it('pipelined commands split at every byte boundary give the same replies', async () => {
    const pipeline = VALID.join('');
    const whole = await RespClient.connect(ref.port);
    open.push(whole);
    await whole.call(['FLUSHALL']);
    whole.write(pipeline);
    const expected: string[] = [];
    for (let i = 0; i < VALID.length; i++) expected.push((await whole.read())?.raw ?? 'none');
    for (let cut = 1; cut < pipeline.length; cut += 7) {
      await whole.call(['FLUSHALL']);
      const c = await RespClient.connect(ref.port);
      open.push(c);
      c.write(pipeline.slice(0, cut));
      c.write(pipeline.slice(cut));
      const got: string[] = [];
      for (let i = 0; i < VALID.length; i++) got.push((await c.read())?.raw ?? 'none');
      expect(got, `cut at ${cut}`).to.deep.equal(expected);
      c.close();
    }
  });
});
