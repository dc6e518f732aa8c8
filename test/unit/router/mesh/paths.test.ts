import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {establishedGraph, type NumberedGraph, Paths, ReportedGraph} from '../../../../src/lib/router/mesh/paths.js';
import {Routes} from '../../../../src/lib/router/mesh/routes.js';
import {seededRandom} from '../../../helpers/random.js';
import {link, own, peer, view} from '../../../helpers/topologies.js';

/** A graph from undirected edges such as 'a-b'; `order` shuffles how its peers and neighbours are listed. */
function graph(edges: string[], order: (names: string[]) => string[] = names => names): Map<string, string[]> {
  const g = new Map<string, Set<string>>();
  for (const edge of edges) {
    const [x, y] = edge.split('-') as [string, string];
    for (const [from, to] of [[x, y], [y, x]] as const) g.set(from, (g.get(from) ?? new Set()).add(to));
  }
  return new Map(order([...g.keys()]).map(name => [name, order([...g.get(name)!])]));
}

const paths = (...edges: string[]) => new Paths(graph(edges));

/** A numbered graph by name again: each peer's links, in name order. */
const byNames = (g: NumberedGraph): Record<string, string[]> => Object.fromEntries(g.peers.map((name, i) => [name, [...g.links[i]!].map(n => g.peers[n]!)]));

/** Every tree as `parent>child` pairs, by source. */
function trees(p: Paths): Record<string, string[]> {
  return Object.fromEntries(p.peers.map(source => [source, p.peers.flatMap(at => p.children(source, at).map(child => `${at}>${child}`))]));
}

/** Everything asked of paths, from every peer: what two peers must agree on. */
function everything(p: Paths): unknown {
  return {
    peers: p.peers,
    hops: p.peers.map(from => [...p.firstHops(from)]),
    trees: trees(p),
    through: p.peers.map(via => p.pairsThrough(via)),
  };
}

/** n peers p00..p(n-1), each linked to the next and to `extra` more at random (a connected partial mesh). */
function randomMesh(n: number, extra: number, seed: number): string[] {
  const random = seededRandom(seed);
  const name = (i: number) => `p${String(i).padStart(2, '0')}`;
  const edges: string[] = [];
  for (let i = 1; i < n; i++) edges.push(`${name(i - 1)}-${name(i)}`);
  for (let i = 0; i < n; i++) for (let k = 0; k < extra; k++) edges.push(`${name(i)}-${name((i + 1 + Math.floor(random() * (n - 1))) % n)}`);
  return edges;
}

