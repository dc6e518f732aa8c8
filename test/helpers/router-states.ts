import type {RouterState} from '../../src/lib/router/state.js';

/** A fresh single router before any allocation: the reference's `weave status` example. */
export const FRESH: RouterState = {
  ready: true,
  version: '2.8.1',
  name: '8a:3e:3e:3e:3e:3e',
  nickName: 'host1',
  port: 6783,
  protocolMinVersion: 1,
  protocolMaxVersion: 2,
  encryption: false,
  peerDiscovery: true,
  trustedSubnets: [],
  targets: [],
  connections: [],
  peers: [{name: '8a:3e:3e:3e:3e:3e', nickName: 'host1', uid: '12345678901234567890', shortId: 4242, version: 1, connections: []}],
  unicastRoutes: [{dest: '8a:3e:3e:3e:3e:3e', via: ''}],
  broadcastRoutes: () => [{source: '8a:3e:3e:3e:3e:3e', via: []}],
  terminationCount: 0,
  ipam: {
    status: 'idle',
    range: '10.32.0.0/12',
    rangeNumIps: 1048576,
    activeIps: 0,
    defaultSubnet: '10.32.0.0/12',
    entries: [],
    pendingClaims: [],
    pendingAllocates: [],
    owned: [],
  },
};

/** A router with connections in every state, three peers and IPAM waiting on an allocation. */
export const BUSY: RouterState = {
  ...FRESH,
  protocolMinVersion: 2,
  encryption: true,
  peerDiscovery: false,
  trustedSubnets: ['10.0.0.0/8', '192.168.0.0/16'],
  targets: ['192.168.48.12', '192.168.48.13:6783'],
  connections: [
    {address: '192.168.48.12:6783', outbound: true, state: 'established', info: 'encrypted   fastdp 7e:21:4a:70:2f:45(host2)', attrs: {name: 'fastdp', mtu: 1410, encrypted: true}},
    {address: '192.168.48.14:45678', outbound: false, state: 'established', info: 'unencrypted sleeve 5e:01:02:03:04:05(host4)', attrs: {name: 'sleeve', mtu: 1438}},
    {address: '192.168.48.13:6783', outbound: true, state: 'failed', info: 'dial tcp 192.168.48.13:6783: connect: no route to host, retry: 2026-11-24 10:00:00', attrs: {}},
    {address: '192.168.48.15:6783', outbound: true, state: 'connecting', info: '', attrs: {}},
  ],
  peers: [
    {
      name: '8a:3e:3e:3e:3e:3e',
      nickName: 'host1',
      uid: '12345678901234567890',
      shortId: 4242,
      version: 7,
      connections: [
        {name: '7e:21:4a:70:2f:45', nickName: 'host2', address: '192.168.48.12:6783', outbound: true, established: true},
        {name: '5e:01:02:03:04:05', nickName: 'host4', address: '192.168.48.14:45678', outbound: false, established: false},
      ],
    },
    {
      name: '7e:21:4a:70:2f:45',
      nickName: 'host2',
      uid: '987',
      shortId: 17,
      version: 3,
      connections: [{name: '8a:3e:3e:3e:3e:3e', nickName: 'host1', address: '192.168.48.11:6783', outbound: false, established: true}],
    },
    {name: '5e:01:02:03:04:05', nickName: 'host4', uid: '55', shortId: 9, version: 1, connections: []},
  ],
  unicastRoutes: [
    {dest: '7e:21:4a:70:2f:45', via: '7e:21:4a:70:2f:45'},
    {dest: '8a:3e:3e:3e:3e:3e', via: ''},
  ],
  broadcastRoutes: () => [
    {source: '7e:21:4a:70:2f:45', via: []},
    {source: '8a:3e:3e:3e:3e:3e', via: ['7e:21:4a:70:2f:45']},
  ],
  terminationCount: 3,
  ipam: {
    status: 'waiting for IP(s) to become available',
    range: '10.32.0.0/12',
    rangeNumIps: 1048576,
    activeIps: 5,
    defaultSubnet: '10.32.0.0/12',
    entries: [
      {token: '10.32.0.0', size: 524288, peer: '8a:3e:3e:3e:3e:3e', nickname: 'host1', isKnownPeer: true, version: 4},
      {token: '10.40.0.0', size: 262144, peer: '7e:21:4a:70:2f:45', nickname: 'host2', isKnownPeer: true, version: 2},
      {token: '10.44.0.0', size: 262144, peer: '5e:01:02:03:04:05', nickname: 'host4', isKnownPeer: false, version: 1},
    ],
    pendingClaims: [{ident: 'weave:expose', cidr: '10.32.0.9/12'}],
    pendingAllocates: ['c0ffee [10.32.0.0-10.48.0.0)'],
    owned: [
      {peer: '7e:21:4a:70:2f:45', nickname: 'host2', ips: 262144, reachable: true},
      {peer: '8a:3e:3e:3e:3e:3e', nickname: 'host1', ips: 524288, reachable: true},
      {peer: '5e:01:02:03:04:05', nickname: 'host4', ips: 262144, reachable: false},
    ],
  },
};

/** IPAM turned off (`--ipalloc-range ""`). */
export const NO_IPAM: RouterState = (({ipam: _ipam, ...rest}) => rest)(FRESH);

/** Still starting: every status page answers 503. */
export const NOT_READY: RouterState = {...FRESH, ready: false};
