import assert from 'node:assert/strict';
import * as packet from 'dns-packet';
import {DnsEntries} from '../../../../src/lib/router/dns/entries.js';
import {DnsResolver} from '../../../../src/lib/router/dns/resolver.js';

const query = (name: string, type: packet.RecordType, extra: Partial<packet.Packet> = {}) =>
  packet.encode({type: 'query', id: 42, flags: packet.RECURSION_DESIRED, questions: [{type, name, class: 'IN'}], ...extra});

describe('router/dns/resolver: answers from the entries', () => {
  const entries = new DnsEntries('aa:00:00:00:00:01');
  for (let i = 1; i <= 60; i++) entries.add('big.weave.local.', `c${i}`, `10.32.1.${i}`);
  entries.add('web.weave.local.', 'w', '10.32.0.5');
  // No upstream: a forwarded name fails at once (SERVFAIL).
  const resolver = new DnsResolver(entries, {domain: 'weave.local', ttl: 1, upstream: () => [], fallbackTimeoutMs: 100});
  // dns-packet decodes rcode from the flags; its typings leave it out.
  const ask = async (name: string, type: packet.RecordType, tcp = false, extra: Partial<packet.Packet> = {}) =>
    packet.decode((await resolver.answer(query(name, type, extra), tcp))!) as packet.DecodedPacket & {rcode: string};

  it('answers A and PTR with the TTL, authoritatively, keeping id and question', async () => {
    const a = await ask('web.weave.local', 'A');
    assert.equal(a.id, 42);
    assert.equal(a.rcode, 'NOERROR');
    assert.equal(a.flag_aa, true);
    assert.deepEqual(a.answers?.map(r => [r.type, r.name, (r as {data: string}).data, (r as {ttl: number}).ttl]), [['A', 'web.weave.local', '10.32.0.5', 1]]);
    const ptr = await ask('5.0.32.10.in-addr.arpa', 'PTR');
    assert.deepEqual(ptr.answers?.map(r => (r as {data: string}).data), ['web.weave.local']);
  });

  it('says NXDOMAIN for an unknown name in the domain, and nothing for another type of a known one', async () => {
    assert.equal((await ask('nobody.weave.local', 'A')).rcode, 'NXDOMAIN');
    const aaaa = await ask('web.weave.local', 'AAAA');
    assert.deepEqual([aaaa.rcode, aaaa.answers?.length], ['NOERROR', 0]);
  });

  it('truncates a UDP answer to 512 bytes (TC set), gives all over TCP or to an EDNS client that takes more', async () => {
    const udp = await ask('big.weave.local', 'A');
    assert.equal(udp.flag_tc, true);
    assert.ok(packet.encode(udp).length <= 512);
    assert.equal((await ask('big.weave.local', 'A', true)).answers?.length, 60);
    const edns = await ask('big.weave.local', 'A', false, {additionals: [{type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: []}]});
    assert.equal(edns.answers?.length, 60);
  });

  it('forwards other names, and a reverse name it does not hold: SERVFAIL with no resolver answering', async () => {
    assert.equal((await ask('example.com', 'A')).rcode, 'SERVFAIL');
    assert.equal((await ask('1.2.0.192.in-addr.arpa', 'PTR')).rcode, 'SERVFAIL');
  });

  it('drops what is not a query', async () => {
    assert.equal(await resolver.answer(Buffer.from('nonsense'), false), undefined);
  });
});
