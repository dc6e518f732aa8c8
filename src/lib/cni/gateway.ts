import {ipv4Addresses} from '../net/address.js';
import {containsV4, parseCidr} from '../net/cidr.js';

import type {OwnBridge} from './invocation.js';

/**
 * The bridge's IPv4 address that pods use as gateway: one in the pod's subnet first. Inside the
 * router its bridge's addresses are known (they all go through it: expose, and the bridge's
 * address that weave IPAM gives it), which saves an `ip` call per pod; elsewhere they are read.
 */
export async function bridgeGateway(bridge: string, podAddress: string, own?: OwnBridge): Promise<string | undefined> {
  const known = own?.name === bridge ? own.addresses() : [];
  const addrs = (known.length > 0 ? known : await ipv4Addresses(bridge)).map(a => parseCidr(a)!);
  const pod = podAddress.split('/')[0]!;
  return (addrs.find(a => containsV4(a, pod)) ?? addrs[0])?.ip;
}
