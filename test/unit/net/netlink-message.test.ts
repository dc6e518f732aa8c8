import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {encodeAttrs, message, NLM_F, parseAttrs, parseError, replies, RTM, u32} from '../../../src/lib/net/netlink/message.js';

describe('rtnetlink messages', () => {
  it('pads each attribute to 4 bytes and marks nested ones, so the kernel finds the next', () => {
    const bytes = encodeAttrs([
      {type: 3, value: Buffer.from('eth0\0')},
      {type: 18, value: [{type: 1, value: Buffer.from('veth')}]},
    ]);
    // 4 + 5 bytes padded to 12, then a nest of 4 + (4 + 4).
    assert.equal(bytes.length, 12 + 12);
    assert.equal(bytes.readUInt16LE(12 + 2), 18 | 0x8000);
    const attrs = parseAttrs(bytes);
    assert.equal(attrs.get(3)?.toString(), 'eth0\0');
    assert.equal(parseAttrs(attrs.get(18)!).get(1)?.toString(), 'veth');
  });

  it('frames a request with its length, type, flags and sequence number', () => {
    const m = message(RTM.NEWLINK, NLM_F.CREATE, 7, Buffer.alloc(16), [{type: 4, value: u32(1376)}]);
    assert.equal(m.readUInt32LE(0), m.length);
    assert.equal(m.readUInt16LE(4), RTM.NEWLINK);
    assert.equal(m.readUInt16LE(6), NLM_F.CREATE | NLM_F.REQUEST);
    assert.equal(m.readUInt32LE(8), 7);
    assert.equal(parseAttrs(m.subarray(32)).get(4)?.readUInt32LE(0), 1376);
  });

  it("reads an error with the kernel's words, and an ack as errno 0, from one datagram", () => {
    const error = (errno: number, words?: string) => {
      const tlv = words ? encodeAttrs([{type: 1, value: Buffer.from(`${words}\0`)}]) : Buffer.alloc(0);
      const payload = Buffer.concat([Buffer.alloc(4), Buffer.alloc(16), tlv]);
      payload.writeInt32LE(-errno, 0);
      const m = Buffer.concat([Buffer.alloc(16), payload]);
      m.writeUInt32LE(m.length, 0);
      m.writeUInt16LE(2, 4);
      // NLM_F_CAPPED, and NLM_F_ACK_TLVS when there are words.
      m.writeUInt16LE(0x100 | (words ? 0x200 : 0), 6);
      m.writeUInt32LE(errno, 8);
      return m;
    };
    const got = [...replies(Buffer.concat([error(101, 'Nexthop has invalid gateway'), error(0)]))];
    assert.deepEqual(
      got.map(r => [r.seq, parseError(r)]),
      [
        [101, {errno: 101, said: 'Nexthop has invalid gateway'}],
        [0, {errno: 0}],
      ],
    );
  });
});
