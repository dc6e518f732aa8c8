import type {RouterClient} from '../api/client.js';
import {HttpStatusError, NotFoundError} from '../api/errors.js';
import {ipv4Addresses} from '../net/address.js';
import {IpError} from '../net/ip.js';
import {DEFAULTS, EXPOSE_ID} from '../defaults.js';
import {hideAddress} from '../router/dataplane/expose.js';
import {Iptables} from '../router/dataplane/iptables.js';
import {createLogger} from '../router/log.js';
import {type Address, allocateAddresses, lookupAddresses} from './addresses.js';

/** `weave expose`: gives the bridge these addresses so the host reaches the pods; returns them. */
export async function exposeAddresses(client: RouterClient, addresses: readonly Address[], skipNat: boolean): Promise<string[]> {
  const cidrs = await allocateAddresses(client, EXPOSE_ID, addresses);
  for (const cidr of cidrs) await client.expose(cidr, skipNat);
  return cidrs;
}

/**
 * `weave hide`: takes the addresses off the bridge and frees those that came from IPAM
 * (`net:` lookups), as the original does; returns them. Hiding what is not exposed is fine.
 */
export async function hideAddresses(client: RouterClient, addresses: readonly Address[]): Promise<string[]> {
  const {all, fromIpam} = await lookupAddresses(client, EXPOSE_ID, addresses);
  for (const cidr of all) {
    try {
      await client.hide(cidr);
    } catch (error) {
      if (error instanceof HttpStatusError && error.status === 405) await hideHere(client, cidr);
      else if (!(error instanceof NotFoundError)) throw error;
    }
  }
  for (const cidr of fromIpam) await client.free(EXPOSE_ID, cidr.split('/')[0]);
  return all;
}

async function onBridge(bridge: string, cidr: string): Promise<boolean> {
  try {
    return (await ipv4Addresses(bridge)).includes(cidr);
  } catch (error) {
    // No bridge: nothing is exposed.
    if (error instanceof IpError && /does not exist/.test(error.reason)) return false;
    throw error;
  }
}

/**
 * For a router without our DELETE /expose (weave 2.8.1's answers 405): the original script's
 * client-side hide, on this host. When the address is on the bridge it comes off, with its
 * network's rules, as our router does it; then weaveDNS forgets the bridge's name for it.
 */
async function hideHere(client: RouterClient, cidr: string): Promise<void> {
  const bridge = DEFAULTS.weaveBridge;
  if (!(await onBridge(bridge, cidr))) return;
  await hideAddress({bridge, iptables: new Iptables(), log: createLogger('error')}, cidr);
  // The script's delete_dns, whose failures it ignored (a router without weaveDNS answers 404).
  await client.forgetName(EXPOSE_ID, cidr.split('/')[0]!).catch(() => undefined);
}
