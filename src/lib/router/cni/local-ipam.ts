import {CniError, ErrorCode} from '../../cni/errors.js';
import {badSubnet, ipamWaitFailure, type RouterIpam} from '../../cni/ipam/weave.js';
import type {Dataplane} from '../dataplane/dataplane.js';
import type {DnsService} from '../dns/service.js';
import {CANCELLED} from '../ipam/pending.js';
import {IpamWaitError, type IpamService} from '../ipam/service.js';
import {EXPOSE_ID} from '../../defaults.js';
import {networkText} from '../../net/cidr.js';
import {formatCidr, IpamInputError, parseSubnet} from '../ipam/range.js';
import {IpamStoreFullError} from '../ipam/store-errors.js';

/** A change refused while the disk is full: code 11 with the text the cold path gives the router's 503. */
async function tryAgainWhenFull<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof IpamStoreFullError) throw new CniError(ErrorCode.TryAgainLater, `${what}: ${error.message}`, 'free space where the router keeps its state (--db-prefix)');
    throw error;
  }
}

/**
 * Weave IPAM for warm CNI calls: the router's own IPAM service, data plane and weaveDNS, no HTTP.
 * An allocation waits at most `waitMs`.
 */
export function localRouterIpam(ipam: IpamService | undefined, dataplane: Dataplane, dns: DnsService | undefined, waitMs: number): RouterIpam {
  const service = (): IpamService => {
    if (!ipam) {
      throw new CniError(ErrorCode.NotAvailable, 'weave IPAM is disabled on this router (--ipalloc-range "")', 'set "ipam": {"type": ...} in the network config, or launch weave with an --ipalloc-range');
    }
    return ipam;
  };
  const allocate = async (id: string, subnet: string | undefined): Promise<string> => {
    const s = service();
    let got;
    try {
      got = await tryAgainWhenFull('unable to allocate IP address', () => s.allocateWithin(id, subnet ? parseSubnet(subnet) : s.defaultSubnet, {cni: id !== EXPOSE_ID}, waitMs));
    } catch (error) {
      if (error instanceof IpamWaitError) throw ipamWaitFailure(error.reason);
      if (error instanceof IpamInputError && subnet) throw badSubnet(subnet, error.message);
      throw error;
    }
    if (got === CANCELLED) throw new CniError(ErrorCode.TryAgainLater, 'the weave router is shutting down', 'retry once it runs again');
    return formatCidr(got);
  };
  return {
    allocate,
    async release(id) {
      try {
        await tryAgainWhenFull('unable to release IP address', () => service().delete(id));
      } catch (error) {
        // DEL runs again and again: an id holding nothing is already released.
        if (!(error instanceof IpamInputError)) throw error;
      }
    },
    async releaseAllBut(keep) {
      await tryAgainWhenFull('unable to release stale IP addresses', () => service().collectCni(keep));
    },
    async exposeBridge(podAddress) {
      const cidr = await allocate(EXPOSE_ID, networkText(podAddress));
      await dataplane.expose(cidr, true);
      return cidr.split('/')[0]!;
    },
    async addName(id, address, name) {
      dns?.add(name.relative ? dns.qualify(name.name) : name.name, id, address.split('/')[0]!);
    },
    async ready() {
      service();
    },
  };
}
