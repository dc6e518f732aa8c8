import assert from 'node:assert/strict';
import type {FdbEntry} from '../../../../src/lib/net/fdb.js';
import {seenMacs} from '../../../../src/lib/router/status/macs.js';
import {BUSY} from '../../../helpers/router-states.js';

const NOW = Date.parse('2026-12-06T18:55:31Z');

/** `bridge -j -s fdb show br weave` of a router with one pod, one remote pod behind VXLAN, and the sleeve. */
const FDB: FdbEntry[] = [
  {mac: '33:33:00:00:00:01', ifname: 'weave', flags: ['self'], state: 'permanent'},
  {mac: '8a:3e:3e:3e:3e:3e', ifname: 'weave', master: 'weave', flags: [], state: 'permanent', updated: 2},
  {mac: '5e:92:33:6a:44:63', ifname: 'vxlan-6784', master: 'weave', flags: [], state: 'permanent', updated: 1},
  {mac: '06:c0:a7:b2:b2:ab', ifname: 'vethwepl1234567', master: 'weave', flags: [], state: '', updated: 0},
  {mac: '6a:c7:7e:04:35:44', ifname: 'vethwepl1234567', master: 'weave', flags: [], state: 'permanent', updated: 1},
  {mac: 'aa:bb:cc:00:00:01', ifname: 'vxlan-6784', master: 'weave', flags: [], state: '', updated: 5},
  {mac: 'aa:bb:cc:00:00:01', ifname: 'vxlan-6784', dst: '192.168.48.12', flags: ['self'], state: ''},
  {mac: '00:00:00:00:00:00', ifname: 'vxlan-6784', dst: '192.168.48.12', flags: ['self'], state: 'permanent'},
  {mac: 'aa:bb:cc:00:00:02', ifname: 'vxlan-6784', master: 'weave', flags: [], state: 'stale', updated: 9},
  {mac: 'aa:bb:cc:00:00:03', ifname: 'sleeve-6783', master: 'weave', flags: [], state: '', updated: 1},
];

describe("/report MACs from the bridge's forwarding table", () => {
  it('gives the bridge and local pods to us, VXLAN-learnt MACs to the peer at their underlay address; leaves out ports, multicast and the unknown', () => {
    const macs = seenMacs(FDB, BUSY, ['vxlan-6784', 'sleeve-6783'], NOW);
    assert.deepEqual(
      macs.map(m => [m.mac, m.peer, m.nickName, m.lastSeen.toISOString()]),
      [
        ['06:c0:a7:b2:b2:ab', '8a:3e:3e:3e:3e:3e', 'host1', '2026-12-06T18:55:31.000Z'],
        ['8a:3e:3e:3e:3e:3e', '8a:3e:3e:3e:3e:3e', 'host1', '2026-12-06T18:55:29.000Z'],
        ['aa:bb:cc:00:00:01', '7e:21:4a:70:2f:45', 'host2', '2026-12-06T18:55:26.000Z'],
      ],
    );
  });
});
