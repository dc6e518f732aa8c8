/**
 * What `weave ps` reads of the host's links: the bridge and its ports, a pod's side of a port,
 * a Docker container's interface. Read over netlink in our own process when the router's addon
 * is there (netlink/host-links.ts), else with `ip` processes (host-links-ip.ts); both give the
 * same answers.
 */

/** A port on the bridge. */
export interface PortLink {
  ifname: string;
  ifalias?: string;
  /** The other end of a veth, when it is in a namespace with a name under /run/netns: its index there. */
  peer?: {netns: string; ifindex: number};
}

export interface BridgeLinks {
  mac: string;
  /** Its IPv4 addresses as `a.b.c.d/len`, in the kernel's order. */
  cidrs: string[];
  ports: PortLink[];
}

export interface HostLinks {
  /** The bridge named `name` and its ports; undefined when there is no such link. */
  bridge(name: string): Promise<BridgeLinks | undefined>;
  /** The MAC of a port's other end; undefined when it went meanwhile. */
  peerMac(peer: NonNullable<PortLink['peer']>): Promise<string | undefined>;
  /** The MAC and IPv4 addresses of `ifname` in the namespace at `netns` (a path); undefined when either is gone. */
  interface(netns: string, ifname: string): Promise<{mac: string; cidrs: string[]} | undefined>;
}

/** Where named namespaces are, as `ip netns` keeps them. */
export const NETNS_DIR = '/run/netns';
