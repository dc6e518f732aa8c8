import assert from 'node:assert/strict';
import type {Gossip, GossipData, Gossiper} from '../../../../src/lib/router/mesh/gossip.js';
import type {IpamInit} from '../../../../src/lib/router/ipam/consensus.js';
import type {IpamMesh} from '../../../../src/lib/router/ipam/gossiper.js';
import {formatCidr, type IpamCidr, parseIpamCidr} from '../../../../src/lib/router/ipam/range.js';
import {CANCELLED} from '../../../../src/lib/router/ipam/pending.js';
import {IpamService} from '../../../../src/lib/router/ipam/service.js';
import {MemoryStore, recordingLogger} from '../../../helpers/ipam.js';

/**
 * IPAM services of several peers in one process, over a fake mesh: messages are delivered a turn
 * later, as the real one does, and a partition drops them. The gossip and consensus logic is the
 * real one; only the transport is fake.
 */
class FakeMesh {
  private readonly gossipers = new Map<string, Gossiper>();
  private readonly cut = new Set<string>();
  /** Messages a gossiper refused (threw on): the mesh would close the connection with them. */
  readonly refusals: {at: string; from: string; message: string}[] = [];

  reachable(a: string, b: string): boolean {
    return this.gossipers.has(a) && this.gossipers.has(b) && !this.cut.has(a) && !this.cut.has(b);
  }

  private deliver(at: string, from: string, fn: (g: Gossiper) => unknown): void {
    setImmediate(() => {
      const gossiper = this.gossipers.get(at);
      if (!gossiper || !this.reachable(at, from)) return;
      // A refusal is recorded, never left as an unhandled rejection.
      Promise.resolve()
        .then(() => fn(gossiper))
        .catch((error: unknown) => this.refusals.push({at, from, message: (error as Error).message}));
    });
  }

  /** What a router gives its IPAM; `targets` are the peers it was told to connect to. */
  join(name: string, targets: string[]): IpamMesh {
    return {
      ourName: name,
      uid: BigInt(1 + this.gossipers.size),
      isKnownPeer: peer => peer === name || this.reachable(name, peer),
      targets: () => targets,
      onPeerRemoved: () => {},
      newGossip: (_channel: string, gossiper: Gossiper): Gossip => {
        this.gossipers.set(name, gossiper);
        const broadcast = (data: GossipData) => {
          for (const peer of this.gossipers.keys()) {
            if (peer === name || !this.reachable(name, peer)) continue;
            for (const payload of data.encode()) this.deliver(peer, name, g => g.onGossipBroadcast(name, payload));
          }
        };
        return {
          gossipUnicast: (destination, message) => {
            if (!this.reachable(name, destination)) throw new Error(`unknown relay destination: ${destination}`);
            this.deliver(destination, name, g => g.onGossipUnicast(name, message));
          },
          gossipBroadcast: broadcast,
          gossipNeighbourSubset: broadcast,
        };
      },
    };
  }

  /** A new connection between two peers: each sends the other all it knows. */
  connect(a: string, b: string): void {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const data = this.gossipers.get(from)?.gossip();
      for (const payload of data?.encode() ?? []) this.deliver(to, from, g => g.onGossip(payload));
    }
  }

  partition(name: string): void {
    this.cut.add(name);
  }

  heal(name: string): void {
    this.cut.delete(name);
    for (const peer of this.gossipers.keys()) if (peer !== name) this.connect(name, peer);
  }
}

const A = 'aa:00:00:00:00:01';
const B = 'aa:00:00:00:00:02';
const C = 'aa:00:00:00:00:03';
const nick = (name: string) => `host${name.slice(-1)}`;

interface Peer {
  name: string;
  ipam: IpamService;
  store: MemoryStore;
}

function peer(net: FakeMesh, name: string, targets: string[], options: {range?: string; init?: IpamInit} = {}): Peer {
  const store = new MemoryStore();
  const ipam = IpamService.withStore(
    {range: options.range ?? '10.32.0.0/24', peerName: name, nickname: nick(name), logger: recordingLogger().logger, mesh: net.join(name, targets), tickMs: 20, ...(options.init ? {init: options.init} : {})},
    store,
  );
  return {name, ipam, store};
}

async function until(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}

async function allocateAll(p: Peer, prefix: string, count: number): Promise<string[]> {
  const results = await Promise.all(Array.from({length: count}, (_, i) => p.ipam.allocate(`${prefix}${i}`, p.ipam.defaultSubnet)));
  return results.map(r => (r === CANCELLED ? r : formatCidr(r)));
}

/** Every address held by one id at most, over all peers; the number held. */
async function assertUnique(peers: Peer[]): Promise<number> {
  const seen = new Map<number, string>();
  for (const p of peers) {
    for (const {id, cidrs} of await p.ipam.list()) {
      for (const c of cidrs) {
        assert.ok(!seen.has(c.addr), `${formatCidr(c)} held by ${seen.get(c.addr)} and ${id}@${p.name}`);
        seen.set(c.addr, `${id}@${p.name}`);
      }
    }
  }
  return seen.size;
}

