import assert from 'node:assert/strict';
import {connectionsText, ipamText, peersText, statusText, targetsText} from '../../../../src/lib/router/status/text.js';
import {BUSY, FRESH, NO_IPAM} from '../../../helpers/router-states.js';

describe('status pages (text)', () => {
  it('draws a fresh router as the reference example, colons in column 16', () => {
    const text = statusText(FRESH);
    assert.equal(
      text,
      [
        '        Version: 2.8.1 (version check update disabled)',
        '',
        '        Service: router',
        '       Protocol: weave 1..2',
        '           Name: 8a:3e:3e:3e:3e:3e(host1)',
        '     Encryption: disabled',
        '  PeerDiscovery: enabled',
        '        Targets: 0',
        '    Connections: 0',
        '          Peers: 1',
        ' TrustedSubnets: none',
        '',
        '        Service: ipam',
        '         Status: idle',
        '          Range: 10.32.0.0/12',
        '  DefaultSubnet: 10.32.0.0/12',
        '',
      ].join('\n'),
    );
    for (const line of text.split('\n').filter(Boolean)) assert.equal(line.indexOf(':'), 15, line);
  });

  it('counts connections by state and peer links, joins lists, prints one protocol version', () => {
    assert.equal(
      statusText(BUSY),
      [
        '        Version: 2.8.1 (version check update disabled)',
        '',
        '        Service: router',
        '       Protocol: weave 2',
        '           Name: 8a:3e:3e:3e:3e:3e(host1)',
        '     Encryption: enabled',
        '  PeerDiscovery: disabled',
        '        Targets: 2',
        '    Connections: 4 (2 established, 1 failed, 1 connecting)',
        '          Peers: 3 (with 2 established, 1 pending connections)',
        ' TrustedSubnets: 10.0.0.0/8, 192.168.0.0/16',
        '',
        '        Service: ipam',
        '         Status: waiting for IP(s) to become available',
        '          Range: 10.32.0.0/12',
        '  DefaultSubnet: 10.32.0.0/12',
        '',
      ].join('\n'),
    );
  });

  it('leaves the IPAM block out when IPAM is off', () => {
    assert.ok(statusText(NO_IPAM).endsWith(' TrustedSubnets: none\n'));
    assert.ok(!statusText(NO_IPAM).includes('ipam'));
  });

  it('lists targets one per line, nothing when there are none', () => {
    assert.equal(targetsText(BUSY), '192.168.48.12\n192.168.48.13:6783\n');
    assert.equal(targetsText(FRESH), '');
  });

  it('lists connections with %-21v address, %-11v state, info and unseparated attributes but name', () => {
    assert.equal(
      connectionsText(BUSY),
      '-> 192.168.48.12:6783    established encrypted   fastdp 7e:21:4a:70:2f:45(host2) encrypted=truemtu=1410\n' +
        '<- 192.168.48.14:45678   established unencrypted sleeve 5e:01:02:03:04:05(host4) mtu=1438\n' +
        '-> 192.168.48.13:6783    failed      dial tcp 192.168.48.13:6783: connect: no route to host, retry: 2026-11-24 10:00:00 \n' +
        '-> 192.168.48.15:6783    connecting   \n',
    );
    assert.equal(connectionsText(FRESH), '');
  });

  it('lists each peer then its connections, %-37v for name(nick)', () => {
    assert.equal(
      peersText(BUSY),
      '8a:3e:3e:3e:3e:3e(host1)\n' +
        '   -> 192.168.48.12:6783    7e:21:4a:70:2f:45(host2)              established\n' +
        '   <- 192.168.48.14:45678   5e:01:02:03:04:05(host4)              pending\n' +
        '7e:21:4a:70:2f:45(host2)\n' +
        '   <- 192.168.48.11:6783    8a:3e:3e:3e:3e:3e(host1)              established\n' +
        '5e:01:02:03:04:05(host4)\n',
    );
    assert.equal(peersText(FRESH), '8a:3e:3e:3e:3e:3e(host1)\n');
  });

  it('lists address ownership with ours first, others reachable (trailing space) or not', () => {
    assert.equal(
      ipamText(BUSY),
      '8a:3e:3e:3e:3e:3e(host1)                524288 IPs (50.0% of total) (5 active)\n' +
        '7e:21:4a:70:2f:45(host2)                262144 IPs (25.0% of total) \n' +
        '5e:01:02:03:04:05(host4)                262144 IPs (25.0% of total) - unreachable!\n',
    );
  });

  it('pads small shares with zeros as %04.1f', () => {
    const state = {...BUSY, ipam: {...BUSY.ipam!, activeIps: 1, owned: [{peer: BUSY.name, nickname: 'host1', ips: 1024, reachable: true}]}};
    assert.equal(ipamText(state), '8a:3e:3e:3e:3e:3e(host1)                  1024 IPs (00.1% of total) (1 active)\n');
  });

  it('has no IPAM page without a ring (empty) or without IPAM (undefined: a template error upstream)', () => {
    assert.equal(ipamText(FRESH), '');
    assert.equal(ipamText(NO_IPAM), undefined);
  });
});
