/** The SHA-1 behind DEBUG DIGEST gives Node's crypto result for every length around the block boundaries, and in place. */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { sha1Into } from '../store/sha1.js';

describe('sha1Into (DEBUG DIGEST)', () => {
  it('matches crypto for bytes and latin1 strings of 0..300 bytes, and when the output is the input', () => {
    for (let len = 0; len <= 300; len++) {
      const bytes = randomBytes(len);
      const want = createHash('sha1').update(bytes).digest();
      const out = Buffer.alloc(20);
      sha1Into(bytes, out);
      expect(out.equals(want), `bytes, length ${len}`).to.equal(true);
      sha1Into(bytes.toString('latin1'), out);
      expect(out.equals(want), `latin1 string, length ${len}`).to.equal(true);
    }
    const d = randomBytes(20);
    const want = createHash('sha1').update(d).digest();
    sha1Into(d, d);
    expect(d.equals(want)).to.equal(true);
  });
});
