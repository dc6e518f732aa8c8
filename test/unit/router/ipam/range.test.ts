import assert from 'node:assert/strict';
import {formatAddress} from '../../../../src/lib/net/cidr.js';
import {cidrSpan, formatCidr, hostSpan, parseAddress, parseIpamCidr, parseSubnet} from '../../../../src/lib/router/ipam/range.js';

describe('router/ipam/range', () => {
  it('formats and parses addresses at both ends of the IPv4 space', () => {
    for (const ip of ['0.0.0.0', '10.32.0.1', '255.255.255.255', '128.0.0.0']) assert.equal(formatAddress(parseAddress(ip)), ip);
    assert.equal(parseAddress('255.255.255.255'), 2 ** 32 - 1);
  });

  it('refuses addresses with the messages of Go', () => {
    assert.throws(() => parseAddress('10.32.0'), {name: 'IpamInputError', message: 'invalid IP address: 10.32.0'});
    assert.throws(() => parseAddress('010.1.1.1'), {message: 'invalid IP address: 010.1.1.1'});
    assert.throws(() => parseAddress('$(reboot)'), {message: 'invalid IP address: $(reboot)'});
    assert.throws(() => parseAddress('fd00::1'), {message: 'invalid Non-IPv4 address not supported: fd00::1'});
  });

  it('parses CIDRs keeping host bits, and refuses malformed ones', () => {
    assert.deepEqual(parseIpamCidr('10.32.0.5/12'), {addr: parseAddress('10.32.0.5'), prefix: 12});
    assert.equal(formatCidr(parseIpamCidr('10.32.0.5/12')), '10.32.0.5/12');
    for (const bad of ['10.32.0.0', '10.32.0.0/33', '10.32.0.0/', '10.32.0.0/x', '10.32.0.0/-1', 'a/12', '/12']) {
      assert.throws(() => parseIpamCidr(bad), {message: `invalid CIDR address: ${bad}`});
    }
    assert.throws(() => parseIpamCidr('fd00::/64'), {message: 'invalid Non-IPv4 address not supported: fd00::/64'});
  });

  it('checks subnets as ParseCIDRSubnet: network bits only, at least 4 addresses', () => {
    assert.deepEqual(parseSubnet('10.32.0.0/12'), {addr: parseAddress('10.32.0.0'), prefix: 12});
    assert.throws(() => parseSubnet('10.32.0.1/12'), {message: 'invalid subnet - bits after network prefix are not all zero: 10.32.0.1/12'});
    assert.throws(() => parseSubnet('10.32.0.0/31'), {message: 'invalid subnet - smaller than minimum size 4: 10.32.0.0/31'});
    // Both wrong: the size message wins, as in the original.
    assert.throws(() => parseSubnet('10.32.0.1/31'), {message: 'invalid subnet - smaller than minimum size 4: 10.32.0.1/31'});
    assert.doesNotThrow(() => parseSubnet('10.32.0.0/30'));
  });

  it('gives the whole span and the host span of a subnet', () => {
    const span = cidrSpan(parseIpamCidr('10.32.0.77/24'));
    assert.deepEqual([formatAddress(span.start), span.end - span.start], ['10.32.0.0', 256]);
    const hosts = hostSpan(parseSubnet('10.32.0.0/24'));
    assert.deepEqual([formatAddress(hosts.start), formatAddress(hosts.end - 1)], ['10.32.0.1', '10.32.0.254']);
    const all = cidrSpan(parseSubnet('0.0.0.0/0'));
    assert.deepEqual([all.start, all.end], [0, 2 ** 32]);
  });
});
