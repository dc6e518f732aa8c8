import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createLogger} from '../../src/lib/router/log.js';
import type {Gossip, GossipData, Gossiper} from '../../src/lib/router/mesh/gossip.js';
import {Mesh, type MeshOptions} from '../../src/lib/router/mesh/mesh.js';
import {TargetStore} from '../../src/lib/router/mesh/target-store.js';
import {waitUntil} from '../helpers/mesh-router.js';

/** Max per peer: an increment-only counter, the example CRDT of weaveworks/mesh. */
class Counts implements GossipData {
  constructor(readonly counts: Map<string, number>) {}

  encode(): Buffer[] {
    return [Buffer.from(JSON.stringify([...this.counts]))];
  }

  merge(other: GossipData): GossipData {
    const merged = new Map(this.counts);
    for (const [k, v] of (other as Counts).counts) merged.set(k, Math.max(v, merged.get(k) ?? 0));
    return new Counts(merged);
  }
}

class Counter implements Gossiper {
  counts = new Map<string, number>();
  unicasts: [string, string][] = [];
  channel?: Gossip;
  refuse?: string;

  constructor(readonly me: string) {}

  increment(): void {
    this.counts.set(this.me, (this.counts.get(this.me) ?? 0) + 1);
    this.channel!.gossipBroadcast(new Counts(new Map([[this.me, this.counts.get(this.me)!]])));
  }

  /** What was new to us. */
  private mergeIn(buf: Buffer): GossipData | undefined {
    if (this.refuse) throw new Error(this.refuse);
    const news = new Map<string, number>();
    for (const [k, v] of JSON.parse(buf.toString()) as [string, number][]) {
      if (v > (this.counts.get(k) ?? 0)) {
        this.counts.set(k, v);
        news.set(k, v);
      }
    }
    return news.size > 0 ? new Counts(news) : undefined;
  }

  onGossipUnicast(source: string, message: Buffer): void {
    this.unicasts.push([source, message.toString()]);
  }

  onGossipBroadcast(_source: string, update: Buffer): GossipData | undefined {
    return this.mergeIn(update);
  }

  gossip(): GossipData | undefined {
    return this.counts.size > 0 ? new Counts(new Map(this.counts)) : undefined;
  }

