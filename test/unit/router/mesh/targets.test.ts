import assert from 'node:assert/strict';
import {PeerAddressError, parsePeerAddress, resolvePeer} from '../../../../src/lib/router/mesh/address.js';
import {ConnectionMaker, DISCOVERY_DEFER_MS, type LiveConnection, MAX_DIALS, NeverRetryError} from '../../../../src/lib/router/mesh/targets.js';
import type {PeerRecord} from '../../../../src/lib/router/mesh/topology.js';

const US = 'aa:00:00:00:00:05';
const makers: ConnectionMaker[] = [];
const tick = () => new Promise(resolve => setImmediate(resolve));

/** A maker over a mesh the test describes; `attempts` records every dial. */
function fixture(options: {discovery?: boolean} = {}) {
  const state = {
    now: 1_000_000,
    live: [] as LiveConnection[],
    peers: [] as PeerRecord[],
    attempts: [] as [string, boolean][],
    discoveredChanges: 0,
  };
  const maker = new ConnectionMaker({
    ourName: US,
    port: 6783,
    discovery: options.discovery ?? true,
    connections: () => state.live,
    peers: () => state.peers,
    attempt: (address, acceptNewPeer) => state.attempts.push([address, acceptNewPeer]),
    discoveredChanged: () => state.discoveredChanges++,
    now: () => state.now,
    random: () => 0.5,
  });
  makers.push(maker);
  return {state, maker};
}

async function targets(...peers: string[]) {
  return Promise.all(peers.map(resolvePeer));
}

function record(name: string, connections: [string, string, boolean][], port = 6783): PeerRecord {
  return {
    name,
    nickName: name.slice(-2),
    uid: 1n,
    version: 1,
    shortId: 0,
    hasShortId: true,
    port,
    connections: new Map(connections.map(([to, address, outbound]) => [to, {address, outbound, established: true}])),
  };
}

