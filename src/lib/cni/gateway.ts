import {containsV4} from '../net/cidr.js';
import {ip} from '../net/ip.js';

/** The bridge's IPv4 address that pods use as gateway: one in the pod's subnet first. */
export async function bridgeGateway(bridge: string, podAddress: string): Promise<string | undefined> {
  const [link] = (await ip(['addr', 'show', 'dev', bridge])) as {addr_info: {family: string; local: string; prefixlen: number}[]}[];
  const v4 = (link?.addr_info ?? []).filter(a => a.family === 'inet');
  const pod = podAddress.split('/')[0]!;
  const same = v4.find(a => containsV4({ip: a.local, prefix: a.prefixlen, family: 4}, pod));
  return (same ?? v4[0])?.local;
}
