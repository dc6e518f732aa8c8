import assert from 'node:assert/strict';
import type {LinkInfo} from '../../../src/lib/net/link.js';
import {podPorts} from '../../../src/lib/router/dataplane/host.js';

const veth = (over: Partial<LinkInfo>): LinkInfo => ({ifindex: 9, ifname: 'vethwepl1a2b3c4', address: '5a:85:c8:a4:e7:26', mtu: 1376, flags: [], linkinfo: {info_kind: 'veth'}, link_index: 2, link_netnsid: 3, master: 'weave', ...over});

describe("pods' veths on the host (src/lib/router/dataplane/host.ts podPorts)", () => {
  it('takes the container id from the alias only when the veth was named after it', () => {
    const [pod] = podPorts([veth({ifalias: '1a2b3c4d5e6f'})], 'weave');
    assert.deepEqual(pod, {ifname: 'vethwepl1a2b3c4', ifindex: 9, peerIndex: 2, netnsid: 3, attached: true, containerId: '1a2b3c4d5e6f'});
    assert.equal(podPorts([veth({ifalias: 'ffffffffffff'})], 'weave')[0]?.containerId, undefined, 'an alias of another id');
    assert.equal(podPorts([veth({})], 'weave')[0]?.containerId, undefined, 'no alias (weave 2.8.1, or older pods)');
  });

  it("knows a Docker container's veth (weave attach: vethwepl<pid>, alias docker:<id>) from a pod's", () => {
    const [port] = podPorts([veth({ifname: 'vethwepl4242', ifalias: 'docker:1a2b3c4d5e6f'})], 'weave');
    assert.deepEqual(port, {ifname: 'vethwepl4242', ifindex: 9, peerIndex: 2, netnsid: 3, attached: true, containerId: '1a2b3c4d5e6f', docker: true});
    assert.equal(podPorts([veth({ifname: 'vethwepl1a2b3c4', ifalias: 'docker:1a2b3c4d5e6f'})], 'weave')[0]?.containerId, undefined, 'not named after a pid');
    assert.equal(podPorts([veth({ifname: 'vethwepl4242', ifalias: 'docker:'})], 'weave')[0]?.containerId, undefined, 'no id');
  });

  it('keeps veths that lost the bridge, and leaves out those of another bridge, other kinds and other names', () => {
    assert.equal(podPorts([veth({master: undefined})], 'weave')[0]?.attached, false);
    assert.deepEqual(podPorts([veth({master: 'cni0'}), veth({linkinfo: {info_kind: 'vxlan'}}), veth({ifname: 'vethwe-bridge'}), veth({link_netnsid: undefined})], 'weave'), []);
  });
});