describe('mesh connection maker', () => {
  afterEach(() => {
    for (const maker of makers.splice(0)) maker.stop();
  });

  it('dials each target at once, on the mesh port when none is given', async () => {
    const {state, maker} = fixture();
    maker.initiate(await targets('192.168.90.2', '192.168.90.3:7000'), false);
    await tick();
    assert.deepEqual(state.attempts, [
      ['192.168.90.2:6783', true],
      ['192.168.90.3:7000', true],
    ]);
    assert.deepEqual(maker.directPeers(), ['192.168.90.2', '192.168.90.3:7000']);
    assert.deepEqual(maker.status(), [
      {address: '192.168.90.2:6783', outbound: true, state: 'connecting', info: '', attrs: {}},
      {address: '192.168.90.3:7000', outbound: true, state: 'connecting', info: '', attrs: {}},
    ]);
  });

  it('shows a failed dial with its reason and next try, then a retry as retrying', async () => {
    const {state, maker} = fixture();
    maker.initiate(await targets('192.168.90.2'), false);
    await tick();
    maker.connectionAborted('192.168.90.2:6783', new Error('dial tcp4 192.168.90.2:6783: connect: connection refused'));
    await tick();
    const [failed] = maker.status();
    assert.equal(failed!.state, 'failed');
    // Random draw 0.5: the delay is the interval, 2 s.
    assert.equal(failed!.info, `dial tcp4 192.168.90.2:6783: connect: connection refused, retry: ${new Date(state.now + 2000).toISOString().replace('T', ' ').slice(0, 23)} +0000 UTC`);
    state.now += 2000;
    await new Promise(resolve => setTimeout(resolve, 2100));
    assert.equal(state.attempts.length, 2);
    assert.deepEqual(maker.status()[0]!.state, 'retrying');
  });

  it('never retries a dial that reached ourselves', async () => {
    const {state, maker} = fixture();
    maker.initiate(await targets('192.168.90.1'), false);
    await tick();
    maker.connectionTerminated('192.168.90.1:6783', true, new NeverRetryError('cannot connect to ourself', false));
    await tick();
    assert.match(maker.status()[0]!.info, /^cannot connect to ourself, retry: never$/);
    assert.equal(maker.terminationCount, 0);
    assert.equal(state.attempts.length, 1);
  });

  it('counts terminations, and marks a connected target so status no longer lists it', async () => {
    const {state, maker} = fixture();
    maker.initiate(await targets('192.168.90.2'), false);
    await tick();
    maker.connectionCreated('192.168.90.2:6783', true);
    state.live.push({peer: 'aa:00:00:00:00:02', address: '192.168.90.2:6783', outbound: true, listenPort: 6783});
    assert.deepEqual(maker.status(), []);
    state.live.pop();
    maker.connectionTerminated('192.168.90.2:6783', true, new Error('connection closed by peer'));
    assert.equal(maker.terminationCount, 1);
  });

  it('does not dial back a peer named without a port that already connected to us', async () => {
    const {state, maker} = fixture();
    state.live.push({peer: 'aa:00:00:00:00:02', address: '192.168.90.2:41000', outbound: false, listenPort: 6783});
    maker.initiate(await targets('192.168.90.2', '192.168.90.2:6783'), false);
    await tick();
    // Both name the address the peer listens on, which it told us: no duplicate connection.
    assert.deepEqual(state.attempts, []);
  });

  it('connects to peers others are connected to, at the address they know (discovery)', async () => {
    const {state, maker} = fixture();
    const B = 'aa:00:00:00:00:02';
    const C = 'aa:00:00:00:00:03';
    const D = 'aa:00:00:00:00:09';
    state.live.push({peer: B, address: '192.168.90.2:6783', outbound: true, listenPort: 6783});
    state.peers = [
      record(US, [[B, '192.168.90.2:6783', true]]),
      // B dialled C; D dialled B (so B sees D's ephemeral port; D listens on 7783).
      record(B, [
        [US, '192.168.90.5:5555', false],
        [C, '192.168.90.3:6783', true],
        [D, '192.168.90.9:40001', false],
      ]),
      record(C, [[B, '192.168.90.2:40000', false]]),
      record(D, [[B, '192.168.90.2:6783', true]], 7783),
    ];
    maker.refresh();
    await tick();
    // C's name is below ours: we dial it at once. D's is above: D will likely dial us, so we wait.
    assert.deepEqual(state.attempts, [['192.168.90.3:6783', false]]);
    assert.deepEqual(maker.discovered().sort(), ['192.168.90.3:6783', '192.168.90.9:7783']);
    assert.equal(state.discoveredChanges, 1);
    // 1 s a peer known (4), 2 s at least (DISCOVERY_DEFER_MS).
    state.now += 4000;
    maker.refresh();
    await tick();
    assert.deepEqual(state.attempts, [
      ['192.168.90.3:6783', false],
      ['192.168.90.9:7783', false],
    ]);
  });

  it('follows a record replaced by gossip, and the port a peer describes once known', async () => {
    const {state, maker} = fixture();
    const B = 'aa:00:00:00:00:02';
    // Names above ours: held back (DISCOVERY_DEFER_MS), so a target no longer valid is dropped.
    const C = 'aa:00:00:00:00:0c';
    const E = 'aa:00:00:00:00:0e';
    state.live.push({peer: B, address: '192.168.90.2:6783', outbound: true, listenPort: 6783});
    // B accepted C: only C's IP is known, and C's port once C describes itself.
    const c = {...record(C, []), port: 0};
    state.peers = [record(B, [[C, '192.168.90.3:40000', false]]), c];
    maker.refresh();
    await tick();
    assert.deepEqual(maker.discovered(), ['192.168.90.3:6783']);
    c.port = 7783;
    maker.refresh();
    await tick();
    assert.deepEqual(maker.discovered(), ['192.168.90.3:7783']);
    state.peers = [record(B, [[E, '192.168.90.4:6783', true]]), c];
    maker.refresh();
    await tick();
    assert.deepEqual(maker.discovered(), ['192.168.90.4:6783']);
  });

  it('in a larger mesh, holds back longer before dialling a discovered peer with a greater name (1 s a peer)', async () => {
    const {state, maker} = fixture();
    const B = 'aa:00:00:00:00:02';
    const F = 'aa:00:00:00:00:0f';
    state.live.push({peer: B, address: '192.168.90.2:6783', outbound: true, listenPort: 6783});
    // 20 peers known: B, F, and 18 others B names only.
    const others = Array.from({length: 18}, (_, i) => `aa:00:00:00:01:${(i + 16).toString(16)}`);
    state.peers = [record(B, [[F, '192.168.90.15:6783', true]]), record(F, []), ...others.map(name => record(name, []))];
    maker.refresh();
    await tick();
    state.now += DISCOVERY_DEFER_MS;
    maker.refresh();
    await tick();
    assert.deepEqual(state.attempts, []);
    state.now += 20 * 1000 - DISCOVERY_DEFER_MS - 1;
    maker.refresh();
    await tick();
    assert.deepEqual(state.attempts, []);
    state.now += 1;
    maker.refresh();
    await tick();
    assert.deepEqual(state.attempts, [['192.168.90.15:6783', false]]);
  });

  it('drops a discovered target once the peer has connected to us first', async () => {
    const {state, maker} = fixture();
    const B = 'aa:00:00:00:00:02';
    const D = 'aa:00:00:00:00:09';
    state.live.push({peer: B, address: '192.168.90.2:6783', outbound: true, listenPort: 6783});
    state.peers = [record(B, [[D, '192.168.90.9:6783', true]])];
    maker.refresh();
    await tick();
    assert.deepEqual(maker.discovered(), ['192.168.90.9:6783']);
    state.live.push({peer: D, address: '192.168.90.9:41000', outbound: false, listenPort: 6783});
    state.now += DISCOVERY_DEFER_MS;
    maker.refresh();
    await tick();
    assert.deepEqual(state.attempts, []);
    assert.deepEqual(maker.discovered(), []);
  });

  it('expects connections while a target is not tried yet or tried for the first time, not once it failed or connected', async () => {
    const {state, maker} = fixture();
    const B = 'aa:00:00:00:00:02';
    const D = 'aa:00:00:00:00:09';
    assert.equal(maker.expectsConnections(), false);
    state.live.push({peer: B, address: '192.168.90.2:6783', outbound: true, listenPort: 6783});
    state.peers = [record(B, [[D, '192.168.90.9:6783', true]])];
    maker.refresh();
    await tick();
    // D's name is above ours: not dialled yet, but it will be.
    assert.deepEqual(state.attempts, []);
    assert.equal(maker.expectsConnections(), true);
    state.now += DISCOVERY_DEFER_MS;
    maker.refresh();
    await tick();
    assert.deepEqual(state.attempts, [['192.168.90.9:6783', false]]);
    assert.equal(maker.expectsConnections(), true);
    maker.connectionAborted('192.168.90.9:6783', new Error('dial tcp4 192.168.90.9:6783: i/o timeout'));
    await tick();
    assert.equal(maker.expectsConnections(), false);
    // Its retry is no first try.
    state.now += 60_000;
    maker.refresh();
    await tick();
    assert.equal(state.attempts.length, 2);
    assert.equal(maker.expectsConnections(), false);
  });

  it(`dials at most ${MAX_DIALS} at once; each dial's end lets the next one go`, async () => {
    const {state, maker} = fixture();
    const addresses = Array.from({length: MAX_DIALS + 3}, (_, i) => `192.168.90.${i + 10}`);
    maker.initiate(await targets(...addresses), false);
    await tick();
    assert.equal(state.attempts.length, MAX_DIALS);
    maker.connectionCreated(`${addresses[0]}:6783`, true);
    maker.connectionAborted(`${addresses[1]}:6783`, new Error('dial tcp4: connect: connection refused'));
    await tick();
    assert.equal(state.attempts.length, MAX_DIALS + 2);
    assert.deepEqual(
      state.attempts.map(([address]) => address),
      addresses.slice(0, MAX_DIALS + 2).map(a => `${a}:6783`),
    );
  });

  it('with --no-discovery, dials only its targets', async () => {
    const {state, maker} = fixture({discovery: false});
    state.peers = [record('aa:00:00:00:00:02', [['aa:00:00:00:00:03', '192.168.90.3:6783', true]])];
    maker.refresh();
    await tick();
    assert.deepEqual(state.attempts, []);
  });

  it('dials addresses remembered from an earlier run as if given (the peer may be unknown yet)', async () => {
    const {state, maker} = fixture();
    maker.remember(['192.168.90.9:6783']);
    await tick();
    assert.deepEqual(state.attempts, [['192.168.90.9:6783', true]]);
  });

  it('forgets targets, and replaces them all, or with --replace and no peer, none', async () => {
    const {maker} = fixture();
    maker.initiate(await targets('10.0.0.1', '10.0.0.2', '10.0.0.3'), false);
    maker.forget(['10.0.0.2', 'not-a-target']);
    assert.deepEqual(maker.directPeers(), ['10.0.0.1', '10.0.0.3']);
    maker.initiate(await targets('10.0.0.4'), true);
    assert.deepEqual(maker.directPeers(), ['10.0.0.4']);
    maker.initiate([], true);
    assert.deepEqual(maker.directPeers(), []);
  });

  it('tries an address named again at once, whatever its backoff', async () => {
    const {state, maker} = fixture();
    maker.initiate(await targets('192.168.90.2'), false);
    await tick();
    maker.connectionAborted('192.168.90.2:6783', new Error('refused'));
    await tick();
    assert.equal(state.attempts.length, 1);
    maker.initiate(await targets('192.168.90.2'), false);
    await tick();
    assert.equal(state.attempts.length, 2);
  });
});

