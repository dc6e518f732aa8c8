import assert from 'node:assert/strict';
import {decodeResult, emptyResult, encodeResult, isV6, mergeResults, type Result} from '../../../src/lib/cni/result.js';
import {SUPPORTED_VERSIONS} from '../../../src/lib/cni/version.js';

const LEGACY = ['0.1.0', '0.2.0'];
const CURRENT_0X = ['0.3.0', '0.3.1', '0.4.0'];
const V1 = ['1.0.0', '1.1.0'];

/** What weave-net's ADD returns for one IPv4 pod. */
const v4: Result = {
  interfaces: [
    {name: 'weave', mac: '8a:00:00:00:00:01'},
    {name: 'vethwepl3f6940a', mac: '8a:00:00:00:00:02'},
    {name: 'eth0', mac: '8a:00:00:00:00:03', sandbox: '/run/netns/pod1'},
  ],
  ips: [{address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 2}],
  routes: [{dst: '0.0.0.0/0', gw: '10.32.0.1'}],
  dns: {nameservers: ['10.32.0.1'], search: ['weave.local']},
};

const v6: Result = {
  interfaces: [{name: 'eth0', mac: '8a:00:00:00:00:03', sandbox: '/run/netns/pod1'}],
  ips: [{address: 'fd00:32::2/64', gateway: 'fd00:32::1', interface: 0}],
  routes: [{dst: '::/0', gw: 'fd00:32::1'}],
  dns: {},
};

const dual: Result = {
  interfaces: v4.interfaces,
  ips: [
    {address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 2},
    {address: 'fd00:32::2/64', gateway: 'fd00:32::1', interface: 2},
  ],
  routes: [
    {dst: '0.0.0.0/0', gw: '10.32.0.1'},
    {dst: '10.0.0.0/8'},
    {dst: '::/0', gw: 'fd00:32::1'},
  ],
  dns: {nameservers: ['10.32.0.1', 'fd00:32::1'], domain: 'weave.local', options: ['ndots:2']},
};

/** What the legacy layout can hold: no interfaces, no interface index. */
function legacyView(result: Result): Result {
  return {...result, interfaces: [], ips: result.ips.map(({interface: _i, ...ip}) => ip)};
}

