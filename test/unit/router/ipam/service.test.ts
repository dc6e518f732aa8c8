import assert from 'node:assert/strict';
import type {IpamInit} from '../../../../src/lib/router/ipam/consensus.js';
import {formatAddress} from '../../../../src/lib/net/cidr.js';
import {formatCidr, type IpamCidr, parseAddress, parseIpamCidr, parseSubnet} from '../../../../src/lib/router/ipam/range.js';
import {CANCELLED} from '../../../../src/lib/router/ipam/pending.js';
import {IpamService, IpamWaitError} from '../../../../src/lib/router/ipam/service.js';
import {IpamStoreFullError} from '../../../../src/lib/router/ipam/store-errors.js';
import {MemoryStore, recordingLogger, tick} from '../../../helpers/ipam.js';

const US = '8a:3e:3e:3e:3e:3e';

function service(range = '10.32.0.0/12', store = new MemoryStore(), extra: {defaultSubnet?: string; init?: IpamInit} = {}): {ipam: IpamService; store: MemoryStore} {
  return {ipam: IpamService.withStore({range, peerName: US, nickname: 'host1', logger: recordingLogger().logger, ...extra}, store), store};
}

/** The address text of an allocation, or `cancelled`. */
function shown(result: IpamCidr | typeof CANCELLED): string {
  return result === CANCELLED ? result : formatCidr(result);
}

const subnet = parseSubnet;