const owners = (p: Peer) => p.ipam.status().owned.map(o => [o.peer, o.ips]);

describe('router/ipam across peers (real gossip and consensus, fake transport)', () => {
  const running: Peer[] = [];
  afterEach(async () => {
    for (const p of running.splice(0)) await p.ipam.close();
  });

  function three(net: FakeMesh, options: {range?: string} = {}): Peer[] {
    const peers = [peer(net, A, [B, C], options), peer(net, B, [A], options), peer(net, C, [A], options)];
    running.push(...peers);
    return peers;
  }

  it('reach consensus on first use; allocations on every peer never collide; every peer sees the same ring', async () => {
    const net = new FakeMesh();
    const [a, b, c] = three(net) as [Peer, Peer, Peer];
    assert.equal(a.ipam.status().status, 'idle');
    const first = a.ipam.allocate('first', a.ipam.defaultSubnet);
    assert.match(a.ipam.status().status, /^awaiting consensus \(quorum: 2, known: 1\)$/);
    assert.equal(formatCidr((await first) as IpamCidr), '10.32.0.1/24');
    const all = await Promise.all([allocateAll(a, 'a', 20), allocateAll(b, 'b', 20), allocateAll(c, 'c', 20)]);
    assert.equal(new Set(all.flat()).size, 60);
    assert.equal(await assertUnique([a, b, c]), 61);
    await until('the same ring everywhere', () => JSON.stringify(owners(a)) === JSON.stringify(owners(b)) && JSON.stringify(owners(b)) === JSON.stringify(owners(c)));
    assert.equal(owners(a).length, 3, 'whoever was left out of the first split asked for space');
    assert.equal(a.ipam.status().status, 'ready');
    assert.equal(a.ipam.status().entries.every(e => e.isKnownPeer), true);
  });

  it('while partitioned, a peer out of space waits, then gets a donation once healed; no address twice', async () => {
    const net = new FakeMesh();
    const [a, b, c] = three(net, {range: '10.32.0.0/26'}) as [Peer, Peer, Peer];
    await Promise.all([allocateAll(a, 'a', 2), allocateAll(b, 'b', 2), allocateAll(c, 'c', 2)]);
    await until('three owners', () => owners(c).length === 3);
    net.partition(C);
    const cOwned = c.ipam.status().owned.find(o => o.peer === C)!.ips;
    const cSide = allocateAll(c, 'cut', cOwned);
    const abSide = await Promise.all([allocateAll(a, 'ab-a', 8), allocateAll(b, 'ab-b', 8)]);
    assert.equal(new Set(abSide.flat()).size, 16);
    await until('C to wait', () => c.ipam.status().status === 'waiting for IP(s) to become available');
    assert.equal(c.ipam.status().owned.find(o => o.peer === A)!.reachable, false, 'C sees A unreachable');
    net.heal(C);
    const got = await cSide;
    assert.equal(new Set(got).size, cOwned);
    assert.equal(await assertUnique([a, b, c]), 6 + 16 + cOwned);
  });

  it('an observer primes until electors agree on its behalf, then asks for space', async () => {
    const net = new FakeMesh();
    const a = peer(net, A, [B, C]);
    const b = peer(net, B, [A]);
    const c = peer(net, C, [A], {init: {mode: 'observer'}});
    running.push(a, b, c);
    const got = await c.ipam.allocate('obs', c.ipam.defaultSubnet);
    assert.notEqual(got, CANCELLED);
    assert.deepEqual(c.ipam.status().owned.map(o => o.peer).sort(), [A, B, C], 'the electors split the range, and one gave the observer some');
    assert.ok(c.ipam.status().owned.find(o => o.peer === C)!.ips > 0, 'the observer was given space');
    assert.equal(a.ipam.status().entries.some(e => e.peer === C) || b.ipam.status().entries.some(e => e.peer === C), true);
    const observerAlone = peer(new FakeMesh(), C, [A], {init: {mode: 'observer'}});
    running.push(observerAlone);
    const waiting = observerAlone.ipam.allocate('x', observerAlone.ipam.defaultSubnet);
    assert.equal(observerAlone.ipam.status().status, 'priming');
    await observerAlone.ipam.shutdown();
    assert.equal(await waiting, CANCELLED);
  });

  it('refuses a ring seeded by other peers, or over another range, with the original messages', async () => {
    const net = new FakeMesh();
    const a = peer(net, A, [], {init: {mode: 'seed', peers: [A]}});
    const b = peer(net, B, [A], {init: {mode: 'seed', peers: [B]}});
    const c = peer(net, C, [A], {range: '10.32.0.0/25', init: {mode: 'seed', peers: [C]}});
    running.push(a, b, c);
    await a.ipam.allocate('x', a.ipam.defaultSubnet);
    net.connect(A, B);
    net.connect(A, C);
    await until('the refusals', () => net.refusals.length >= 4);
    const at = (to: string, from: string) => net.refusals.find(r => r.at === to && r.from === from)?.message;
    assert.equal(at(A, B), `IP allocation was seeded by different peers (received: [${B}(host2)], ours: [${A}(host1)])`);
    assert.equal(at(B, A), `IP allocation was seeded by different peers (received: [${A}(host1)], ours: [${B}(host2)])`);
    assert.equal(at(A, C), 'Incompatible IP allocation ranges (received: 10.32.0.0/25, ours: 10.32.0.0/24)');
    assert.deepEqual(owners(a), [[A, 256]], 'nothing merged');
    assert.equal(formatCidr((await b.ipam.allocate('y', b.ipam.defaultSubnet)) as IpamCidr), '10.32.0.1/24');
  });

  it('rmpeer takes over a dead peer’s space; shutdown hands ours to a live peer', async () => {
    const net = new FakeMesh();
    const [a, b, c] = three(net) as [Peer, Peer, Peer];
    await Promise.all([allocateAll(a, 'a', 2), allocateAll(b, 'b', 2), allocateAll(c, 'c', 2)]);
    await until('three owners everywhere', () => [a, b, c].every(p => owners(p).length === 3));
    const cIps = a.ipam.status().owned.find(o => o.peer === C)!.ips;
    net.partition(C);
    assert.equal(await a.ipam.takeOver('host3'), cIps);
    await until('B to hear of it', () => !b.ipam.status().owned.some(o => o.peer === C));
    const bIps = a.ipam.status().owned.find(o => o.peer === B)!.ips;
    await b.ipam.shutdown();
    await until('A to own everything', () => JSON.stringify(owners(a)) === JSON.stringify([[A, 256]]));
    assert.equal(b.ipam.status().owned.find(o => o.peer === A)!.ips, 256);
    assert.ok(bIps > 0);
    assert.equal(await b.ipam.allocate('late', b.ipam.defaultSubnet), CANCELLED);
  });

  it('random allocations, frees, partitions and heals among four peers never give an address to two ids', async () => {
    let seed = 5;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const D = 'aa:00:00:00:00:04';
    const net = new FakeMesh();
    const peers = [...three(net, {range: '10.32.0.0/26'}), peer(net, D, [A], {range: '10.32.0.0/26', init: {mode: 'observer'}})];
    running.push(peers[3]!);
    const cut = new Set<string>();
    const outcomes = {given: 0, waited: 0};
    for (let step = 0; step < 250; step++) {
      const p = peers[Math.floor(rnd() * peers.length)]!;
      const r = rnd();
      if (r < 0.55) {
        const controller = new AbortController();
        const got = p.ipam.allocate(`id${Math.floor(rnd() * 80)}`, p.ipam.defaultSubnet, {}, controller.signal);
        setTimeout(() => controller.abort(), 15);
        outcomes[(await got) === CANCELLED ? 'waited' : 'given']++;
      } else if (r < 0.85) {
        const held = await p.ipam.list();
        const victim = held[Math.floor(rnd() * held.length)];
        if (victim) await p.ipam.delete(victim.id);
      } else if (cut.has(p.name)) {
        cut.delete(p.name);
        net.heal(p.name);
      } else if (cut.size < 2) {
        cut.add(p.name);
        net.partition(p.name);
      }
      await assertUnique(peers);
    }
    assert.ok(outcomes.given > 50 && outcomes.waited > 0, `the run both allocated and had to wait: ${JSON.stringify(outcomes)}`);
    for (const name of cut) net.heal(name);
    await new Promise(resolve => setTimeout(resolve, 50));
    await assertUnique(peers);
    const rings = peers.map(p => JSON.stringify(owners(p).sort()));
    await until('one ring', () => new Set(peers.map(p => JSON.stringify(owners(p).sort()))).size === 1).catch(() => assert.fail(`rings differ: ${rings.join(' | ')}`));
  });

  it('a claim of an address another peer owns is asked of it: given if free there, refused if in use', async () => {
    const net = new FakeMesh();
    const [a, b] = three(net) as [Peer, Peer, Peer];
    await Promise.all([allocateAll(a, 'a', 1), allocateAll(b, 'b', 1)]);
    await until('A and B in the ring', () => owners(b).length >= 2 && owners(a).length >= 2);
    const aHeld = (await a.ipam.lookup('a0'))[0]!;
    const aFree = {addr: aHeld.addr + 5, prefix: 24};
    assert.equal(await b.ipam.claim('claimed', aFree), 'ok');
    assert.equal(b.ipam.allocator.ring.owner(aFree.addr), B, 'A gave it away');
    await assert.rejects(b.ipam.claim('taken', aHeld), {message: `address ${formatCidr(aHeld).split('/')[0]} is owned by other peer ${A} (host1)`});
    assert.equal(await assertUnique([a, b]), 3);
    assert.equal(await b.ipam.claim('elsewhere', parseIpamCidr('192.168.0.9/24')), 'ok', 'outside the range: on trust');
  });
});
