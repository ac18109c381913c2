import { expect } from 'chai';
import { crc16, keyHashSlot } from '../../cluster/keyslot.js';

describe('cluster keyslot', () => {
  it('computes CRC16-XMODEM (the check value of "123456789" is 0x31C3)', () => {
    expect(crc16('123456789')).to.equal(0x31c3);
    expect(crc16('')).to.equal(0);
  });

  it('maps keys to the slots Redis documents', () => {
    expect(keyHashSlot('foo')).to.equal(12182);
    expect(keyHashSlot('bar')).to.equal(5061);
    expect(keyHashSlot('123456789')).to.equal(0x31c3 & 0x3fff);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(keyHashSlot('{user1000}.following')).to.equal(keyHashSlot('user1000'));
    expect(keyHashSlot('{user1000}.followers')).to.equal(keyHashSlot('user1000'));
    expect(keyHashSlot('foo{bar}{zap}')).to.equal(keyHashSlot('bar'));
    expect(keyHashSlot('foo{{bar}}zap')).to.equal(keyHashSlot('{bar'));
  });

  it('hashes the whole key when the tag is empty or unclosed', () => {
    expect(keyHashSlot('foo{}{bar}')).to.equal(crc16('foo{}{bar}') & 0x3fff);
    expect(keyHashSlot('foo{bar')).to.equal(crc16('foo{bar') & 0x3fff);
    expect(keyHashSlot('}foo{')).to.equal(crc16('}foo{') & 0x3fff);
  });

  it('treats each latin1 char as one byte', () => {
    const key = Buffer.from([0xff, 0x00, 0x80, 0x7b, 0x41, 0x7d]).toString('latin1');
    expect(keyHashSlot(key)).to.equal(keyHashSlot('A'));
    expect(crc16('\xff\x00\x80')).to.be.a('number').within(0, 0xffff);
  });
});
