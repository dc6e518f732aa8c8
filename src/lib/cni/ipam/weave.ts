import {podDnsName, type PodName} from '../dns-name.js';
import {CniError, ErrorCode} from '../errors.js';
import type {Invocation} from '../invocation.js';
import type {Ipam} from './ipam.js';

/** What weave IPAM needs of a router: over HTTP from a cold plugin, in-process when warm. */
export interface RouterIpam {
  /** An address (CIDR) for `id`, in `subnet` or the default subnet; idempotent per id. */
  allocate(id: string, subnet: string | undefined): Promise<string>;
  /** Frees every address of `id`; succeeds when it holds none. */
  release(id: string): Promise<void>;
  /** Frees every CNI allocation whose container id is not in `keep`. */
  releaseAllBut(keep: string[]): Promise<void>;
  /** An address for the bridge (id weave:expose) in the subnet of `podAddress`, exposed. */
  exposeBridge(podAddress: string): Promise<string>;
  /** The pod's name in weaveDNS, for `address` (a CIDR); nothing when weaveDNS is off. It goes when `id` releases the address. */
  addName(id: string, address: string, name: PodName): Promise<void>;
  /** Resolves when the router answers and IPAM is on. */
  ready(): Promise<void>;
}

/** Said whenever weave IPAM is needed and no router answers; `work`: what it was needed for. */
export function routerDown(work: string, detail = ''): CniError {
  return new CniError(
    ErrorCode.TryAgainLater,
    `the weave router must be running to ${work} with weave IPAM`,
    `start it with \`weave launch\`, or set "ipam": {"type": "host-local", ...} in the network config${detail ? ` (${detail})` : ''}`,
  );
}

/** An allocation that waited as long as the router allows (its --cni-ipam-wait); `reason`: for what. */
export function ipamWaitFailure(reason: string): CniError {
  return new CniError(ErrorCode.TryAgainLater, reason, 'the router gave up waiting (weave router --cni-ipam-wait); the runtime retries the call');
}

/** The router refused `ipam.subnet` (not IPv4, too small, outside its range): the same words on every path. */
export function badSubnet(subnet: string, reason: string): CniError {
  return new CniError(
    ErrorCode.InvalidConfig,
    `invalid "ipam.subnet" "${subnet}": ${reason}`,
    'give an IPv4 subnet of at least 4 addresses inside the range weave allocates from (`weave status ipam` shows it), or leave "subnet" out',
  );
}

/** Weave's own IPAM (no `ipam.type`): the router allocates from the range all peers share. */
export class WeaveIpam implements Ipam {
  constructor(private readonly router: (call: Invocation) => Promise<RouterIpam>) {}

  async add(call: Invocation) {
    const {containerId} = call.env;
    const {subnet, gateway, routes} = call.conf.ipam;
    const router = await this.router(call);
    const address = await router.allocate(containerId, subnet);
    const name = podDnsName(call.env, call.conf);
    // On failure the caller releases the address, and its name with it.
    if (name) await router.addName(containerId, address, name);
    return {interfaces: [], ips: [{address, ...(gateway ? {gateway} : {})}], routes: routes ?? [], dns: {}};
  }

  async del(call: Invocation) {
    await (await this.router(call)).release(call.env.containerId);
  }

  async check(call: Invocation) {
    await (await this.router(call)).ready();
  }

  async gc(call: Invocation) {
    const keep = (call.conf.validAttachments ?? []).map(a => a.containerID);
    await (await this.router(call)).releaseAllBut(keep);
  }

  async status(call: Invocation) {
    try {
      await (await this.router(call)).ready();
    } catch (error) {
      if (error instanceof CniError && error.code === ErrorCode.TryAgainLater) {
        throw new CniError(ErrorCode.NotAvailable, error.message, error.details);
      }
      throw error;
    }
  }

  async exposeBridge(call: Invocation, podAddress: string) {
    return (await this.router(call)).exposeBridge(podAddress);
  }
}