describe('router/ipam/service (allocation rules, store in memory)', () => {
  it('starts idle, and hands out the lowest address first, never the network address', async () => {
    const {ipam} = service();
    assert.equal(ipam.status().status, 'idle');
    assert.deepEqual(ipam.status().entries, []);
    assert.equal(shown(await ipam.allocate('c1', ipam.defaultSubnet)), '10.32.0.1/12');
    assert.equal(shown(await ipam.allocate('c2', ipam.defaultSubnet)), '10.32.0.2/12');
    const status = ipam.status();
    assert.equal(status.status, 'ready');
    assert.deepEqual(status.entries, [{token: '10.32.0.0', size: 1048576, peer: US, nickname: 'host1', isKnownPeer: true, version: 0}]);
    assert.deepEqual(status.owned, [{peer: US, nickname: 'host1', ips: 1048576, reachable: true}]);
    assert.deepEqual([status.range, status.rangeNumIps, status.activeIps, status.defaultSubnet], ['10.32.0.0/12', 1048576, 2, '10.32.0.0/12']);
  });

  it('is idempotent per id and subnet, and per subnet distinct', async () => {
    const {ipam} = service();
    const first = shown(await ipam.allocate('c1', ipam.defaultSubnet));
    assert.equal(shown(await ipam.allocate('c1', ipam.defaultSubnet)), first);
    assert.equal(shown(await ipam.allocate('c1', subnet('10.33.0.0/16'))), '10.33.0.1/16');
    assert.equal(shown(await ipam.allocate('c1', subnet('10.33.0.0/16'))), '10.33.0.1/16');
    assert.deepEqual((await ipam.lookup('c1')).map(formatCidr), ['10.32.0.1/12', '10.33.0.1/16'], 'the default subnet (/12) covers both');
    assert.deepEqual((await ipam.lookup('c1', subnet('10.33.0.0/16'))).map(formatCidr), ['10.33.0.1/16']);
    assert.deepEqual(await ipam.lookup('nobody'), []);
  });

  it('skips the network and broadcast addresses of every subnet', async () => {
    const {ipam} = service('10.32.0.0/24');
    const small = subnet('10.32.0.8/30');
    assert.equal(shown(await ipam.allocate('a', small)), '10.32.0.9/30');
    assert.equal(shown(await ipam.allocate('b', small)), '10.32.0.10/30');
    const controller = new AbortController();
    const third = ipam.allocate('c', small, {}, controller.signal);
    await tick();
    assert.equal(ipam.status().status, 'waiting for IP(s) to become available');
    assert.deepEqual(ipam.status().pendingAllocates, ['c 10.32.0.8/30']);
    controller.abort();
    assert.equal(await third, CANCELLED, '.8 and .11 are never handed out');
    // The range's last address is the broadcast of the default subnet.
    for (let i = 0; i < 252; i++) await ipam.allocate(`x${i}`, ipam.defaultSubnet);
    assert.deepEqual((await ipam.lookup('x251')).map(formatCidr), ['10.32.0.254/24']);
  });

  it('refuses subnets outside the range, and allocates in the part of a wider one that overlaps it', async () => {
    const {ipam} = service('10.32.0.0/16');
    await assert.rejects(ipam.allocate('a', subnet('192.168.0.0/24')), {name: 'IpamInputError', message: 'range 192.168.0.0/24 out of bounds: 10.32.0.0/16'});
    assert.equal(shown(await ipam.allocate('a', subnet('10.0.0.0/8'))), '10.32.0.0/8', 'inside the /8, 10.32.0.0 is a host address');
  });

  it('claims a given address, files `_` under the address, and refuses addresses held by others', async () => {
    const {ipam} = service();
    assert.equal(await ipam.claim('weave:expose', parseIpamCidr('10.32.0.1/12')), 'ok');
    assert.equal(ipam.status().status, 'ready', 'a claim establishes the ring');
    assert.equal(await ipam.claim('weave:expose', parseIpamCidr('10.32.0.1/12')), 'ok', 'a claim again by the same id is fine');
    assert.equal(shown(await ipam.allocate('c1', ipam.defaultSubnet)), '10.32.0.2/12', 'claimed addresses are not handed out');
    await assert.rejects(ipam.claim('c2', parseIpamCidr('10.32.0.1/12')), {message: 'address 10.32.0.1/12 is already owned by weave:expose'});
    assert.equal(await ipam.claim('_', parseIpamCidr('10.32.0.9/12')), 'ok');
    await assert.rejects(ipam.claim('c3', parseIpamCidr('10.32.0.9/12')), {message: 'address 10.32.0.9/12 already in use'});
    // As the original: a claim naming no container cannot prove a holder wrong (a router reclaiming pods it has no id for).
    assert.equal(await ipam.claim('_', parseIpamCidr('10.32.0.9/12')), 'ok', '`_` again: the same anonymous holder');
    assert.equal(await ipam.claim('_', parseIpamCidr('10.32.0.2/12')), 'ok', "`_` on c1's address: c1 keeps it");
    assert.equal(await ipam.claim('outside', parseIpamCidr('192.168.1.5/24')), 'ok', 'outside the range: taken on trust');
    assert.equal(await ipam.claim('_', parseIpamCidr('192.168.1.5/24')), 'ok', 'outside the range, held: the holder keeps it');
    assert.equal(await ipam.claim('_', parseIpamCidr('192.168.1.6/24')), 'ok', 'outside the range, free: filed under the address');
    const list = (await ipam.list()).map(o => [o.id, o.cidrs.map(formatCidr)]);
    assert.deepEqual(list, [
      ['weave:expose', ['10.32.0.1/12']],
      ['c1', ['10.32.0.2/12']],
      ['10.32.0.9', ['10.32.0.9/12']],
      ['outside', ['192.168.1.5/24']],
      ['192.168.1.6', ['192.168.1.6/24']],
    ]);
    await ipam.free('_', parseAddress('10.32.0.9'));
    assert.equal(shown(await ipam.allocate('_', ipam.defaultSubnet)), '10.32.0.3/12', '`_` is never idempotent');
    assert.equal(shown(await ipam.allocate('_', ipam.defaultSubnet)), '10.32.0.4/12');
  });

  it('frees by id and by address, with the messages of the original', async () => {
    const {ipam} = service();
    await ipam.allocate('c1', ipam.defaultSubnet);
    await ipam.allocate('c1', subnet('10.40.0.0/16'));
    await assert.rejects(ipam.free('c1', parseAddress('10.32.0.7')), {message: 'Free: address 10.32.0.7 not found for c1'});
    await assert.rejects(ipam.free('c2', parseAddress('10.32.0.1')), {message: 'Free: address 10.32.0.1 not found for c2'});
    await ipam.free('c1', parseAddress('10.32.0.1'));
    assert.deepEqual((await ipam.lookup('c1')).map(formatCidr), ['10.40.0.1/16']);
    await ipam.delete('c1');
    await assert.rejects(ipam.delete('c1'), {message: 'Delete: no addresses for c1'});
    assert.equal(shown(await ipam.allocate('c2', ipam.defaultSubnet)), '10.32.0.1/12', 'freed addresses come back lowest first');
    assert.equal(ipam.status().activeIps, 1);
  });

  it('blocks when the space is full until an address is freed, first come first served', async () => {
    const {ipam} = service('10.32.0.0/29');
    for (let i = 1; i <= 6; i++) assert.equal(shown(await ipam.allocate(`c${i}`, ipam.defaultSubnet)), `10.32.0.${i}/29`);
    const order: string[] = [];
    const w1 = ipam.allocate('w1', ipam.defaultSubnet).then(r => (order.push('w1'), shown(r)));
    const w2 = ipam.allocate('w2', ipam.defaultSubnet).then(r => (order.push('w2'), shown(r)));
    await tick();
    assert.deepEqual(order, []);
    assert.deepEqual(ipam.status().pendingAllocates, ['w1 10.32.0.0/29', 'w2 10.32.0.0/29']);
    await ipam.free('c4', parseAddress('10.32.0.4'));
    assert.equal(await w1, '10.32.0.4/29');
    await ipam.delete('c2');
    assert.equal(await w2, '10.32.0.2/29');
    assert.deepEqual(order, ['w1', 'w2']);
    assert.equal(ipam.status().status, 'ready');
  });

  it('a cancelled wait takes nothing; shutdown cancels waits and refuses new ones', async () => {
    const {ipam} = service('10.32.0.0/30');
    await ipam.allocate('a', ipam.defaultSubnet);
    await ipam.allocate('b', ipam.defaultSubnet);
    const controller = new AbortController();
    const gone = ipam.allocate('gone', ipam.defaultSubnet, {}, controller.signal);
    const stays = ipam.allocate('stays', ipam.defaultSubnet);
    await tick();
    controller.abort();
    assert.equal(await gone, CANCELLED);
    await ipam.delete('a');
    assert.equal(shown(await stays), '10.32.0.1/30');
    assert.deepEqual(await ipam.lookup('gone'), []);

    const blocked = ipam.allocate('late', ipam.defaultSubnet);
    await tick();
    await ipam.shutdown();
    assert.equal(await blocked, CANCELLED);
    assert.equal(await ipam.allocate('after', ipam.defaultSubnet), CANCELLED);
    assert.equal(await ipam.claim('after', parseIpamCidr('10.32.0.1/30')), CANCELLED);
    assert.deepEqual((await ipam.lookup('stays')).map(formatCidr), ['10.32.0.1/30'], 'allocations stay: there is no peer to hand them to');
  });

  it('an allocation with a time limit gives up with the cause once it passes, and only when it had to wait', async () => {
    const {ipam} = service('10.32.0.0/30');
    assert.equal(shown(await ipam.allocateWithin('a', ipam.defaultSubnet, {}, 1)), '10.32.0.1/30');
    await ipam.allocate('b', ipam.defaultSubnet);
    await assert.rejects(ipam.allocateWithin('late', ipam.defaultSubnet, {}, 50), (error: Error) => {
      assert.ok(error instanceof IpamWaitError);
      assert.match(error.reason, /IPAM has no free address in 10\.32\.0\.0\/30/);
      return true;
    });
    assert.deepEqual(ipam.status().pendingAllocates, []);
    const controller = new AbortController();
    const gone = ipam.allocateWithin('gone', ipam.defaultSubnet, {}, 60_000, controller.signal);
    const freed = ipam.allocateWithin('freed', ipam.defaultSubnet, {}, 60_000);
    await tick();
    controller.abort();
    assert.equal(await gone, CANCELLED);
    await ipam.delete('a');
    assert.equal(shown(await freed), '10.32.0.1/30');
  });

  it('answers only once the state it reports is durable', async () => {
    const {ipam, store} = service();
    store.hold();
    let done = false;
    const allocation = ipam.allocate('c1', ipam.defaultSubnet).then(r => ((done = true), r));
    await tick();
    assert.equal(done, false);
    assert.deepEqual(store.mutations.map(m => m.t), ['ring', 'add']);
    store.release();
    assert.equal(shown(await allocation), '10.32.0.1/12');
  });

  it('CNI GC frees the CNI allocations not kept, never weave:expose or others', async () => {
    const {ipam} = service();
    await ipam.allocate('pod-a', ipam.defaultSubnet, {cni: true});
    await ipam.allocate('pod-b', ipam.defaultSubnet, {cni: true});
    await ipam.allocate('pod-c', ipam.defaultSubnet, {cni: true});
    await ipam.allocate('weave:expose', ipam.defaultSubnet, {cni: true});
    await ipam.allocate('docker-1', ipam.defaultSubnet);
    assert.deepEqual(await ipam.collectCni(['pod-b']), ['pod-a', 'pod-c']);
    assert.deepEqual((await ipam.list()).map(o => o.id), ['pod-b', 'weave:expose', 'docker-1']);
    assert.deepEqual(await ipam.collectCni([]), ['pod-b']);
  });

  it('takes over nothing on one host, whoever is named', async () => {
    const {ipam} = service();
    await ipam.allocate('c1', ipam.defaultSubnet);
    assert.equal(await ipam.takeOver(US), 0);
    assert.equal(await ipam.takeOver('host1'), 0);
    assert.equal(await ipam.takeOver('aa:bb:cc:dd:ee:ff'), 0);
    assert.equal(await ipam.takeOver('not a peer'), 0);
  });

  it('with a seed, the ring exists from the start and is split between the seeds', async () => {
    const {ipam} = service('10.32.0.0/12', new MemoryStore(), {init: {mode: 'seed', peers: [US, '02:00:00:00:00:01']}});
    assert.equal(ipam.status().status, 'ready');
    assert.deepEqual(ipam.status().entries.map(e => [e.token, e.size, e.peer]), [
      ['10.32.0.0', 524288, '02:00:00:00:00:01'],
      ['10.40.0.0', 524288, US],
    ]);
    assert.equal(shown(await ipam.allocate('c1', ipam.defaultSubnet)), '10.40.0.0/12', 'the lowest address of the part we own');
    await assert.rejects(ipam.claim('c2', parseIpamCidr('10.32.0.5/12')), {message: 'address 10.32.0.5 is owned by other peer 02:00:00:00:00:01'});
  });

  it('uses the default subnet given, inside the range', async () => {
    const {ipam} = service('10.32.0.0/12', new MemoryStore(), {defaultSubnet: '10.32.4.0/24'});
    assert.equal(shown(await ipam.allocate('c1', ipam.defaultSubnet)), '10.32.4.1/24');
    assert.equal(ipam.status().defaultSubnet, '10.32.4.0/24');
    assert.throws(() => service('10.32.0.0/12', new MemoryStore(), {defaultSubnet: '192.168.0.0/24'}), {
      name: 'IpamInputError',
      message: 'IP address allocation default subnet 192.168.0.0/24 does not overlap with allocation range 10.32.0.0/12',
    });
  });

  it('1,000 allocations, claims and frees in random order never give an address to two ids', async () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const {ipam} = service('10.32.0.0/24');
    const model = new Map<number, string>(); // address -> id
    const heldBy = (id: string) => [...model].filter(([, holder]) => holder === id).map(([addr]) => addr);
    const defaultHosts = {start: parseAddress('10.32.0.1'), end: parseAddress('10.32.0.255')};
    let blocked = 0;
    for (let step = 0; step < 1000; step++) {
      const id = `c${Math.floor(rnd() * 600)}`;
      const r = rnd();
      if (r < 0.6) {
        const own = heldBy(id)[0];
        let expected = own;
        for (let a = defaultHosts.start; expected === undefined && a < defaultHosts.end; a++) if (!model.has(a)) expected = a;
        if (expected === undefined) {
          // Full: the allocation waits; give up on it.
          const controller = new AbortController();
          const waiting = ipam.allocate(id, ipam.defaultSubnet, {}, controller.signal);
          await tick();
          controller.abort();
          assert.equal(await waiting, CANCELLED);
          blocked++;
        } else {
          assert.equal(shown(await ipam.allocate(id, ipam.defaultSubnet)), `${formatAddress(expected)}/24`, `step ${step}`);
          model.set(expected, id);
        }
      } else if (r < 0.7) {
        const addr = defaultHosts.start + Math.floor(rnd() * 254);
        const holder = model.get(addr);
        const claim = ipam.claim(id, {addr, prefix: 24});
        if (holder === undefined || holder === id) {
          assert.equal(await claim, 'ok');
          model.set(addr, id);
        } else {
          await assert.rejects(claim, {message: `address ${formatAddress(addr)}/24 is already owned by ${holder}`});
        }
      } else if (r < 0.85) {
        const held = heldBy(id);
        if (held.length === 0) await assert.rejects(ipam.delete(id), {message: `Delete: no addresses for ${id}`});
        else await ipam.delete(id);
        for (const addr of held) model.delete(addr);
      } else {
        const held = heldBy(id);
        const addr = held.length > 0 && rnd() < 0.8 ? held[0]! : defaultHosts.start + Math.floor(rnd() * 254);
        if (model.get(addr) === id) {
          await ipam.free(id, addr);
          model.delete(addr);
        } else {
          await assert.rejects(ipam.free(id, addr), {message: `Free: address ${formatAddress(addr)} not found for ${id}`});
        }
      }
      const seen = new Map<number, string>();
      for (const {id: holder, cidrs} of await ipam.list()) {
        for (const cidr of cidrs) {
          assert.ok(!seen.has(cidr.addr), `step ${step}: ${formatAddress(cidr.addr)} held by ${seen.get(cidr.addr)} and ${holder}`);
          seen.set(cidr.addr, holder);
        }
      }
      const sorted = (m: Map<number, string>) => [...m].sort((a, b) => a[0] - b[0]);
      assert.deepEqual(sorted(seen), sorted(model), `step ${step}: the service holds what the model holds`);
      assert.equal(ipam.status().activeIps, model.size);
    }
    assert.ok(blocked > 0, 'the run reached a full space at least once');
  });

  it('refuses every change while the store has no room, before applying it, and still answers reads', async () => {
    const {ipam, store} = service();
    assert.equal(shown(await ipam.allocate('c1', ipam.defaultSubnet)), '10.32.0.1/12');
    const before = store.mutations.length;
    store.full = new IpamStoreFullError('no space for the test');
    await assert.rejects(ipam.allocate('c2', ipam.defaultSubnet), store.full);
    await assert.rejects(ipam.allocate('c1', ipam.defaultSubnet), store.full, 'even an id that holds one: its answer could be unsaved');
    await assert.rejects(ipam.claim('c3', parseIpamCidr('10.32.0.9/12')), store.full);
    await assert.rejects(ipam.free('c1', parseAddress('10.32.0.1')), store.full);
    await assert.rejects(ipam.delete('c1'), store.full);
    await assert.rejects(ipam.collectCni([]), store.full);
    await assert.rejects(ipam.shutdown(), store.full);
    assert.equal(store.mutations.length, before, 'nothing was applied');
    assert.deepEqual((await ipam.lookup('c1')).map(formatCidr), ['10.32.0.1/12']);
    assert.deepEqual((await ipam.list()).map(o => o.id), ['c1']);
    store.full = undefined;
    assert.equal(shown(await ipam.allocate('c2', ipam.defaultSubnet)), '10.32.0.2/12');
  });
});
