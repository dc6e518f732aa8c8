import assert from 'node:assert/strict';
import {decodeGossip, encodeGossip, type GossipData, Outbox, SurrogateGossiper} from '../../../../src/lib/router/mesh/gossip.js';
import {Tag} from '../../../../src/lib/router/mesh/protocol.js';

const A = 'aa:00:00:00:00:0a';
const B = 'aa:00:00:00:00:0b';

/** A set of strings that merges by union: the simplest CRDT. */
class SetData implements GossipData {
  constructor(readonly items: Set<string>) {}

  encode(): Buffer[] {
    return [Buffer.from([...this.items].sort().join(','))];
  }

  merge(other: GossipData): GossipData {
    return new SetData(new Set([...this.items, ...(other as SetData).items]));
  }
}

const set = (...items: string[]) => new SetData(new Set(items));
const tick = () => new Promise(resolve => setImmediate(resolve));

/** A link whose socket takes one frame, then is full until drain() is called. */
function slowLink() {
  const sent: Buffer[] = [];
  let drain: () => void = () => {};
  return {
    sent,
    drain: () => drain(),
    link: {
      closed: false,
      shutdown: () => {},
      send: (body: Buffer) => {
        sent.push(body);
        return false;
      },
      writable: () => new Promise<void>(resolve => (drain = resolve)),
    },
  };
}

describe('mesh gossip', () => {
  it('frames carry tag, channel, source, the destination of a unicast, and the payload', () => {
    for (const h of [
      {tag: Tag.Gossip, channel: 'topology', source: A, payload: Buffer.from('x')},
      {tag: Tag.GossipBroadcast, channel: 'IPallocation', source: B, payload: Buffer.alloc(0)},
      {tag: Tag.GossipUnicast, channel: 'IPallocation', source: A, destination: B, payload: Buffer.from('donate')},
    ]) {
      assert.deepEqual(decodeGossip(encodeGossip(h)), h);
    }
    assert.throws(() => decodeGossip(Buffer.of(Tag.Gossip, 20, 1)), /message truncated/);
  });

  it('merges what waits for a busy neighbour, and sends gossip before broadcasts', async () => {
    const {sent, drain, link} = slowLink();
    const outbox = new Outbox(A, link);
    outbox.send('ch', set('1'));
    await tick();
    // The socket is full after the first frame: what comes meanwhile is merged.
    outbox.broadcast('ch', B, set('b1'));
    outbox.send('ch', set('2'));
    outbox.send('ch', set('3'));
    outbox.broadcast('ch', B, set('b2'));
    drain();
    await tick();
    drain();
    await tick();
    drain();
    await tick();
    const frames = sent.map(decodeGossip).map(h => [h.tag, h.source, h.payload.toString()]);
    assert.deepEqual(frames, [
      [Tag.Gossip, A, '1'],
      [Tag.Gossip, A, '2,3'],
      [Tag.GossipBroadcast, B, 'b1,b2'],
    ]);
  });

  it('writes no sooner than its gap after the last write, what came meanwhile merged', async () => {
    const sent: Buffer[] = [];
    const link = {closed: false, send: (b: Buffer) => sent.push(b) > 0, writable: async () => {}, shutdown: () => {}};
    const outbox = new Outbox(A, link, () => 100);
    outbox.send('ch', set('1'));
    await tick();
    assert.equal(sent.length, 1);
    outbox.send('ch', set('2'));
    await new Promise(resolve => setTimeout(resolve, 20));
    outbox.send('ch', set('3'));
    await new Promise(resolve => setTimeout(resolve, 40));
    assert.equal(sent.length, 1);
    await new Promise(resolve => setTimeout(resolve, 80));
    assert.deepEqual(sent.map(decodeGossip).map(h => h.payload.toString()), ['1', '2,3']);
  });

  it('stops sending once the connection is closed', async () => {
    const sent: Buffer[] = [];
    const link = {closed: true, send: (b: Buffer) => sent.push(b) > 0, writable: async () => {}, shutdown: () => {}};
    new Outbox(A, link).send('ch', set('1'));
    await tick();
    assert.deepEqual(sent, []);
  });

  it('a surrogate passes broadcasts on as they came, and gossip only once', () => {
    const surrogate = new SurrogateGossiper();
    assert.deepEqual(surrogate.onGossipBroadcast(A, Buffer.from('ring'))!.encode(), [Buffer.from('ring')]);
    assert.deepEqual(surrogate.onGossip(Buffer.from('ring'))!.encode(), [Buffer.from('ring')]);
    assert.equal(surrogate.onGossip(Buffer.from('ring')), undefined);
    assert.equal(surrogate.gossip(), undefined);
  });
});