describe('mesh paths', () => {
  it('a line a–b–c–d: first hops, each tree a line, and which paths pass through whom', () => {
    const p = paths('a-b', 'b-c', 'c-d');
    assert.deepEqual([...p.firstHops('a')], [['b', 'b'], ['c', 'b'], ['d', 'b']]);
    assert.deepEqual([...p.firstHops('c')], [['b', 'b'], ['d', 'd'], ['a', 'b']]);
    assert.deepEqual(trees(p).a, ['a>b', 'b>c', 'c>d']);
    assert.deepEqual(trees(p).c, ['b>a', 'c>b', 'c>d']);
    assert.deepEqual(p.pairsThrough('a'), []);
    assert.deepEqual(p.pairsThrough('b'), [['a', 'c'], ['a', 'd'], ['c', 'a'], ['d', 'a']]);
    assert.deepEqual(p.pairsThrough('c'), [['a', 'd'], ['b', 'd'], ['d', 'a'], ['d', 'b']]);
    assert.ok(p.linked('b', 'c') && !p.linked('a', 'c') && !p.fullMesh);
  });

  it('a ring of six: ties go to the lower name, the far side of each tree through it', () => {
    const p = paths('a-b', 'b-c', 'c-d', 'd-e', 'e-f', 'f-a');
    assert.equal(p.hop('a', 'd'), 'b');
    assert.equal(p.hop('d', 'a'), 'c');
    assert.deepEqual(trees(p).a, ['a>b', 'a>f', 'b>c', 'c>d', 'f>e']);
    assert.deepEqual(trees(p).d, ['b>a', 'c>b', 'd>c', 'd>e', 'e>f']);
  });

  it('a star around b: every path through b, every leaf\'s tree a star at b', () => {
    const p = paths('a-b', 'b-c', 'b-d');
    assert.deepEqual(Object.fromEntries(p.firstHops('a')), {b: 'b', c: 'b', d: 'b'});
    assert.deepEqual(trees(p).a, ['a>b', 'b>c', 'b>d']);
    assert.deepEqual(trees(p).b, ['b>a', 'b>c', 'b>d']);
    assert.deepEqual(p.pairsThrough('b'), [['a', 'c'], ['a', 'd'], ['c', 'a'], ['c', 'd'], ['d', 'a'], ['d', 'c']]);
  });

  it('a partial mesh: ties go to the lower name from both ends', () => {
    const p = paths('a-b', 'a-c', 'b-d', 'c-d');
    assert.equal(p.hop('a', 'd'), 'b');
    assert.equal(p.hop('d', 'a'), 'b');
    assert.deepEqual(trees(p).a, ['a>b', 'a>c', 'b>d']);
  });

  it('disconnected: no path, no tree and no relay between the parts', () => {
    const p = paths('a-b', 'c-d');
    assert.deepEqual([...p.firstHops('a')], [['b', 'b']]);
    assert.equal(p.hop('a', 'c'), undefined);
    assert.deepEqual(trees(p).a, ['a>b']);
    assert.deepEqual(p.pairsThrough('b'), []);
    assert.deepEqual(p.firstHops('nobody'), new Map());
    assert.deepEqual(p.children('nobody', 'a'), []);
  });

  it('a full mesh: every path direct, every tree a star', () => {
    const p = paths('a-b', 'a-c', 'a-d', 'b-c', 'b-d', 'c-d');
    assert.ok(p.fullMesh);
    for (const source of p.peers) {
      assert.deepEqual(Object.fromEntries(p.firstHops(source)), Object.fromEntries(p.peers.filter(x => x !== source).map(x => [x, x])));
      assert.deepEqual(trees(p)[source], p.peers.filter(x => x !== source).map(x => `${source}>${x}`));
    }
  });

  it('in a random partial mesh, every tree reaches each peer once, over links, along shortest paths', () => {
    const edges = randomMesh(40, 1, 7);
    const p = new Paths(graph(edges));
    for (const source of p.peers) {
      const tree = trees(p)[source]!.map(pair => pair.split('>') as [string, string]);
      assert.deepEqual(tree.map(([, child]) => child).sort(), p.peers.filter(x => x !== source), `${source}'s tree reaches every other peer once`);
      for (const [parent, child] of tree) assert.ok(p.linked(parent, child), `${parent}–${child} is a link`);
      // Walking hop by hop takes as many steps each way: both shortest.
      const steps = (from: string, to: string) => {
        let n = 0;
        for (let at = from; at !== to; at = p.hop(at, to)!) n++;
        return n;
      };
      for (const to of p.peers) assert.equal(steps(source, to), steps(to, source), `${source}–${to}`);
    }
  });

  it('the same graph gives the same paths however its peers and neighbours are listed', () => {
    const edges = randomMesh(30, 2, 11);
    const reference = everything(new Paths(graph(edges)));
    for (let seed = 1; seed <= 3; seed++) {
      const random = seededRandom(seed);
      const shuffle = (names: string[]) => names.map(name => ({name, key: random()})).sort((x, y) => x.key - y.key).map(x => x.name);
      assert.deepEqual(everything(new Paths(graph(edges, shuffle))), reference);
    }
  });

  it('the original\'s gossip broadcasts: passed on to the neighbours the source has not reached by our turn', () => {
    const p = paths('a-b', 'a-c', 'b-d', 'c-d');
    assert.deepEqual(p.passOn('a', 'a'), ['b', 'c']);
    // b's turn comes before c's reaches d: d is b's to pass on to, not c's.
    assert.deepEqual(p.passOn('a', 'b'), ['d']);
    assert.deepEqual(p.passOn('a', 'c'), []);
    assert.deepEqual(p.passOn('a', 'd'), []);
    assert.deepEqual(new Paths(graph(['a-b', 'c-d'])).passOn('a', 'c'), []);
  });
});