describe('cni/result', () => {
  describe('helpers', () => {
    it('emptyResult has every list empty and dns an object', () => {
      assert.deepEqual(emptyResult(), {interfaces: [], ips: [], routes: [], dns: {}});
      assert.notEqual(emptyResult().ips, emptyResult().ips, 'each call gives fresh lists');
    });

    it('isV6 tells the families apart, with or without prefix', () => {
      for (const a of ['fd00::1', 'fd00::2/64', '::/0', '::ffff:10.0.0.1']) assert.equal(isV6(a), true, a);
      for (const a of ['10.32.0.1', '10.32.0.2/12', '0.0.0.0/0']) assert.equal(isV6(a), false, a);
    });
  });

  describe('encodeResult', () => {
    describe('0.1.0 and 0.2.0: ip4/ip6', () => {
      for (const version of LEGACY) {
        it(`${version}: one IPv4 address`, () => {
          assert.deepEqual(encodeResult(v4, version), {
            cniVersion: version,
            ip4: {ip: '10.32.0.2/12', gateway: '10.32.0.1', routes: [{dst: '0.0.0.0/0', gw: '10.32.0.1'}]},
            dns: {nameservers: ['10.32.0.1'], search: ['weave.local']},
          });
        });

        it(`${version}: dual stack splits addresses and routes by family`, () => {
          assert.deepEqual(encodeResult(dual, version), {
            cniVersion: version,
            ip4: {ip: '10.32.0.2/12', gateway: '10.32.0.1', routes: [{dst: '0.0.0.0/0', gw: '10.32.0.1'}, {dst: '10.0.0.0/8'}]},
            ip6: {ip: 'fd00:32::2/64', gateway: 'fd00:32::1', routes: [{dst: '::/0', gw: 'fd00:32::1'}]},
            dns: dual.dns,
          });
        });

        it(`${version}: no interfaces or ips keys, which the layout does not have`, () => {
          const out = encodeResult(dual, version);
          assert.equal('interfaces' in out, false);
          assert.equal('ips' in out, false);
          assert.equal('routes' in out, false);
        });

        it(`${version}: omits routes and gateway when there are none, keeps dns as {}`, () => {
          const out = encodeResult({interfaces: [], ips: [{address: '10.32.0.2/12'}], routes: [], dns: {}}, version);
          assert.deepEqual(out, {cniVersion: version, ip4: {ip: '10.32.0.2/12'}, dns: {}});
        });

        it(`${version}: keeps only dst and gw of a route`, () => {
          const out = encodeResult({...emptyResult(), ips: [{address: '10.32.0.2/12'}], routes: [{dst: '10.0.0.0/8', gw: '10.32.0.1', mtu: 1400, scope: 253}]}, version);
          assert.deepEqual(out.ip4, {ip: '10.32.0.2/12', routes: [{dst: '10.0.0.0/8', gw: '10.32.0.1'}]});
        });

        it(`${version}: an empty result still names its version and has dns`, () => {
          assert.deepEqual(encodeResult(emptyResult(), version), {cniVersion: version, dns: {}});
        });
      }
    });

    describe('0.3.0, 0.3.1 and 0.4.0: ips with "version"', () => {
      for (const version of CURRENT_0X) {
        it(`${version}: one IPv4 address`, () => {
          assert.deepEqual(encodeResult(v4, version), {
            cniVersion: version,
            interfaces: v4.interfaces,
            ips: [{version: '4', address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 2}],
            routes: v4.routes,
            dns: v4.dns,
          });
        });

        it(`${version}: dual stack marks each address "4" or "6"`, () => {
          const out = encodeResult(dual, version);
          assert.deepEqual(out.ips, [
            {version: '4', address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 2},
            {version: '6', address: 'fd00:32::2/64', gateway: 'fd00:32::1', interface: 2},
          ]);
          assert.deepEqual(out.routes, dual.routes);
        });
      }
    });

    describe('1.0.0 and 1.1.0: ips without "version"', () => {
      for (const version of V1) {
        it(`${version}: one IPv4 address`, () => {
          assert.deepEqual(encodeResult(v4, version), {cniVersion: version, interfaces: v4.interfaces, ips: v4.ips, routes: v4.routes, dns: v4.dns});
        });

        it(`${version}: dual stack`, () => {
          const out = encodeResult(dual, version);
          assert.deepEqual(out.ips, dual.ips);
          for (const ip of out.ips as object[]) assert.equal('version' in ip, false);
        });

        it(`${version}: keeps extra route fields (1.1 adds mtu, scope, table, ...)`, () => {
          const routes = [{dst: '10.0.0.0/8', gw: '10.32.0.1', mtu: 1400, table: 100}];
          assert.deepEqual(encodeResult({...v4, routes}, version).routes, routes);
        });
      }
    });

    for (const version of [...CURRENT_0X, ...V1]) {
      it(`${version}: omits interfaces (an IPAM result) and routes when empty, keeps ips and dns`, () => {
        const out = encodeResult({interfaces: [], ips: [{address: '10.32.0.2/12', gateway: '10.32.0.1'}], routes: [], dns: {}}, version);
        assert.deepEqual(Object.keys(out).sort(), ['cniVersion', 'dns', 'ips']);
        assert.deepEqual(out.dns, {});
      });

      it(`${version}: an empty result has cniVersion, an empty ips list and dns {}`, () => {
        assert.deepEqual(encodeResult(emptyResult(), version), {cniVersion: version, ips: [], dns: {}});
      });
    }

    it('always names the cniVersion it was encoded in', () => {
      for (const version of SUPPORTED_VERSIONS) {
        for (const result of [v4, v6, dual, emptyResult()]) assert.equal(encodeResult(result, version).cniVersion, version);
      }
    });

    it('does not change the result it encodes', () => {
      const copy = structuredClone(dual);
      for (const version of SUPPORTED_VERSIONS) encodeResult(dual, version);
      assert.deepEqual(dual, copy);
    });

    it('survives JSON: what the plugin prints is what it encoded', () => {
      for (const version of SUPPORTED_VERSIONS) {
        const out = encodeResult(dual, version);
        assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
      }
    });
  });

  describe('decodeResult', () => {
    it('0.2.0: reads ip4 and ip6 with their routes, and dns', () => {
      const raw = {
        cniVersion: '0.2.0',
        ip4: {ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{dst: '0.0.0.0/0'}]},
        ip6: {ip: 'fd00::5/64', routes: [{dst: '::/0', gw: 'fd00::1'}]},
        dns: {nameservers: ['10.1.0.1']},
      };
      assert.deepEqual(decodeResult(raw, '0.2.0'), {
        interfaces: [],
        ips: [{address: '10.1.0.5/16', gateway: '10.1.0.1'}, {address: 'fd00::5/64'}],
        routes: [{dst: '0.0.0.0/0'}, {dst: '::/0', gw: 'fd00::1'}],
        dns: {nameservers: ['10.1.0.1']},
      });
    });

    it('0.1.0: reads an ip4 without routes or dns', () => {
      assert.deepEqual(decodeResult({ip4: {ip: '10.1.0.5/16'}}, '0.1.0'), {interfaces: [], ips: [{address: '10.1.0.5/16'}], routes: [], dns: {}});
    });

    it('0.3.1: reads what host-local prints, dropping "version"', () => {
      const raw = {cniVersion: '0.3.1', ips: [{version: '4', address: '10.22.0.2/16', gateway: '10.22.0.1'}], routes: [{dst: '0.0.0.0/0'}], dns: {}};
      assert.deepEqual(decodeResult(raw, '0.3.1'), {interfaces: [], ips: [{address: '10.22.0.2/16', gateway: '10.22.0.1'}], routes: [{dst: '0.0.0.0/0'}], dns: {}});
    });

    it('1.0.0: reads interfaces, ips with their interface index, routes and dns', () => {
      const raw = {cniVersion: '1.0.0', ...v4};
      assert.deepEqual(decodeResult(raw, '1.0.0'), v4);
    });

    it('fills in what is missing: no ips, routes, interfaces or dns', () => {
      for (const version of SUPPORTED_VERSIONS) assert.deepEqual(decodeResult({cniVersion: version}, version), emptyResult(), version);
      assert.deepEqual(decodeResult({interfaces: null, ips: null, routes: null, dns: null}, '1.0.0'), emptyResult());
    });

    it('reads a dns that is not an object as {}', () => {
      assert.deepEqual(decodeResult({ips: [], dns: 'x'}, '1.0.0').dns, {});
      assert.deepEqual(decodeResult({dns: ['10.0.0.1']}, '0.2.0').dns, {});
    });

    const failures: {version: string; raw: unknown; message: RegExp}[] = [
      {version: '1.0.0', raw: null, message: /not a JSON object/},
      {version: '1.0.0', raw: [], message: /not a JSON object/},
      {version: '1.0.0', raw: '{}', message: /not a JSON object/},
      {version: '0.2.0', raw: 7, message: /not a JSON object/},
      {version: '0.2.0', raw: {ip4: {gateway: '10.0.0.1'}}, message: /ip4\.ip is missing/},
      {version: '0.2.0', raw: {ip6: {ip: 6}}, message: /ip6\.ip is missing/},
      {version: '0.2.0', raw: {ip4: {ip: '10.0.0.2/8', routes: {dst: '0.0.0.0/0'}}}, message: /routes is not a list/},
      {version: '0.2.0', raw: {ip4: {ip: '10.0.0.2/8', routes: [{gw: '10.0.0.1'}]}}, message: /a route has no "dst"/},
      {version: '0.3.0', raw: {ips: {address: '10.0.0.2/8'}}, message: /interfaces or ips is not a list/},
      {version: '1.0.0', raw: {interfaces: 'eth0'}, message: /interfaces or ips is not a list/},
      {version: '1.0.0', raw: {interfaces: [{mac: '8a:00:00:00:00:01'}]}, message: /an interface has no "name"/},
      {version: '1.0.0', raw: {interfaces: ['eth0']}, message: /an interface has no "name"/},
      {version: '0.4.0', raw: {ips: [{version: '4'}]}, message: /an ip has no "address"/},
      {version: '1.1.0', raw: {ips: ['10.0.0.2/8']}, message: /an ip has no "address"/},
      {version: '1.1.0', raw: {routes: '0.0.0.0/0'}, message: /routes is not a list/},
      {version: '1.1.0', raw: {routes: [{dst: 0}]}, message: /a route has no "dst"/},
      {version: '1.1.0', raw: {routes: [null]}, message: /a route has no "dst"/},
    ];
    for (const {version, raw, message} of failures) {
      it(`${version}: refuses ${JSON.stringify(raw)} with code 6`, () => {
        assert.throws(() => decodeResult(raw, version), {name: 'CniError', code: 6, message, details: /CNI spec/});
      });
    }

    it('names what it was decoding in the message', () => {
      assert.throws(() => decodeResult(null, '1.0.0', 'IPAM plugin "host-local" result'), {message: /^cannot decode IPAM plugin "host-local" result: /});
      assert.throws(() => decodeResult(null, '1.0.0'), {message: /^cannot decode result: /});
    });
  });

  describe('round trips: decode(encode(r)) is r', () => {
    for (const version of SUPPORTED_VERSIONS) {
      const legacy = LEGACY.includes(version);
      for (const [name, result] of [['IPv4', v4], ['IPv6', v6], ['dual-stack', dual]] as const) {
        it(`${version} ${name}${legacy ? ' (without interfaces, which 0.2.0 cannot carry)' : ''}`, () => {
          const want = legacy ? legacyView(result) : result;
          const wire = JSON.parse(JSON.stringify(encodeResult(want, version))) as unknown;
          assert.deepEqual(decodeResult(wire, version), want);
        });
      }

      it(`${version} empty result`, () => {
        assert.deepEqual(decodeResult(encodeResult(emptyResult(), version), version), emptyResult());
      });
    }

    it('encode(decode(x)) gives back a 0.3.1 result as host-local printed it', () => {
      const raw = {cniVersion: '0.3.1', ips: [{version: '4', address: '10.22.0.2/16', gateway: '10.22.0.1'}], routes: [{dst: '0.0.0.0/0'}], dns: {}};
      assert.deepEqual(encodeResult(decodeResult(raw, '0.3.1'), '0.3.1'), raw);
    });

    it('converts between versions: a 0.3.1 IPAM result re-encoded as 1.1.0 and as 0.2.0', () => {
      const decoded = decodeResult({cniVersion: '0.3.1', ips: [{version: '4', address: '10.22.0.2/16', gateway: '10.22.0.1'}], routes: [{dst: '0.0.0.0/0'}], dns: {}}, '0.3.1');
      assert.deepEqual(encodeResult(decoded, '1.1.0'), {cniVersion: '1.1.0', ips: [{address: '10.22.0.2/16', gateway: '10.22.0.1'}], routes: [{dst: '0.0.0.0/0'}], dns: {}});
      assert.deepEqual(encodeResult(decoded, '0.2.0'), {cniVersion: '0.2.0', ip4: {ip: '10.22.0.2/16', gateway: '10.22.0.1', routes: [{dst: '0.0.0.0/0'}]}, dns: {}});
    });
  });

  describe('mergeResults', () => {
    const prev: Result = {
      interfaces: [{name: 'cni0', mac: '00:11:22:33:44:55'}, {name: 'net1', sandbox: '/run/netns/pod1'}],
      ips: [{address: '192.168.1.5/24', interface: 1}],
      routes: [{dst: '192.168.0.0/16'}],
      dns: {nameservers: ['192.168.1.1']},
    };

    it('returns ours alone when there is no prevResult', () => {
      assert.equal(mergeResults(undefined, v4), v4);
    });

    it('appends ours after prev, shifting our interface indexes past prev\'s interfaces', () => {
      const merged = mergeResults(prev, v4);
      assert.deepEqual(merged.interfaces, [...prev.interfaces, ...v4.interfaces]);
      assert.deepEqual(merged.ips, [{address: '192.168.1.5/24', interface: 1}, {address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 4}]);
      assert.deepEqual(merged.routes, [...prev.routes, ...v4.routes]);
      // our index 2 was eth0; after the shift, index 4 still names eth0
      assert.equal(merged.interfaces[merged.ips[1]!.interface!]!.name, 'eth0');
    });

    it('leaves an address without interface index as it is', () => {
      const merged = mergeResults(prev, {...emptyResult(), ips: [{address: '10.32.0.2/12'}]});
      assert.deepEqual(merged.ips.at(-1), {address: '10.32.0.2/12'});
    });

    it('shifts nothing when prev has no interfaces (an IPAM-only prevResult)', () => {
      const merged = mergeResults({...prev, interfaces: []}, v4);
      assert.equal(merged.ips.at(-1)!.interface, 2);
    });

    it('takes our dns when we have one, else keeps prev\'s', () => {
      assert.deepEqual(mergeResults(prev, v4).dns, v4.dns);
      assert.deepEqual(mergeResults(prev, {...v4, dns: {}}).dns, prev.dns);
    });

    it('changes neither input', () => {
      const [p, o] = [structuredClone(prev), structuredClone(v4)];
      mergeResults(prev, v4);
      assert.deepEqual(prev, p);
      assert.deepEqual(v4, o);
    });
  });
});