  onGossip(update: Buffer): GossipData | undefined {
    return this.mergeIn(update);
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise(resolve => server.once('listening', resolve));
  const {port} = server.address() as {port: number};
  await new Promise(resolve => server.close(resolve));
  return port;
}

interface Node {
  mesh: Mesh;
  counter: Counter;
  port: number;
  address: string;
}

const silent = createLogger('error', () => {});

describe('the mesh in-process: topology, gossip channels, refusals (real TCP on loopback)', function () {
  this.timeout(60_000);
  const nodes: Node[] = [];
  const dirs: string[] = [];

  async function start(index: number, options: Partial<MeshOptions> = {}, port?: number, prepare?: (counter: Counter) => void): Promise<Node> {
    const node = await create(index, options, port, prepare);
    await node.mesh.start();
    return node;
  }

  /** A mesh with its channel, its port bound, not started: as while the rest of a router starts. */
  async function create(index: number, options: Partial<MeshOptions> = {}, port?: number, prepare?: (counter: Counter) => void): Promise<Node> {
    const dir = mkdtempSync(join(tmpdir(), 'weave-mesh-'));
    dirs.push(dir);
    const name = options.name ?? `aa:00:00:00:01:${index.toString(16).padStart(2, '0')}`;
    const p = port ?? (await freePort());
    const mesh = await Mesh.create({
      name,
      nickName: `n${index}`,
      port: p,
      host: '127.0.0.1',
      connLimit: 0,
      discovery: true,
      trustedSubnets: [],
      peers: [],
      resume: false,
      dbPrefix: join(dir, 'weave'),
      log: silent,
      gossipIntervalMs: 500,
      ...options,
    });
    const counter = new Counter(name);
    prepare?.(counter);
    counter.channel = mesh.newGossip('counter', counter);
    const node = {mesh, counter, port: p, address: `127.0.0.1:${p}`};
    nodes.push(node);
    return node;
  }

  const established = (n: Node) => n.mesh.connections().filter(c => c.established).length;

  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.mesh.stop();
    for (const dir of dirs.splice(0)) {
      rmSync(new TargetStore(join(dir, 'weave'), silent).sentinel, {force: true});
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it('three peers given one target each find each other and mesh fully', async () => {
    const a = await start(1);
    const b = await start(2, {peers: [a.address]});
    const c = await start(3, {peers: [a.address]});
    // Each peer counts its own connections and those the others report: 3 × 2.
    const everyLink = (n: Node) => n.mesh.status().peers.flatMap(p => p.connections).filter(c => c.established).length;
    await waitUntil('a full mesh', async () => [a, b, c].every(n => n.mesh.topology.names().size === 3 && established(n) === 2 && everyLink(n) === 6));
    const status = b.mesh.status();
    assert.deepEqual(status.targets, [a.address]);
    assert.equal(status.peers.length, 3);
    assert.deepEqual(status.connections.map(c => c.state), ['established', 'established']);
    assert.match(status.connections[0]!.info, /^none {3}aa:00:00:00:01:0[13]\(n[13]\)$/);
    assert.equal(b.mesh.peerAddress(c.mesh.ourName), '127.0.0.1');
  });

  it('a peer that dials a router still starting is not refused: its connection waits for the mesh', async () => {
    const a = await create(1);
    const b = await start(2, {peers: [a.address]});
    // Time enough for a refusal to show (on loopback, milliseconds).
    await new Promise(resolve => setTimeout(resolve, 200));
    // Handshaken at once (B does not time out and dial again while A starts), not established before A is ready.
    assert.deepEqual(b.mesh.status().connections.map(c => c.state), ['pending'], 'dialled and handshaken, not refused, not established yet');
    await a.mesh.start();
    await waitUntil('the connection', async () => established(a) === 1 && established(b) === 1);
    assert.equal(b.mesh.status().terminationCount, 0);
  });

  it('broadcasts reach every peer, unicasts their one destination, periodic gossip a latecomer', async () => {
    const a = await start(1);
    const b = await start(2, {peers: [a.address], discovery: false});
    const c = await start(3, {peers: [a.address], discovery: false});
    await waitUntil('a star', async () => established(a) === 2 && [b, c].every(n => n.mesh.topology.names().size === 3));
    b.counter.increment();
    b.counter.increment();
    c.counter.increment();
    await waitUntil('counts everywhere', async () => [a, b, c].every(n => n.counter.counts.get(b.mesh.ourName) === 2 && n.counter.counts.get(c.mesh.ourName) === 1));
    // B and C are not connected: A relays the unicast.
    b.counter.channel!.gossipUnicast(c.mesh.ourName, Buffer.from('space please'));
    await waitUntil('the unicast', async () => c.counter.unicasts.length === 1);
    assert.deepEqual(c.counter.unicasts, [[b.mesh.ourName, 'space please']]);
    assert.deepEqual(a.counter.unicasts, []);
    assert.throws(() => b.counter.channel!.gossipUnicast('aa:00:00:00:99:99', Buffer.from('x')), /unknown relay destination: aa:00:00:00:99:99/);
    const d = await start(4, {peers: [a.address]});
    await waitUntil('the latecomer learns the counts', async () => d.counter.counts.get(b.mesh.ourName) === 2);
  });

  it('closes a connection whose gossip the receiver refuses, the reason in its status', async () => {
    const a = await start(1);
    a.counter.increment();
    const seed = 'IP allocation was seeded by different peers (received: [aa:00:00:00:01:01], ours: [aa:00:00:00:01:02])';
    const b = await start(2, {peers: [a.address]}, undefined, counter => (counter.refuse = seed));
    await waitUntil('the refusal on b', async () => b.mesh.status().connections.some(c => c.state === 'failed'));
    const [failed] = b.mesh.status().connections;
    assert.equal(failed!.address, a.address);
    assert.match(failed!.info, new RegExp(`^${seed.replace(/[()[\]]/g, '\\$&')}, retry: `));
    assert.ok(b.mesh.status().terminationCount >= 1);
  });

  it('keeps one connection when two peers dial each other at once', async () => {
    const pa = await freePort();
    const pb = await freePort();
    const [a, b] = await Promise.all([start(1, {peers: [`127.0.0.1:${pb}`]}, pa), start(2, {peers: [`127.0.0.1:${pa}`]}, pb)]);
    await waitUntil('one established connection each', async () => established(a) === 1 && established(b) === 1);
    await new Promise(resolve => setTimeout(resolve, 500));
    assert.equal(a.mesh.connections().length, 1);
    assert.equal(b.mesh.connections().length, 1);
    const [ca] = a.mesh.connections();
    const [cb] = b.mesh.connections();
    assert.notEqual(ca!.outbound, cb!.outbound);
    assert.equal(a.mesh.status().connections.filter(c => c.state !== 'established').length, 0);
  });

  it('tells of peers leaving: connection closed, peer removed, topology changed', async () => {
    const a = await start(1);
    const b = await start(2, {peers: [a.address]});
    await waitUntil('connected', async () => established(a) === 1);
    const events: string[] = [];
    a.mesh.on('connectionClosed', c => events.push(`closed ${c.peer}`));
    a.mesh.on('peerRemoved', name => events.push(`removed ${name}`));
    a.mesh.on('topologyChanged', () => events.push('changed'));
    await b.mesh.stop();
    nodes.splice(nodes.indexOf(b), 1);
    await waitUntil('the events', async () => events.at(-1) === 'changed' && events.includes(`removed ${b.mesh.ourName}`));
    // The connection at once; the peer no path leads to any more a moment later.
    assert.deepEqual(events, [`closed ${b.mesh.ourName}`, 'changed', `removed ${b.mesh.ourName}`, 'changed']);
    assert.equal(a.mesh.topology.names().size, 1);
  });

  it('two meshes joined by one connection learn each other\'s peers at once, not at the next periodic gossip', async () => {
    const options = {discovery: false, gossipIntervalMs: 60_000};
    const a = await start(1, options);
    const b = await start(2, {...options, peers: [a.address]});
    const c = await start(3, options);
    const d = await start(4, {...options, peers: [c.address]});
    await waitUntil('two meshes of two', async () => established(b) === 1 && established(d) === 1);
    // Their announcements are over (500 ms apart at most): none carries D's record to A later.
    await new Promise(resolve => setTimeout(resolve, 1000));
    await b.mesh.connect([c.address], false);
    // D's own record reaches A only from neighbour to neighbour: C gives it to B, which passes it on.
    const described = (n: Node, peer: Node) => (n.mesh.topology.get(peer.mesh.ourName)?.uid ?? 0n) !== 0n;
    await waitUntil('A knows D and D knows A', async () => described(a, d) && described(d, a), 10_000);
  });

  it('drops a peer that gossip says no one reaches any more, a moment later', async () => {
    const a = await start(1, {discovery: false});
    const b = await start(2, {discovery: false, peers: [a.address]});
    const c = await start(3, {discovery: false, peers: [b.address]});
    await waitUntil('A knows C', async () => a.mesh.isKnownPeer(c.mesh.ourName) && established(b) === 2);
    const removed: string[] = [];
    a.mesh.on('peerRemoved', name => removed.push(name));
    await c.mesh.stop();
    nodes.splice(nodes.indexOf(c), 1);
    // A is not connected to C: it learns from B's record, which no longer names C.
    await waitUntil('A drops C', async () => removed.length > 0);
    assert.deepEqual(removed, [c.mesh.ourName]);
    assert.deepEqual([...a.mesh.topology.names()].sort(), [a.mesh.ourName, b.mesh.ourName]);
  });

  it('with a password: peers that share it connect, encrypted; another password is refused with the reason', async () => {
    const a = await start(1, {password: 'right'});
    const b = await start(2, {password: 'right', peers: [a.address]});
    await waitUntil('connected', async () => established(b) === 1);
    assert.equal(b.mesh.connections()[0]!.encrypted, true);
    assert.equal(b.mesh.status().encryption, true);
    assert.match(b.mesh.status().connections[0]!.info, /^encrypted {3}none {3}aa:00:00:00:01:01\(n1\)$/);
    const c = await start(3, {password: 'wrong', peers: [a.address]});
    await waitUntil('the refusal', async () => c.mesh.status().connections.some(x => x.state === 'failed'));
    assert.match(c.mesh.status().connections[0]!.info, /^the peer refused our password: the two hosts have different passwords \(set the same WEAVE_PASSWORD on every host\), retry: /);
    const d = await start(4, {peers: [a.address]});
    await waitUntil('the refusal', async () => d.mesh.status().connections.some(x => x.state === 'failed'));
    assert.match(d.mesh.status().connections[0]!.info, /^no password specified, but peer requested an encrypted connection, retry: /);
  });

  it('trusts a peer only when both ends have it in --trusted-subnets', async () => {
    const a = await start(1, {password: 'p', trustedSubnets: ['127.0.0.0/8']});
    const b = await start(2, {password: 'p', trustedSubnets: ['127.0.0.0/8'], peers: [a.address]});
    const c = await start(3, {password: 'p', peers: [a.address]});
    await waitUntil('connected', async () => established(a) === 2);
    const byPeer = new Map(a.mesh.connections().map(x => [x.peer, x]));
    assert.equal(byPeer.get(b.mesh.ourName)!.trusted, true);
    assert.equal(byPeer.get(c.mesh.ourName)!.trusted, false);
    assert.match(a.mesh.status().connections.find(x => x.info.includes('(n2)'))!.info, /^unencrypted none/);
  });

  it('refuses a peer with our name, for good, and counts no dial to itself', async () => {
    const a = await start(1);
    const twin = await start(2, {name: a.mesh.ourName, peers: [a.address]});
    await waitUntil('the refusal', async () => twin.mesh.status().connections.some(x => x.state === 'failed'));
    assert.match(twin.mesh.status().connections[0]!.info, /^peer name collision: aa:00:00:00:01:01 is the name of this router and of the peer at 127\.0\.0\.1:\d+; give each router its own --name, retry: never$/);
    const self = await start(3);
    await self.mesh.connect([self.address], false);
    await waitUntil('the dial to itself', async () => self.mesh.status().connections.some(x => x.state === 'failed'));
    assert.equal(self.mesh.status().connections[0]!.info, 'cannot connect to ourself, retry: never');
    assert.equal(self.mesh.status().terminationCount, 0);
  });

  it('stops at --conn-limit', async () => {
    const a = await start(1);
    const b = await start(2);
    const c = await start(3, {connLimit: 1, discovery: false, peers: [a.address, b.address]});
    await waitUntil('one connection and one refusal', async () => established(c) === 1 && c.mesh.status().connections.some(x => x.state === 'failed'));
    assert.match(c.mesh.status().connections.find(x => x.state === 'failed')!.info, /^Connection limit reached \(1\), retry: /);
  });
});
