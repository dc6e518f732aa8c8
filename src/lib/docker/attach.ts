import type Dockerode from 'dockerode';
import type {RouterClient} from '../api/client.js';
import {type Address, allocateAddresses, lookupAddresses} from '../host/addresses.js';
import {isOwnNetns} from '../net/netns.js';
import {DEFAULTS} from '../defaults.js';
import {containerNetns, type DockerContainer, findContainer} from './container.js';
import {DockerOperatorError} from './errors.js';
import {dockerVethAlias, dockerVethName} from '../net/veth-names.js';
import {attachInterface, detachInterface, interfaceAddresses} from './ethwe.js';
import {type ExtraHost, hostsFileContents, rewriteHostsFile} from './hosts-file.js';

export interface AttachOptions {
  /** From parseAddresses: none given means net:default. */
  addresses: readonly Address[];
  /** --no-multicast-route turns it off. */
  multicastRoute: boolean;
  /** --rewrite-hosts */
  rewriteHosts: boolean;
  /** --add-host, written with --rewrite-hosts. */
  extraHosts: readonly ExtraHost[];
  bridge?: string;
}

/** A container attached: who it is and its weave addresses, for what follows (weaveDNS registers its name). */
export interface Attached {
  container: DockerContainer;
  cidrs: string[];
}

const HOST_NETNS =
  'Container is running in the host network namespace, and therefore cannot be\nconnected to weave - perhaps the container was started with --net=host';

/** A running container in a network namespace of its own, or the original's refusal. */
async function runningContainer(docker: Dockerode, nameOrId: string): Promise<{container: DockerContainer; netns: string}> {
  const container = await findContainer(docker, nameOrId);
  if (!container.running) throw new DockerOperatorError(`container ${nameOrId} not running`);
  const netns = containerNetns(container);
  if (await isOwnNetns(netns)) throw new DockerOperatorError(HOST_NETNS);
  return {container, netns};
}

/**
 * `weave attach`: the original's steps. The container's addresses from IPAM under its full id
 * with check-alive (the router frees them when the container goes), /etc/hosts with
 * --rewrite-hosts, then `ethwe` in its namespace. Attaching twice gives the same addresses and
 * changes nothing. When a first attach fails, the addresses it took are given back.
 */
export async function attachContainer(client: RouterClient, docker: Dockerode, nameOrId: string, options: AttachOptions): Promise<Attached> {
  const {container, netns} = await runningContainer(docker, nameOrId);
  const existing = await interfaceAddresses(netns);
  const cidrs = await allocateAddresses(client, container.id, options.addresses, {checkAlive: true, routerOptional: true});
  try {
    if (options.rewriteHosts) {
      await rewriteHostsFile(container.hostsPath, hostsFileContents(`${container.hostname}.${container.domainname}`, cidrs, options.extraHosts));
    }
    await attachInterface({
      netns,
      existing,
      hostName: dockerVethName(container.pid),
      alias: dockerVethAlias(container.id),
      bridge: options.bridge ?? DEFAULTS.weaveBridge,
      cidrs,
      multicastRoute: options.multicastRoute,
    });
  } catch (error) {
    // Only for a first attach: a container already on the network keeps what it holds.
    if (existing === undefined) await client.free(container.id).catch(() => undefined);
    throw error;
  }
  return {container, cidrs};
}

/**
 * `weave detach`: the addresses named (default: those IPAM holds for the container in the
 * default subnet) come off `ethwe`, which goes with the last one, then those from IPAM are
 * freed. A container that is not running has no interface left: its addresses are freed all
 * the same (the original failed on it). Returns the addresses.
 */
export async function detachContainer(client: RouterClient, docker: Dockerode, nameOrId: string, addresses: readonly Address[]): Promise<string[]> {
  const container = await findContainer(docker, nameOrId);
  const {all, fromIpam} = await lookupAddresses(client, container.id, addresses);
  if (container.running) await detachInterface(containerNetns(container), all);
  for (const cidr of fromIpam) await client.free(container.id, cidr.split('/')[0]);
  return all;
}
