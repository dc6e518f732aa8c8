import type {RouterClient} from '../api/client.js';
import {NotFoundError} from '../api/errors.js';
import type {Address} from './addresses.js';
import {OperatorError} from '../errors.js';

/** The IPAM id of the bridge's own addresses. */
export const EXPOSE_ID = 'weave:expose';

/**
 * The bridge's addresses for `weave expose`: `net:` ones allocated (the same again if it has
 * one), given ones claimed. A 404 on a claim means IPAM is off, and the given address is used
 * as it is; on an allocation it means `net:` cannot work.
 */
async function allocate(client: RouterClient, addresses: readonly Address[]): Promise<string[]> {
  const cidrs: string[] = [];
  for (const address of addresses) {
    try {
      if (address.kind === 'net') cidrs.push((await client.allocate(EXPOSE_ID, address.subnet)).trim());
      else {
        await client.claim(EXPOSE_ID, address.cidr);
        cidrs.push(address.cidr);
      }
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      if (address.kind === 'net') throw new OperatorError("IP address allocation must be enabled to use 'net:'");
      cidrs.push(address.cidr);
    }
  }
  return cidrs;
}

/** `weave expose`: gives the bridge these addresses so the host reaches the pods; returns them. */
export async function exposeAddresses(client: RouterClient, addresses: readonly Address[], skipNat: boolean): Promise<string[]> {
  const cidrs = await allocate(client, addresses);
  for (const cidr of cidrs) await client.expose(cidr, skipNat);
  return cidrs;
}

/**
 * `weave hide`: takes the addresses off the bridge and frees those that came from IPAM
 * (`net:` lookups), as the original does; returns them. Hiding what is not exposed is fine.
 */
export async function hideAddresses(client: RouterClient, addresses: readonly Address[]): Promise<string[]> {
  const all: string[] = [];
  const fromIpam: string[] = [];
  for (const address of addresses) {
    if (address.kind === 'ip') {
      all.push(address.cidr);
      continue;
    }
    const found = await client.lookup(EXPOSE_ID, address.subnet);
    all.push(...found);
    fromIpam.push(...found);
  }
  for (const cidr of all) {
    try {
      await client.hide(cidr);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  for (const cidr of fromIpam) await client.free(EXPOSE_ID, cidr.split('/')[0]);
  return all;
}
