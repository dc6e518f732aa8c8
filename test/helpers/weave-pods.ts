import {pings} from './cni-host.js';
import type {LanHost} from './lan.js';
import {Netns} from './netns.js';
import {runPlugin} from './plugin.js';

/** A pod on a simulated host, attached by the weave-net CNI plugin. */
export interface Pod {
  ns: Netns;
  /** Index of its host on the LAN. */
  host: number;
  id: string;
  ip: string;
}

/**
 * A pod on LAN host `index` through the weave-net plugin with the default conflist: weave's own
 * IPAM across the peers, through the router running there. Its namespace's name starts with `prefix`.
 */
export async function attachPod(host: LanHost, index: number, id: string, prefix: string): Promise<Pod> {
  const ns = Netns.create(prefix);
  const config = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'};
  const env = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'};
  const add = await runPlugin({env, config, hostNetns: host.ns.path});
  if (add.exitCode !== 0) {
    ns.delete();
    throw new Error(`CNI ADD of ${id} failed (${add.exitCode}): ${add.stdout}${add.stderr}`);
  }
  return {ns, host: index, id, ip: (add.json!.ips[0].address as string).split('/')[0]!};
}

/** Each pod pings each pod on another host: the pairs that do not answer, as `from -> to`. */
export function unreachablePairs(pods: readonly Pod[]): string[] {
  const failed: string[] = [];
  for (const from of pods) for (const to of pods) if (from.host !== to.host && !pings(from.ns, to.ip)) failed.push(`${from.ip} -> ${to.ip}`);
  return failed;
}
