import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import type {Remote} from '../../../src/lib/net/fdb.js';
import {firstHops, type Graph, planRelays, relayDevice, relayVni} from '../../../src/lib/router/dataplane/relay-plan.js';

/** A graph from undirected edges such as 'a-b'. */
function graph(...edges: string[]): Graph {
  const g = new Map<string, Set<string>>();
  for (const edge of edges) {
    const [x, y] = edge.split('-') as [string, string];
    for (const [from, to] of [[x, y], [y, x]] as const) g.set(from, (g.get(from) ?? new Set()).add(to));
  }
  return g;
}

const remotes = (...names: string[]): Map<string, Remote> => new Map(names.map(n => [n, {dst: `ip-${n}`}]));

describe('relay plan', () => {
  it('a full mesh needs no relay device', () => {
    assert.equal(planRelays(graph('a-b', 'b-c', 'a-c'), 'a', remotes('b', 'c')).devices.size, 0);
  });

  it('a line a–b–c: each end one bridged device for the other, the middle one relay each way', () => {
    const g = graph('a-b', 'b-c');
    const [end] = [...planRelays(g, 'a', remotes('b')).devices.values()];
    assert.deepEqual(end, {name: relayDevice(relayVni('c', 'a')), vni: relayVni('c', 'a'), sendVni: relayVni('a', 'c'), bridged: true, via: {dst: 'ip-b'}, peer: 'c'});
    const relays = [...planRelays(g, 'b', remotes('a', 'c')).devices.values()].map(d => [d.source, d.peer, d.via.dst, d.vni === d.sendVni, d.bridged]);
    assert.deepEqual(relays.sort(), [
      ['a', 'c', 'ip-c', true, false],
      ['c', 'a', 'ip-a', true, false],
    ]);
    // What a sends to c is what b relays, and what c receives: one VNI along the path.
    const atC = [...planRelays(g, 'c', remotes('b')).devices.values()][0]!;
    assert.equal(atC.vni, end!.sendVni);
  });

  it('a longer line a–b–c–d: the middle peers relay only the pairs whose path crosses them', () => {
    const g = graph('a-b', 'b-c', 'c-d');
    const pairs = (us: string, ns: Map<string, Remote>) =>
      [...planRelays(g, us, ns).devices.values()]
        .filter(d => !d.bridged)
        .map(d => `${d.source}>${d.peer} via ${d.via.dst}`)
        .sort();
    assert.deepEqual(pairs('b', remotes('a', 'c')), ['a>c via ip-c', 'a>d via ip-c', 'c>a via ip-a', 'd>a via ip-a']);
    assert.deepEqual(pairs('c', remotes('b', 'd')), ['a>d via ip-d', 'b>d via ip-d', 'd>a via ip-b', 'd>b via ip-b']);
    assert.deepEqual([...planRelays(g, 'a', remotes('b')).devices.values()].map(d => d.peer).sort(), ['c', 'd']);
  });

  it('at most `limit` devices, our own ends first; the rest counted', () => {
    const plan = planRelays(graph('a-b', 'b-c', 'c-d'), 'b', remotes('a', 'c'), 2);
    assert.deepEqual([...plan.devices.values()].map(d => d.bridged), [true, false]);
    assert.equal(plan.over, 3);
  });

  it('no device through a first hop the overlay does not send to (a peer it may not carry)', () => {
    assert.equal(planRelays(graph('a-b', 'b-c'), 'a', remotes()).devices.size, 0);
  });

  it('first hops are the same on every peer for the same graph: ties go to the lower name', () => {
    const g = graph('a-b', 'a-c', 'b-d', 'c-d');
    assert.equal(firstHops(g, 'a').get('d'), 'b');
    assert.equal(firstHops(g, 'd').get('a'), 'b');
  });

  it('VNIs differ by direction and are never the direct overlay\'s', () => {
    assert.notEqual(relayVni('a', 'b'), relayVni('b', 'a'));
    for (let i = 0; i < 1000; i++) assert.ok(relayVni(`p${i}`, 'q') >= 2 && relayVni(`p${i}`, 'q') < 2 ** 24);
    assert.match(relayDevice(0x0208e7), /^vxr0208e7$/);
  });
});