describe('mesh peer addresses', () => {
  it('accepts host and host:port, resolves names to IPv4, checks the port', async () => {
    assert.deepEqual(await resolvePeer('192.168.90.2'), {peer: '192.168.90.2', ip: '192.168.90.2', port: 0});
    assert.deepEqual(await resolvePeer('192.168.90.2:7000'), {peer: '192.168.90.2:7000', ip: '192.168.90.2', port: 7000});
    assert.deepEqual(await resolvePeer('localhost:6783'), {peer: 'localhost:6783', ip: '127.0.0.1', port: 6783});
    await assert.rejects(resolvePeer(':6783'), /^PeerAddressError: invalid peer name ":6783", should be host\[:port\]$/);
    await assert.rejects(resolvePeer('host:port'), /invalid peer name "host:port"/);
    await assert.rejects(resolvePeer('10.0.0.1:99999'), /invalid peer name/);
    await assert.rejects(resolvePeer('no-such-host.invalid'), /^Error: lookup no-such-host.invalid: no such host$/);
  });

  it('says why a peer is not host[:port], for the CLI to name it before any router is asked', () => {
    for (const [good, parsed] of [
      ['host2', {host: 'host2', port: 0}],
      ['host2.example.com:6783', {host: 'host2.example.com', port: 6783}],
      ['[fd00::2]:6783', {host: 'fd00::2', port: 6783}],
      ['fd00::2', {host: 'fd00::2', port: 0}],
      ['10.0.0.1:65535', {host: '10.0.0.1', port: 65535}],
    ] as const) {
      assert.deepEqual(parsePeerAddress(good), parsed, good);
    }
    for (const [bad, why] of [
      ['', /the host is empty/],
      [':6783', /the host is empty/],
      ['a b', /"a b" is neither an IP address nor a host name/],
      ['a\nb:6783', /is neither an IP address nor a host name/],
      ['bad:peer:x', /"bad:peer:x" is neither/],
      ['a:99999', /the port "99999" is not a number from 1 to 65535/],
      ['a:0', /the port "0"/],
      ['a:', /the port ""/],
      ['a:-1', /the port "-1"/],
    ] as const) {
      assert.throws(() => parsePeerAddress(bad), (e: unknown) => e instanceof PeerAddressError && e.peer === bad && why.test(e.why), JSON.stringify(bad));
    }
  });
});
