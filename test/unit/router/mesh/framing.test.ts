import assert from 'node:assert/strict';
import {drainedOrClosed, FrameReader, lengthPrefix, plainChannel} from '../../../../src/lib/router/mesh/framing.js';
import {encodeHeader, MAX_FRAME_BYTES, negotiateVersion, OUR_VERSIONS} from '../../../../src/lib/router/mesh/protocol.js';
import {socketPair} from '../../../helpers/socket-pair.js';

describe('mesh framing', () => {
  it('reads frames however TCP splits or joins them', async () => {
    const pair = await socketPair();
    try {
      const reader = new FrameReader(pair.server);
      const frames = [Buffer.from('one'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];
      const wire = Buffer.concat(frames.map(f => plainChannel.frame(f)));
      // Byte by byte for the first frames, then the rest in one write.
      for (const b of wire.subarray(0, 12)) pair.client.write(Buffer.of(b));
      pair.client.write(wire.subarray(12));
      for (const f of frames) assert.deepEqual(await reader.readFrame(), f);
    } finally {
      pair.close();
    }
  });

  it('reads fixed-size fields before frames, and keeps what came early', async () => {
    const pair = await socketPair();
    try {
      const reader = new FrameReader(pair.server);
      pair.client.write(Buffer.concat([encodeHeader(OUR_VERSIONS), plainChannel.frame(Buffer.from('hi'))]));
      await new Promise(resolve => setTimeout(resolve, 50));
      assert.deepEqual(await reader.readExact(7), Buffer.from('weave\x01\x02', 'latin1'));
      assert.equal((await reader.readFrame()).toString(), 'hi');
    } finally {
      pair.close();
    }
  });

  it('refuses a frame longer than the limit without reading it', async () => {
    const pair = await socketPair();
    try {
      const reader = new FrameReader(pair.server);
      pair.client.write(lengthPrefix(MAX_FRAME_BYTES + 1));
      await assert.rejects(reader.readFrame(), /frame of 10485761 bytes is larger than the 10485760 allowed/);
    } finally {
      pair.close();
    }
  });

  it('fails a pending read when the peer closes, and any read after', async () => {
    const pair = await socketPair();
    try {
      const reader = new FrameReader(pair.server);
      const pending = reader.readFrame();
      pair.client.end(lengthPrefix(10));
      await assert.rejects(pending, /connection closed by peer/);
      await assert.rejects(reader.readExact(1), /connection closed by peer/);
    } finally {
      pair.close();
    }
  });
});

describe('waiting for a socket to take writes again', () => {
  /** Writes until the socket's buffer is full. */
  const fill = (socket: import('node:net').Socket) => {
    while (socket.write(Buffer.alloc(256 * 1024))) {
      // until write() says to wait
    }
  };

  it('resolves at each drain, and leaves no listener behind however often it waits', async () => {
    const pair = await socketPair();
    try {
      const listeners = () => ['drain', 'close', 'error'].map(event => pair.client.listenerCount(event));
      const before = listeners();
      pair.server.pause();
      for (let round = 0; round < 15; round++) {
        fill(pair.client);
        const waited = drainedOrClosed(pair.client);
        pair.server.resume();
        await waited;
        pair.server.pause();
        assert.equal(pair.client.writableNeedDrain, false);
      }
      assert.deepEqual(listeners(), before);
    } finally {
      pair.close();
    }
  });

  it('resolves when the socket closes instead, and at once when it has room', async () => {
    const pair = await socketPair();
    await drainedOrClosed(pair.client);
    pair.server.pause();
    fill(pair.client);
    const waited = drainedOrClosed(pair.client);
    pair.close();
    await waited;
    assert.equal(pair.client.listenerCount('drain'), 0);
  });
});

describe('mesh protocol version negotiation', () => {
  const header = (min: number, max: number) => Buffer.concat([Buffer.from('weave'), Buffer.of(min, max)]);

  it('takes the highest version both ends speak', () => {
    assert.equal(negotiateVersion({min: 1, max: 2}, header(1, 2)), 2);
    assert.equal(negotiateVersion({min: 1, max: 2}, header(1, 1)), 1);
    assert.equal(negotiateVersion({min: 1, max: 2}, header(2, 9)), 2);
    assert.equal(negotiateVersion({min: 2, max: 2}, header(1, 2)), 2);
  });

  it('refuses ranges that do not overlap, in the original words', () => {
    assert.throws(() => negotiateVersion({min: 1, max: 2}, header(3, 4)), /^ProtocolError: remote version range \[3,4\] is incompatible with ours \[1,2\]$/);
    assert.throws(() => negotiateVersion({min: 2, max: 2}, header(1, 1)), /remote version range \[1,1\] is incompatible with ours \[2,2\]/);
  });

  it('refuses something that is not a weave header', () => {
    assert.throws(() => negotiateVersion(OUR_VERSIONS, Buffer.from('GET / H')), /remote protocol header not recognised: \[71 69 84 32 47\]/);
  });
});
