import assert from 'node:assert/strict';
import {parseConfig} from '../../../src/lib/cni/config.js';
import {podDnsName} from '../../../src/lib/cni/dns-name.js';
import {parseEnv} from '../../../src/lib/cni/env.js';
import {CniError} from '../../../src/lib/cni/errors.js';

const env = (args: string) => parseEnv({CNI_COMMAND: 'ADD', CNI_CONTAINERID: '0123456789abcdef', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: args});
const conf = (extra: Record<string, unknown> = {}) => parseConfig(JSON.stringify({cniVersion: '1.0.0', name: 'weave', type: 'weave-net', ...extra}));

describe('cni/dns-name: what a pod is called in weaveDNS', () => {
  it('is <pod>.<namespace> for Kubernetes, <name> for podman, else the container id, inside the router\'s domain', () => {
    assert.deepEqual(podDnsName(env('IgnoreUnknown=1;K8S_POD_NAMESPACE=Shop;K8S_POD_NAME=web-0'), conf()), {name: 'web-0.shop', relative: true});
    assert.deepEqual(podDnsName(env('IgnoreUnknown=1;K8S_POD_NAME=my_app'), conf()), {name: 'my_app', relative: true});
    assert.deepEqual(podDnsName(env('WEAVE_DNS_NAME=db'), conf()), {name: 'db', relative: true});
    assert.deepEqual(podDnsName(env(''), conf()), {name: '0123456789ab', relative: true});
  });

  it('follows the conflist: "weaveDns": false for none, a domain of its own, and refuses anything else', () => {
    assert.equal(podDnsName(env('K8S_POD_NAME=web'), conf({weaveDns: false})), undefined);
    assert.deepEqual(podDnsName(env('K8S_POD_NAME=web'), conf({weaveDns: {domain: 'Pods.weave.local'}})), {name: 'web.pods.weave.local.', relative: false});
    assert.throws(() => conf({weaveDns: 'yes'}), (error: unknown) => error instanceof CniError && /"weaveDns" must be false or an object/.test(error.message));
    assert.throws(() => conf({weaveDns: {domain: 'a..b'}}), (error: unknown) => error instanceof CniError && /invalid "weaveDns.domain"/.test(error.message));
  });
});
