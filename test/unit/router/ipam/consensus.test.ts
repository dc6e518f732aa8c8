import assert from 'node:assert/strict';
import {Elector, Observer, type PaxosState, precedes, quorumOf} from '../../../../src/lib/router/ipam/consensus.js';
import {RouterConfigError} from '../../../../src/lib/errors.js';
import {parseIpallocInit} from '../../../../src/lib/router/config.js';

const names = ['aa:00:00:00:00:01', 'aa:00:00:00:00:02', 'aa:00:00:00:00:03', 'aa:00:00:00:00:04', 'aa:00:00:00:00:05'];

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** Electors gossiping over a lossy, reordering network; `decided` is what each saw agreed. */
class Cluster {
  readonly nodes: Elector[];
  readonly decided = new Map<number, string>();
  private queue: {to: number; state: PaxosState}[] = [];

  constructor(count: number, quorum: number) {
    this.nodes = names.slice(0, count).map((name, i) => {
      const node = new Elector({name, uid: String(1000 + i)});
      node.setQuorum(quorum);
      return node;
    });
  }

  private broadcast(from: number): void {
    for (let to = 0; to < this.nodes.length; to++) if (to !== from) this.queue.push({to, state: this.nodes[from]!.state()});
  }

  private check(i: number): void {
    const value = this.nodes[i]!.consensus();
    if (!value) return;
    const text = [...new Set(value)].sort().join(',');
    const earlier = this.decided.get(i);
    assert.ok(earlier === undefined || earlier === text, `node ${i} changed its mind: ${earlier} then ${text}`);
    this.decided.set(i, text);
  }

  propose(i: number): void {
    this.nodes[i]!.propose();
    this.check(i);
    this.broadcast(i);
  }

  /** Delivers one queued message (the `pick`-th); false when none is left. */
  deliver(pick: number, drop: boolean): boolean {
    if (this.queue.length === 0) return false;
    const [{to, state}] = this.queue.splice(pick % this.queue.length, 1) as [{to: number; state: PaxosState}];
    if (drop) return true;
    const node = this.nodes[to]!;
    if (node.update(state)) {
      if (node.think()) this.broadcast(to);
      this.check(to);
    }
    return true;
  }

  drain(): void {
    while (this.deliver(0, false));
  }
}

describe('router/ipam/consensus', () => {
  it('quorum: half the initial peers plus one; by default of the targets and ourselves', () => {
    assert.equal(quorumOf({mode: 'consensus'}, 0), 1);
    assert.equal(quorumOf({mode: 'consensus'}, 2), 2, '`router hostB hostC`: 3 peers');
    assert.equal(quorumOf({mode: 'consensus'}, 1), 2);
    assert.equal(quorumOf({mode: 'consensus', count: 5}, 0), 3);
    assert.equal(quorumOf({mode: 'consensus', count: 4}, 9), 3);
  });

  it('parses --ipalloc-init into its modes, with clear errors', () => {
    assert.deepEqual(parseIpallocInit(''), {mode: 'consensus'});
    assert.deepEqual(parseIpallocInit('consensus'), {mode: 'consensus'});
    assert.deepEqual(parseIpallocInit('consensus=3'), {mode: 'consensus', count: 3});
    assert.deepEqual(parseIpallocInit('observer'), {mode: 'observer'});
    assert.deepEqual(parseIpallocInit('seed=::1,AA:00:00:00:00:02'), {mode: 'seed', peers: ['00:00:00:00:00:01', 'aa:00:00:00:00:02']});
    const refused = (value: string, message: string) => assert.throws(() => parseIpallocInit(value), (e: Error) => e instanceof RouterConfigError && e.message === message);
    refused('consensus=0', 'invalid --ipalloc-init "consensus=0": the count is the number of initial peers, a whole number from 1');
    refused('consensus=x', 'invalid --ipalloc-init "consensus=x": the count is the number of initial peers, a whole number from 1');
    refused('seed=', 'invalid --ipalloc-init "seed=": "" is not a peer name (a MAC such as 8a:3e:3e:3e:3e:3e, or a short form such as ::1)');
    refused('seed=aa:00:00:00:00:01,host2', 'invalid --ipalloc-init "seed=aa:00:00:00:00:01,host2": "host2" is not a peer name (a MAC such as 8a:3e:3e:3e:3e:3e, or a short form such as ::1)');
    refused('bogus', 'invalid --ipalloc-init "bogus": expected consensus[=<count>], seed=<mac>,... or observer');
  });

  it('orders proposals by round, then proposer name, then uid', () => {
    const p = (round: number, name: string, uid: string) => ({round, proposer: {name, uid}});
    assert.ok(precedes(p(1, 'b', '9'), p(2, 'a', '1')));
    assert.ok(precedes(p(2, 'a', '9'), p(2, 'b', '1')));
    assert.ok(precedes(p(2, 'a', '9'), p(2, 'a', '10')), 'uids compare as numbers');
    assert.ok(!precedes(p(2, 'a', '9'), p(2, 'a', '9')));
  });

  it('a quorum of one agrees with itself at once', () => {
    const node = new Elector({name: names[0]!, uid: '1'});
    node.setQuorum(1);
    node.propose();
    assert.deepEqual(node.consensus(), [names[0]]);
  });

  it('three electors with a quorum of two agree on the peers that answered first', () => {
    const cluster = new Cluster(3, 2);
    cluster.propose(0);
    cluster.drain();
    assert.equal(cluster.decided.size, 3);
    const [value] = new Set(cluster.decided.values());
    assert.ok(value!.split(',').length >= 2, value);
    assert.equal(cluster.nodes[1]!.known, 3);
  });

  it('with competing proposers, lost and reordered messages, no two electors ever decide differently', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = random(seed);
      const size = 3 + (seed % 3);
      const cluster = new Cluster(size, Math.floor(size / 2) + 1);
      for (let step = 0; step < 400; step++) {
        if (rnd() < 0.08) cluster.propose(Math.floor(rnd() * size));
        cluster.deliver(Math.floor(rnd() * 1000), rnd() < 0.3);
      }
      // Then the network heals: one more proposal, everything delivered, everyone decides alike.
      cluster.propose(Math.floor(rnd() * size));
      cluster.drain();
      assert.equal(cluster.decided.size, size, `seed ${seed}: everyone decided`);
      assert.equal(new Set(cluster.decided.values()).size, 1, `seed ${seed}: ${JSON.stringify([...cluster.decided])}`);
    }
  });

  it('an observer never takes part', () => {
    const observer = new Observer();
    observer.setQuorum();
    observer.propose();
    assert.equal(observer.update(), false);
    assert.equal(observer.consensus(), undefined);
    assert.equal(observer.state(), undefined);
    assert.equal(observer.isElector, false);
  });
});
