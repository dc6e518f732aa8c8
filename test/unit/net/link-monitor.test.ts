import assert from 'node:assert/strict';
import {parseLinkEvent} from '../../../src/lib/net/link-monitor.js';

describe('lines of `ip -o monitor link` (src/lib/net/link-monitor.ts)', () => {
  it('reads a link as it is now: index, name, flags, MTU and MAC', () => {
    const line = '7: weave: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1376 qdisc noqueue state UP group default \\    link/ether 0e:1c:8e:6c:5f:2c brd ff:ff:ff:ff:ff:ff';
    assert.deepEqual(parseLinkEvent(line), {deleted: false, ifindex: 7, ifname: 'weave', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1376, address: '0e:1c:8e:6c:5f:2c'});
  });

  it('reads a deletion, and a veth named with its peer', () => {
    assert.deepEqual(parseLinkEvent('Deleted 7: weave: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 32:0a:21:a3:78:b4 brd ff:ff:ff:ff:ff:ff'), {
      deleted: true,
      ifindex: 7,
      ifname: 'weave',
      flags: ['BROADCAST', 'MULTICAST'],
      mtu: 1500,
      address: '32:0a:21:a3:78:b4',
    });
    // The bridge family's line for a port names the port, not the bridge.
    assert.equal(parseLinkEvent('12: vethwepl1a2b3c4@if2: <BROADCAST,MULTICAST,UP> mtu 1376 master weave state forwarding \\    link/ether 5a:85:c8:a4:e7:26')?.ifname, 'vethwepl1a2b3c4');
  });

  it('ignores what is not a link line', () => {
    assert.equal(parseLinkEvent(''), undefined);
    assert.equal(parseLinkEvent('    link/ether 32:0a:21:a3:78:b4 brd ff:ff:ff:ff:ff:ff'), undefined);
  });
});
