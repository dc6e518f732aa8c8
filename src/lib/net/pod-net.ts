import {configureInterface, type RouteSpec} from './addressing.js';
import {deleteLink, deleteLinkPromptly, type LinkInfo, showLink} from './link.js';
import {createVeth, type VethSpec} from './veth.js';

/**
 * The link work of a CNI call, done one of two ways: by `ip` processes (ipPodNet: the plugin
 * process, and a router without its addon), or over netlink from the router's own process
 * (netlink/pod-net.ts), which spares a fork of the router for each step. Failures are IpErrors
 * either way.
 */
export interface PodNet {
  /** See veth.ts: the pair, the host end on the bridge and up, its alias and hairpin mode; returns the host end's MAC. */
  createVeth(spec: VethSpec): Promise<string>;
  /** See addressing.ts: `ifname` in `netns` up with its addresses and routes; returns the link as it now is. */
  configureInterface(netns: string, ifname: string, addresses: readonly string[], routes: readonly RouteSpec[]): Promise<LinkInfo>;
  showLink(name: string, netns?: string): Promise<LinkInfo | undefined>;
  /** False when it was already gone. */
  deleteLink(name: string, netns?: string): Promise<boolean>;
  /** deleteLink of one of this namespace's links, settled as soon as the kernel has unlisted it. */
  deleteLinkPromptly(name: string): Promise<boolean>;
}

export const ipPodNet: PodNet = {createVeth, configureInterface, showLink, deleteLink, deleteLinkPromptly: name => deleteLinkPromptly(name)};
