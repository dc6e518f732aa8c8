import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import type {Remote} from '../../../src/lib/net/fdb.js';
import {planRelays, relayDevice, relayVni, treeBranches, treeVni} from '../../../src/lib/router/dataplane/relay-plan.js';
import {Paths} from '../../../src/lib/router/mesh/paths.js';

/** The paths of a graph given as undirected edges such as 'a-b'. */
function graph(...edges: string[]): Paths {
  const g = new Map<string, Set<string>>();
  for (const edge of edges) {
    const [x, y] = edge.split('-') as [string, string];
    for (const [from, to] of [[x, y], [y, x]] as const) g.set(from, (g.get(from) ?? new Set()).add(to));
  }
  return new Paths(g);
}

const remotes = (...names: string[]): Map<string, Remote> => new Map(names.map(n => [n, {dst: `ip-${n}`}]));

describe('relay plan', () => {
  it('a full mesh needs no relay device', () => {
    assert.equal(planRelays(graph('a-b', 'b-c', 'a-c'), 'a', remotes('b', 'c')).devices.size, 0);
  });

  it('a line a–b–c: each end one bridged device for the other, the middle one relay each way', () => {
    const g = graph('a-b', 'b-c');
    const [end] = [...planRelays(g, 'a', remotes('b')).devices.values()].filter(d => d.role === 'end');
    assert.deepEqual(end, {name: relayDevice(relayVni('c', 'a')), vni: relayVni('c', 'a'), role: 'end', sends: [{dst: 'ip-b', vni: relayVni('a', 'c')}], peer: 'c'});
    const relays = [...planRelays(g, 'b', remotes('a', 'c')).devices.values()].filter(d => d.role === 'relay').map(d => [d.source, d.peer, d.sends[0]!.dst, d.vni === d.sends[0]!.vni]);
    assert.deepEqual(relays.sort(), [
      ['a', 'c', 'ip-c', true],
      ['c', 'a', 'ip-a', true],
    ]);
    // What a sends to c is what b relays, and what c receives: one VNI along the path.
    const atC = [...planRelays(g, 'c', remotes('b')).devices.values()].find(d => d.role === 'end')!;
    assert.equal(atC.vni, end!.sends[0]!.vni);
  });

  it('a line a–b–c: broadcasts along the trees: one copy from a to b, which b sends on to c as unicast from a', () => {
    const g = graph('a-b', 'b-c');
    const atA = [...planRelays(g, 'a', remotes('b')).devices.values()].find(d => d.role === 'tree-source')!;
    assert.deepEqual(atA.sends, [{dst: 'ip-b', vni: treeVni('a', 'b')}]);
    const hop = [...planRelays(g, 'b', remotes('a', 'c')).devices.values()].find(d => d.role === 'tree-hop' && d.peer === 'a')!;
    assert.equal(hop.vni, treeVni('a', 'b'));
    // c, a leaf, gets it at its end device for a: it learns a's MACs there.
    assert.deepEqual(hop.sends, [{dst: 'ip-c', vni: relayVni('a', 'c')}]);
  });

  it('a star around b: a sends each broadcast to b once, b to each other leaf once', () => {
    const g = graph('a-b', 'b-c', 'b-d', 'b-e');
    const atA = [...planRelays(g, 'a', remotes('b')).devices.values()];
    assert.deepEqual(atA.filter(d => d.role === 'tree-source').map(d => d.sends), [[{dst: 'ip-b', vni: treeVni('a', 'b')}]]);
    const hop = [...planRelays(g, 'b', remotes('a', 'c', 'd', 'e')).devices.values()].find(d => d.role === 'tree-hop' && d.peer === 'a')!;
    assert.deepEqual(
      hop.sends.map(r => [r.dst, r.vni]),
      ['c', 'd', 'e'].map(leaf => [`ip-${leaf}`, relayVni('a', leaf)]),
    );
  });

  it('a longer line a–b–c–d: c, inside a\'s tree, delivers a\'s broadcasts and mirrors them on to d', () => {
    const g = graph('a-b', 'b-c', 'c-d');
    const hop = [...planRelays(g, 'b', remotes('a', 'c')).devices.values()].find(d => d.role === 'tree-hop' && d.peer === 'a')!;
    assert.deepEqual(hop.sends, [{dst: 'ip-c', vni: treeVni('a', 'c')}]);
    const atC = [...planRelays(g, 'c', remotes('b', 'd')).devices.values()].filter(d => d.peer === 'a' && d.role.startsWith('tree'));
    const into = atC.find(d => d.role === 'tree-in')!;
    const out = atC.find(d => d.role === 'tree-out')!;
    assert.equal(into.vni, treeVni('a', 'c'));
    assert.equal(into.mirror, out.name);
    // Unicast learnt behind it goes back towards a, as from c's end device for a.
    assert.deepEqual(into.sends, [{dst: 'ip-b', vni: relayVni('c', 'a')}]);
    assert.deepEqual(out.sends, [{dst: 'ip-d', vni: relayVni('a', 'd')}]);
    assert.deepEqual(
      g.peers.map(p => g.children('a', p)),
      [['b'], ['c'], ['d'], []],
    );
  });

  it('a longer line a–b–c–d: the middle peers relay only the pairs whose path crosses them', () => {
    const g = graph('a-b', 'b-c', 'c-d');
    const pairs = (us: string, ns: Map<string, Remote>) =>
      [...planRelays(g, us, ns).devices.values()]
        .filter(d => d.role === 'relay')
        .map(d => `${d.source}>${d.peer} via ${d.sends[0]!.dst}`)
        .sort();
    assert.deepEqual(pairs('b', remotes('a', 'c')), ['a>c via ip-c', 'a>d via ip-c', 'c>a via ip-a', 'd>a via ip-a']);
    assert.deepEqual(pairs('c', remotes('b', 'd')), ['a>d via ip-d', 'b>d via ip-d', 'd>a via ip-b', 'd>b via ip-b']);
    assert.deepEqual([...planRelays(g, 'a', remotes('b')).devices.values()].filter(d => d.role === 'end').map(d => d.peer).sort(), ['c', 'd']);
  });

  it('at most `limit` devices, our own ends first; the rest counted', () => {
    const plan = planRelays(graph('a-b', 'b-c', 'c-d'), 'b', remotes('a', 'c'), 2);
    assert.deepEqual([...plan.devices.values()].map(d => d.role), ['end', 'tree-source']);
    assert.equal(plan.over, 8);
  });

  it('no device through a first hop the overlay does not send to (a peer it may not carry)', () => {
    assert.equal(planRelays(graph('a-b', 'b-c'), 'a', remotes()).devices.size, 0);
  });

  it('tree branches (the sleeve\'s): a full mesh has none; a line a–b–c–d: a sends to b to pass on, b passes a\'s on to c, c to d', () => {
    const all = () => true;
    assert.deepEqual(treeBranches(graph('a-b', 'b-c', 'a-c'), 'a', all), {branching: [], branches: new Map()});
    const g = graph('a-b', 'b-c', 'c-d');
    assert.deepEqual(treeBranches(g, 'a', all), {branching: ['b'], branches: new Map()});
    assert.deepEqual(treeBranches(g, 'b', all), {branching: ['c'], branches: new Map([['a', ['c']], ['c', ['a']], ['d', ['a']]])});
    assert.deepEqual(treeBranches(g, 'c', all), {branching: ['b'], branches: new Map([['a', ['d']], ['b', ['d']], ['d', ['b']]])});
    // A child the data path does not carry (another path's neighbour) is left out.
    assert.deepEqual(treeBranches(g, 'b', peer => peer !== 'c'), {branching: [], branches: new Map([['c', ['a']], ['d', ['a']]])});
  });

  it('a star around b: b passes each leaf\'s broadcasts on to the other leaves; the leaves only send theirs to b', () => {
    const g = graph('a-b', 'b-c', 'b-d');
    assert.deepEqual(treeBranches(g, 'b', () => true).branches, new Map([['a', ['c', 'd']], ['c', ['a', 'd']], ['d', ['a', 'c']]]));
    assert.deepEqual(treeBranches(g, 'a', () => true), {branching: ['b'], branches: new Map()});
  });

  it('VNIs differ by direction and are never the direct overlay\'s', () => {
    assert.notEqual(relayVni('a', 'b'), relayVni('b', 'a'));
    for (let i = 0; i < 1000; i++) assert.ok(relayVni(`p${i}`, 'q') >= 2 && relayVni(`p${i}`, 'q') < 2 ** 24);
    assert.match(relayDevice(0x0208e7), /^vxr0208e7$/);
  });
});
