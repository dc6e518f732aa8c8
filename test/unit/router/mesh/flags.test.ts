import assert from 'node:assert/strict';
import {parseRouterArgv} from '../../../../src/lib/router/cli.js';
import {type RawRouterFlags, routerConfig} from '../../../../src/lib/router/config.js';

/** The flags `weave router` parses by default, with `over` laid on top. */
function flags(over: Partial<RawRouterFlags> = {}): RawRouterFlags {
  return {...parseRouterArgv([]).flags, ...over};
}

describe('router mesh flags', () => {
  it('defaults: discovery on, 200 connections, no trusted subnets, no resume, all addresses', () => {
    const config = routerConfig(flags(), ['192.168.90.2'], {});
    assert.equal(config.connLimit, 200);
    assert.equal(config.discovery, true);
    assert.equal(config.resume, false);
    assert.deepEqual(config.trustedSubnets, []);
    assert.equal(config.host, undefined);
    assert.deepEqual(config.peers, ['192.168.90.2']);
    assert.equal(config.sleeveOffloads, true);
  });

  it('--no-sleeve-offloads: the encrypted path sends no IP-fragmented super-frames', () => {
    assert.equal(routerConfig(flags({'no-sleeve-offloads': true}), [], {}).sleeveOffloads, false);
  });

  it('reads --no-discovery, --conn-limit, --host, and --trusted-subnets written back as networks', () => {
    const config = routerConfig(flags({'no-discovery': true, 'conn-limit': 0, host: '192.168.90.1', 'trusted-subnets': '10.1.2.3/8, 192.168.90.0/24'}), [], {});
    assert.equal(config.discovery, false);
    assert.equal(config.connLimit, 0);
    assert.equal(config.host, '192.168.90.1');
    assert.deepEqual(config.trustedSubnets, ['10.0.0.0/8', '192.168.90.0/24']);
  });

  it('refuses --resume with peers, as the original', () => {
    assert.throws(() => routerConfig(flags({resume: true}), ['host2'], {}), /^RouterConfigError: You must not specify an initial peer list in conjunction with --resume$/);
    assert.equal(routerConfig(flags({resume: true}), [], {}).resume, true);
  });

  it('names the flag and what it accepts when a value is bad', () => {
    assert.throws(() => routerConfig(flags({'conn-limit': -1}), [], {}), /invalid --conn-limit -1: expected a whole number, 0 for no limit/);
    assert.throws(() => routerConfig(flags({host: 'eth0'}), [], {}), /invalid --host "eth0": expected an IP address of this host/);
    assert.throws(() => routerConfig(flags({'trusted-subnets': '10.0.0.0/8,nonsense'}), [], {}), /invalid --trusted-subnets entry "nonsense": expected IPv4 CIDRs separated by commas/);
  });
});
