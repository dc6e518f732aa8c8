import {ipv4Addresses} from '../net/address.js';
import {containsV4, parseCidr} from '../net/cidr.js';

/** The bridge's IPv4 address that pods use as gateway: one in the pod's subnet first. */
export async function bridgeGateway(bridge: string, podAddress: string): Promise<string | undefined> {
  const addrs = (await ipv4Addresses(bridge)).map(a => parseCidr(a)!);
  const pod = podAddress.split('/')[0]!;
  return (addrs.find(a => containsV4(a, pod)) ?? addrs[0])?.ip;
}
