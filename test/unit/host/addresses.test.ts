import assert from 'node:assert/strict';
import {ipsLine, parseAddress, parseAddresses, parseAddressesAndContainer} from '../../../src/lib/host/addresses.js';
import {UsageError} from '../../../src/lib/errors.js';

describe('<addr> arguments of expose and hide', () => {
  it('reads net:default, net:<cidr>, ip:<cidr> and a bare <cidr>', () => {
    assert.deepEqual(parseAddress('net:default'), {kind: 'net'});
    assert.deepEqual(parseAddress('net:10.32.1.0/24'), {kind: 'net', subnet: '10.32.1.0/24'});
    assert.deepEqual(parseAddress('ip:10.32.0.9/12'), {kind: 'ip', cidr: '10.32.0.9/12'});
    assert.deepEqual(parseAddress('10.2.0.1/16'), {kind: 'ip', cidr: '10.2.0.1/16'});
  });

  it('refuses what is not one of those (no prefix, names, IPv6, shell text, octets over 255, prefixes over 32)', () => {
    for (const bad of ['10.2.0.1', 'net:', 'net:10.2.0.1', 'ip:', 'host1', 'fd00::1/64', '10.2.0.1/16;rm', '-h', '1.2.3.4/99', '1.2.3.4/33', '256.0.0.1/8', 'net:10.0.0.0/40']) {
      assert.equal(parseAddress(bad), undefined, bad);
    }
    assert.throws(() => parseAddresses(['10.2.0.1/16', 'x'], 'expose'), (e: unknown) => e instanceof UsageError && /Invalid address 'x' for 'weave expose'/.test(e.message));
  });

  it('means net:default when no address is given', () => {
    assert.deepEqual(parseAddresses([], 'hide'), [{kind: 'net'}]);
  });

  it('prints the bare addresses on one line, an empty line when none', () => {
    assert.equal(ipsLine(['10.32.0.1/12', '10.2.0.1/16']), '10.32.0.1 10.2.0.1\n');
    assert.equal(ipsLine([]), '\n');
  });

  it('reads attach and detach lines: addresses first, the container last', () => {
    assert.deepEqual(parseAddressesAndContainer(['c1'], 'attach'), {addresses: [{kind: 'net'}], container: 'c1'});
    assert.deepEqual(parseAddressesAndContainer(['net:10.32.1.0/24', 'ip:10.2.0.1/16', '10.3.0.1/8', 'net:default', '1a2b'], 'detach'), {
      addresses: [{kind: 'net', subnet: '10.32.1.0/24'}, {kind: 'ip', cidr: '10.2.0.1/16'}, {kind: 'ip', cidr: '10.3.0.1/8'}, {kind: 'net'}],
      container: '1a2b',
    });
    assert.throws(() => parseAddressesAndContainer([], 'attach'), (e: unknown) => e instanceof UsageError && /'weave attach' needs a container/.test(e.message));
    assert.throws(() => parseAddressesAndContainer(['c1', 'c2'], 'attach'), (e: unknown) => e instanceof UsageError && /Invalid address 'c1' for 'weave attach'/.test(e.message));
    // A container given first and an address after it: the address is taken for the container, the container for an address.
    assert.throws(() => parseAddressesAndContainer(['c1', '10.2.0.1/16'], 'detach'), /Invalid address 'c1' for 'weave detach'/);
  });
});