describe('mesh paths from the topology', () => {
  const A = 'aa:00:00:00:00:0a';
  const B = 'aa:00:00:00:00:0b';
  const C = 'aa:00:00:00:00:0c';
  const D = 'aa:00:00:00:00:0d';
  const E = 'aa:00:00:00:00:0e';
  /** A ring A–B–C–D–E with the chord B–D. */
  const ring = {[A]: [B, E], [B]: [A, C, D], [C]: [B, D], [D]: [B, C, E], [E]: [A, D]};

  it('every peer, from its own view, works out the same paths', () => {
    const reference = everything(new Routes(view(A, ring)).established());
    for (const us of [B, C, D, E]) assert.deepEqual(everything(new Routes(view(us, ring)).established()), reference, us);
    assert.equal(new Routes(view(A, ring)).established().hop(A, C), B);
  });

  it('gossip goes over every reported connection; pod traffic and the report over established, symmetric ones', () => {
    // B reports C but C does not report B (one-sided); C's connection to D is not established yet.
    const t = view(A, {[A]: [B, D], [B]: [A, C], [C]: [D], [D]: [A, 'aa:00:00:00:00:0c?']});
    assert.deepEqual(byNames(new ReportedGraph(t).current()), {[A]: [B, D], [B]: [A, C], [C]: [D], [D]: [A, C]});
    assert.deepEqual(Object.fromEntries(establishedGraph(t)), {[A]: [B, D], [B]: [A], [C]: [], [D]: [A]});
    const routes = new Routes(t);
    assert.equal(routes.unicastAll(C), B);
    assert.equal(routes.established().hop(A, C), undefined);
    assert.deepEqual(routes.unicastTable(), [
      {dest: A, via: ''},
      {dest: B, via: B},
      {dest: D, via: D},
    ]);
    // Our children in each source's spanning tree: what the data plane passes on to.
    assert.deepEqual(routes.broadcastTable(), [
      {source: A, via: [B, D]},
      {source: B, via: [D]},
      {source: D, via: [B]},
    ]);
  });

  it('worked out once per change of the topology, and again after it', () => {
    const t = view(A, {[A]: [B], [B]: [A, C], [C]: [B]});
    const routes = new Routes(t);
    const before = routes.established();
    assert.equal(routes.established(), before);
    assert.equal(before.hop(A, C), B);
    link(t, C);
    const after = routes.established();
    assert.notEqual(after, before);
    // C's record does not report A yet: only gossip may go straight there.
    assert.equal(after.hop(A, C), B);
    assert.equal(routes.unicastAll(C), C);
  });

  it('the reported graph, kept between changes, follows each record that changed and the peers that came and went', () => {
    const t = view(A, {[A]: [B], [B]: [A, C], [C]: [B]});
    const kept = new ReportedGraph(t);
    const same = () => assert.deepEqual(byNames(kept.current()), byNames(new ReportedGraph(t).current()));
    assert.deepEqual(byNames(kept.current()), {[A]: [B], [B]: [A, C], [C]: [B]});
    // Our own record, changed in place.
    link(t, C);
    same();
    // Another's record, replaced by an update, naming a peer not known before.
    t.applyUpdate(own(link(peer(C), B, D)));
    assert.deepEqual(byNames(kept.current()), {[A]: [B, C], [B]: [A, C], [C]: [B, D], [D]: []});
    same();
    // D described; then C gone from our record and from B's, so C and D are collected as unreachable.
    t.applyUpdate(own(link(peer(D), C, E)));
    same();
    t.deleteLocalConnection(C);
    const b = link(peer(B), A, C);
    b.deleteLocalConnection(C);
    t.applyUpdate(own(b));
    same();
    t.garbageCollect();
    assert.deepEqual(byNames(kept.current()), {[A]: [B], [B]: [A]});
    same();
  });
});
