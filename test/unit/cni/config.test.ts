import assert from 'node:assert/strict';
import {parseConfig} from '../../../src/lib/cni/config.js';
import {DEFAULTS} from '../../../src/lib/defaults.js';

/** The config as JSON on stdin, `fields` over a minimal valid 1.1.0 config. */
const parse = (fields: Record<string, unknown> = {}) => parseConfig(JSON.stringify({cniVersion: '1.1.0', name: 'weave', type: 'weave-net', ...fields}));

const invalidConfig = (message: RegExp) => ({name: 'CniError', code: 7, message});

describe('cni/config parseConfig', () => {
  describe('decoding', () => {
    for (const text of ['', '{', '{"cniVersion": "1.0.0",}', "{'a': 1}", 'cniVersion=1.0.0', '{"a": 1} trailing']) {
      it(`refuses the malformed JSON ${JSON.stringify(text)} with code 6`, () => {
        assert.throws(() => parseConfig(text), {name: 'CniError', code: 6, message: /not valid JSON/, details: /JSON/});
      });
    }

    for (const text of ['[]', '[{"cniVersion": "1.0.0"}]', '"weave"', '42', 'null', 'true']) {
      it(`refuses the non-object JSON ${text} with code 6`, () => {
        assert.throws(() => parseConfig(text), {name: 'CniError', code: 6, message: /not a JSON object/});
      });
    }
  });

  describe('cniVersion', () => {
    it('reads a config without cniVersion as 0.1.0', () => {
      assert.equal(parseConfig('{"name": "weave", "type": "weave-net"}').cniVersion, '0.1.0');
      assert.equal(parseConfig('{}').cniVersion, '0.1.0');
    });

    for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
      it(`accepts ${v}`, () => assert.equal(parse({cniVersion: v}).cniVersion, v));
    }

    it('reads "" as 0.1.0, as libcni does', () => assert.equal(parse({cniVersion: ''}).cniVersion, '0.1.0'));

    for (const v of ['0.5.0', '1.2.0', '2.0.0']) {
      it(`refuses ${JSON.stringify(v)} with code 1 naming it`, () => {
        assert.throws(() => parse({cniVersion: v}), {name: 'CniError', code: 1, message: new RegExp(`"${v}".*1\\.1\\.0`)});
      });
    }

    it('refuses a cniVersion that is not a string with code 7', () => {
      assert.throws(() => parse({cniVersion: 1}), invalidConfig(/"cniVersion" must be a string/));
    });

    it('checks the version before any other field', () => {
      assert.throws(() => parse({cniVersion: '9.0.0', isGateway: true, mtu: 'x'}), {code: 1});
    });
  });

  describe('fields weave-net does not support', () => {
    it('refuses "isGateway": true with code 2 and says what to do instead', () => {
      assert.throws(() => parse({isGateway: true}), {name: 'CniError', code: 2, message: /isGateway/, details: /weave expose/});
    });

    it('refuses "ipMasq": true with code 2 and says what to do instead', () => {
      assert.throws(() => parse({ipMasq: true}), {name: 'CniError', code: 2, message: /ipMasq/, details: /weave expose/});
    });

    it('accepts them when false', () => {
      assert.doesNotThrow(() => parse({isGateway: false, ipMasq: false}));
    });
  });

  describe('defaults', () => {
    it('fills in what a minimal config leaves out', () => {
      const conf = parseConfig('{"cniVersion": "0.3.0", "name": "weave", "type": "weave-net"}');
      assert.equal(conf.name, 'weave');
      assert.equal(conf.bridge, DEFAULTS.weaveBridge);
      assert.equal(conf.bridge, 'weave');
      assert.equal(conf.mtu, 0);
      assert.equal(conf.hairpinMode, true);
      assert.deepEqual(conf.ipam, {});
      assert.equal(conf.dns, undefined);
      assert.equal(conf.prevResult, undefined);
      assert.equal(conf.validAttachments, undefined);
    });

    it('reads the conflist weave 2.8.1 installs', () => {
      const conf = parse({cniVersion: '0.3.0', name: 'weave', type: 'weave-net', hairpinMode: true});
      assert.equal(conf.bridge, 'weave');
      assert.equal(conf.hairpinMode, true);
    });

    it('treats null like an absent field', () => {
      const conf = parse({name: null, bridge: null, mtu: null, hairpinMode: null, ipam: null});
      assert.equal(conf.name, '');
      assert.equal(conf.bridge, 'weave');
      assert.equal(conf.mtu, 0);
      assert.equal(conf.hairpinMode, true);
      assert.deepEqual(conf.ipam, {});
    });

    it('refuses a name that is not a string with code 7', () => {
      assert.throws(() => parse({name: 7}), invalidConfig(/"name" must be a string/));
    });
  });

  describe('bridge', () => {
    for (const bridge of ['weave', 'br0', 'weave-2', 'a'.repeat(15)]) {
      it(`accepts ${JSON.stringify(bridge)}`, () => assert.equal(parse({bridge}).bridge, bridge));
    }

    it('reads "" as the default bridge, as weave 2.8.1 does', () => assert.equal(parse({bridge: ''}).bridge, 'weave'));

    for (const bridge of ['a'.repeat(16), 'br/0', 'br:0', 'br 0', '.', '..']) {
      it(`refuses ${JSON.stringify(bridge)} with code 7 naming the field`, () => {
        assert.throws(() => parse({bridge}), {name: 'CniError', code: 7, message: /^invalid "bridge"/, details: /1 to 15/});
      });
    }

    it('refuses a bridge that is not a string with code 7', () => {
      assert.throws(() => parse({bridge: ['weave']}), invalidConfig(/"bridge" must be a string/));
    });
  });

  describe('mtu', () => {
    for (const mtu of [0, 68, 1376, 1500, 9000, 65535]) {
      it(`accepts ${mtu}`, () => assert.equal(parse({mtu}).mtu, mtu));
    }

    for (const mtu of [1, 67, -1, -1500, 65536, 100000, 1500.5, 0.1]) {
      it(`refuses ${mtu} with code 7`, () => {
        assert.throws(() => parse({mtu}), {name: 'CniError', code: 7, message: /"mtu"/, details: /68 to 65535/});
      });
    }

    for (const mtu of ['1500', true, [1500], {}]) {
      it(`refuses the non-number ${JSON.stringify(mtu)} with code 7`, () => {
        assert.throws(() => parse({mtu}), invalidConfig(/"mtu" must be a number/));
      });
    }
  });

  describe('hairpinMode', () => {
    it('defaults to true, as in weave 2.8.1', () => assert.equal(parse().hairpinMode, true));
    it('can be turned off', () => assert.equal(parse({hairpinMode: false}).hairpinMode, false));

    for (const hairpinMode of ['true', 'false', 1, 0, []]) {
      it(`refuses the non-boolean ${JSON.stringify(hairpinMode)} with code 7`, () => {
        assert.throws(() => parse({hairpinMode}), invalidConfig(/"hairpinMode" must be a boolean/));
      });
    }
  });

  describe('dns', () => {
    it('keeps it as given', () => {
      const dns = {nameservers: ['10.32.0.1'], domain: 'weave.local', search: ['weave.local'], options: ['ndots:5']};
      assert.deepEqual(parse({dns}).dns, dns);
      assert.deepEqual(parse({dns: {}}).dns, {});
    });

    for (const dns of ['10.32.0.1', ['10.32.0.1'], 5]) {
      it(`refuses ${JSON.stringify(dns)} with code 7`, () => {
        assert.throws(() => parse({dns}), invalidConfig(/"dns" must be an object/));
      });
    }

    it('reads "dns": null as absent', () => {
      assert.equal(parse({dns: null}).dns, undefined);
    });
  });

  describe('ipam', () => {
    it('is weave IPAM ({}) when absent or empty', () => {
      assert.deepEqual(parse().ipam, {});
      assert.deepEqual(parse({ipam: {}}).ipam, {});
    });

    for (const ipam of ['host-local', ['host-local'], 42, true]) {
      it(`refuses the non-object ${JSON.stringify(ipam)} with code 7`, () => {
        assert.throws(() => parse({ipam}), invalidConfig(/"ipam" must be an object/));
      });
    }

    it('keeps type, subnet, gateway and routes', () => {
      const ipam = {type: 'host-local', subnet: '10.22.0.0/16', gateway: '10.22.0.1', routes: [{dst: '0.0.0.0/0'}, {dst: '10.0.0.0/8', gw: '10.22.0.254'}]};
      assert.deepEqual(parse({ipam}).ipam, ipam);
    });

    it('leaves other ipam fields to the delegate, through raw', () => {
      const ipam = {type: 'host-local', ranges: [[{subnet: '10.22.0.0/16'}]], dataDir: '/tmp/x'};
      const conf = parse({ipam});
      assert.deepEqual(conf.ipam, {type: 'host-local'});
      assert.deepEqual(conf.raw.ipam, ipam);
    });

    describe('type', () => {
      for (const type of ['host-local', 'dhcp', 'static', 'weave-ipam', 'my_ipam.v2', 'a..b']) {
        it(`accepts ${JSON.stringify(type)}`, () => assert.equal(parse({ipam: {type}}).ipam.type, type));
      }

      for (const type of ['../host-local', '..', '.', '/usr/lib/cni/host-local', 'bin/host-local', '-h', 'host local', 'host-local;id', '$(id)']) {
        it(`refuses ${JSON.stringify(type)} with code 7: it must name a file in CNI_PATH`, () => {
          assert.throws(() => parse({ipam: {type}}), {name: 'CniError', code: 7, message: `invalid "ipam.type" "${type}"`, details: /CNI_PATH/});
        });
      }

      it('refuses a type that is not a string with code 7', () => {
        assert.throws(() => parse({ipam: {type: 1}}), invalidConfig(/"type" must be a string/));
      });

      it('reads "type": "" as weave IPAM, as weave 2.8.1 does', () => {
        assert.deepEqual(parse({ipam: {type: ''}}).ipam, {});
      });
    });

    describe('subnet and gateway', () => {
      for (const subnet of ['10.32.0.0/12', '10.32.0.0/32', '0.0.0.0/0', 'fd00::/64', '10.32.0.5/12']) {
        it(`accepts the subnet ${subnet}`, () => assert.equal(parse({ipam: {subnet}}).ipam.subnet, subnet));
      }

      for (const subnet of ['10.32.0.0', '10.32.0.0/33', '10.32.0.0/-1', '10.32.0.256/12', 'fd00::/129', 'weave', '10.32.0.0/12 ']) {
        it(`refuses the subnet ${JSON.stringify(subnet)} with code 7`, () => {
          assert.throws(() => parse({ipam: {subnet}}), {code: 7, message: `invalid "ipam.subnet" "${subnet}"`, details: /CIDR/});
        });
      }

      for (const gateway of ['10.32.0.1', 'fd00::1']) {
        it(`accepts the gateway ${gateway}`, () => assert.equal(parse({ipam: {gateway}}).ipam.gateway, gateway));
      }

      for (const gateway of ['10.32.0.1/12', '10.32.0', '300.1.1.1', 'router', '10.32.0.1 ']) {
        it(`refuses the gateway ${JSON.stringify(gateway)} with code 7`, () => {
          assert.throws(() => parse({ipam: {gateway}}), {code: 7, message: `invalid "ipam.gateway" "${gateway}"`, details: /IP address/});
        });
      }

      it('refuses a subnet or gateway that is not a string with code 7', () => {
        assert.throws(() => parse({ipam: {subnet: 12}}), invalidConfig(/"subnet" must be a string/));
        assert.throws(() => parse({ipam: {gateway: [10, 32, 0, 1]}}), invalidConfig(/"gateway" must be a string/));
      });

      it('reads "subnet": "" and "gateway": "" as not set, as weave 2.8.1 does', () => {
        assert.deepEqual(parse({ipam: {subnet: '', gateway: ''}}).ipam, {});
      });
    });

    describe('routes', () => {
      it('is absent when not given: ADD then adds a default route', () => {
        assert.equal(parse({ipam: {}}).ipam.routes, undefined);
        assert.equal(parse({ipam: {routes: null}}).ipam.routes, undefined);
        assert.equal('routes' in parse({ipam: {}}).ipam, false);
      });

      it('keeps "routes": [] as an empty list, which means no routes at all', () => {
        const {ipam} = parse({ipam: {routes: []}});
        assert.ok(Array.isArray(ipam.routes), `routes is ${JSON.stringify(ipam.routes)}`);
        assert.deepEqual(ipam.routes, []);
        assert.deepEqual(ipam, {routes: []});
      });

      it('keeps routes with and without gw, v4 and v6, and their extra fields', () => {
        const routes = [{dst: '0.0.0.0/0'}, {dst: '10.0.0.0/8', gw: '10.32.0.254'}, {dst: '::/0', gw: 'fd00::1'}, {dst: '192.168.0.0/16', mtu: 1400}];
        assert.deepEqual(parse({ipam: {routes}}).ipam.routes, routes);
      });

      for (const routes of [{dst: '0.0.0.0/0'}, '0.0.0.0/0', 1]) {
        it(`refuses routes that are not a list (${JSON.stringify(routes)}) with code 7`, () => {
          assert.throws(() => parse({ipam: {routes}}), invalidConfig(/"ipam.routes" must be a list/));
        });
      }

      for (const route of [{}, {gw: '10.32.0.1'}, {dst: 5}, {dst: '10.0.0.0'}, {dst: 'default'}, {dst: '10.0.0.0/40'}, '0.0.0.0/0', null, ['0.0.0.0/0']]) {
        it(`refuses the route ${JSON.stringify(route)} (no CIDR "dst") with code 7`, () => {
          assert.throws(() => parse({ipam: {routes: [{dst: '0.0.0.0/0'}, route]}}), {code: 7, message: /^invalid route .* in "ipam.routes"$/, details: /"dst"/});
        });
      }

      for (const gw of ['10.32.0.1/12', 'gateway', 10, '']) {
        it(`refuses a route with "gw": ${JSON.stringify(gw)} with code 7`, () => {
          assert.throws(() => parse({ipam: {routes: [{dst: '0.0.0.0/0', gw}]}}), {code: 7, message: /^invalid "gw" in route/, details: /IP address/});
        });
      }
    });
  });

  describe('prevResult', () => {
    it('is absent unless given', () => assert.equal(parse().prevResult, undefined));

    it('decodes a 0.2.0 prevResult from its ip4/ip6 layout', () => {
      const conf = parse({
        cniVersion: '0.2.0',
        prevResult: {
          cniVersion: '0.2.0',
          ip4: {ip: '10.32.0.2/12', gateway: '10.32.0.1', routes: [{dst: '0.0.0.0/0', gw: '10.32.0.1'}]},
          dns: {nameservers: ['10.32.0.1']},
        },
      });
      assert.deepEqual(conf.prevResult, {
        interfaces: [],
        ips: [{address: '10.32.0.2/12', gateway: '10.32.0.1'}],
        routes: [{dst: '0.0.0.0/0', gw: '10.32.0.1'}],
        dns: {nameservers: ['10.32.0.1']},
      });
    });

    const current = {
      interfaces: [{name: 'weave', mac: '8a:00:00:00:00:01'}, {name: 'eth0', mac: '8a:00:00:00:00:02', sandbox: '/run/netns/pod1'}],
      routes: [{dst: '0.0.0.0/0', gw: '10.32.0.1'}],
      dns: {},
    };

    for (const v of ['0.3.0', '0.3.1', '0.4.0']) {
      it(`decodes a ${v} prevResult, dropping the ips' "version"`, () => {
        const conf = parse({cniVersion: v, prevResult: {cniVersion: v, ...current, ips: [{version: '4', address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 1}]}});
        assert.deepEqual(conf.prevResult, {...current, ips: [{address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 1}]});
      });
    }

    for (const v of ['1.0.0', '1.1.0']) {
      it(`decodes a ${v} prevResult`, () => {
        const ips = [{address: '10.32.0.2/12', gateway: '10.32.0.1', interface: 1}];
        assert.deepEqual(parse({cniVersion: v, prevResult: {cniVersion: v, ...current, ips}}).prevResult, {...current, ips});
      });
    }

    it('reads the prevResult in the config version, whatever cniVersion the prevResult names', () => {
      // A 0.2.0 config's prevResult is read as ip4/ip6: a 1.x-shaped one yields no address.
      const conf = parse({cniVersion: '0.2.0', prevResult: {cniVersion: '1.0.0', ips: [{address: '10.32.0.2/12'}]}});
      assert.deepEqual(conf.prevResult?.ips, []);
    });

    for (const prevResult of ['x', [], 5]) {
      it(`refuses the non-object prevResult ${JSON.stringify(prevResult)} with code 6`, () => {
        assert.throws(() => parse({prevResult}), {name: 'CniError', code: 6, message: /prevResult/});
      });
    }

    it('refuses a prevResult whose ip has no address with code 6', () => {
      assert.throws(() => parse({prevResult: {ips: [{gateway: '10.32.0.1'}]}}), {code: 6, message: /prevResult: an ip has no "address"/});
    });

    it('reads "prevResult": null as absent', () => {
      assert.equal(parse({prevResult: null}).prevResult, undefined);
    });
  });

  describe('cni.dev/valid-attachments', () => {
    it('keeps the list GC receives', () => {
      const attachments = [
        {containerID: '3f6940ab5ab4', ifname: 'eth0'},
        {containerID: '3f6940ab5ab4', ifname: 'net1'},
      ];
      assert.deepEqual(parse({'cni.dev/valid-attachments': attachments}).validAttachments, attachments);
    });

    it('keeps an empty list as an empty list: no attachment is valid', () => {
      assert.deepEqual(parse({'cni.dev/valid-attachments': []}).validAttachments, []);
    });

    it('is absent unless given', () => assert.equal(parse().validAttachments, undefined));

    const bad = [{containerID: 'x'}, [{containerID: 'x'}], [{ifname: 'eth0'}], [{containerID: 1, ifname: 'eth0'}], [{containerID: 'x', ifname: null}], ['x'], [null], 'x'];
    for (const attachments of bad) {
      it(`refuses ${JSON.stringify(attachments)} with code 7`, () => {
        assert.throws(() => parse({'cni.dev/valid-attachments': attachments}), invalidConfig(/"cni.dev\/valid-attachments" must be a list of \{containerID, ifname\}/));
      });
    }
  });

  describe('as weave-ipam under another plugin (netFields false)', () => {
    // The config is then the host plugin's (bridge, ptp, ...): its own fields are not ours to judge.
    const ipamOnly = (fields: Record<string, unknown>) => parseConfig(JSON.stringify({cniVersion: '1.0.0', name: 'mynet', type: 'bridge', ...fields}), false);

    it('ignores the host plugin\'s isGateway, ipMasq, bridge, mtu and hairpinMode', () => {
      const conf = ipamOnly({isGateway: true, ipMasq: true, bridge: 'a-name-far-too-long', mtu: 9, hairpinMode: 'yes', ipam: {type: 'weave-ipam'}});
      assert.equal(conf.bridge, 'weave');
      assert.equal(conf.mtu, 0);
      assert.equal(conf.hairpinMode, true);
      assert.deepEqual(conf.ipam, {type: 'weave-ipam'});
    });

    it('still checks cniVersion, ipam, dns and prevResult', () => {
      assert.throws(() => ipamOnly({cniVersion: '3.0.0'}), {code: 1});
      assert.throws(() => ipamOnly({ipam: {subnet: '10.32.0.0/40'}}), {code: 7});
      assert.throws(() => ipamOnly({ipam: {routes: {}}}), {code: 7});
      assert.throws(() => ipamOnly({dns: 'x'}), {code: 7});
      assert.throws(() => ipamOnly({prevResult: 'x'}), {code: 6});
    });

    it('reads weave-net\'s own fields by default', () => {
      assert.throws(() => parseConfig(JSON.stringify({cniVersion: '1.0.0', mtu: 9})), {code: 7});
    });
  });

  describe('raw', () => {
    it('keeps the config exactly as received, unknown fields included', () => {
      const fields = {
        cniVersion: '1.0.0',
        name: 'weave',
        type: 'weave-net',
        hairpinMode: true,
        runtimeConfig: {portMappings: [{hostPort: 8080, containerPort: 80, protocol: 'tcp'}]},
        args: {labels: {app: 'web'}},
        ipam: {type: 'host-local', ranges: [[{subnet: '10.22.0.0/16'}]]},
        prevResult: {cniVersion: '1.0.0', ips: [{address: '10.22.0.2/16'}]},
        somethingElse: [1, 2, 3],
      };
      const conf = parseConfig(JSON.stringify(fields));
      assert.deepEqual(conf.raw, fields);
    });
  });
});
