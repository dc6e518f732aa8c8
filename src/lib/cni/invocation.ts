import type {NetConf} from './config.js';
import type {CniEnv} from './env.js';
import type {Ipam} from './ipam/ipam.js';
import type {LinkInfo} from '../net/link.js';
import type {PodNet} from '../net/pod-net.js';

/** Inside the router: its bridge, which it puts back with its identity (MAC) when it is gone. */
export interface OwnBridge {
  name: string;
  link(): Promise<LinkInfo>;
  /** Its IPv4 addresses (CIDRs), as the router set them. */
  addresses(): readonly string[];
}

/** One parsed CNI call: what every command and IPAM backend works from. */
export interface Invocation {
  env: CniEnv;
  conf: NetConf;
  /** The call's whole environment (PATH and the CNI_* variables), handed on to delegates. */
  processEnv: Record<string, string | undefined>;
  /** Weave's own IPAM: over HTTP in a plugin process, in-process inside the router. */
  weaveIpam: Ipam;
  /** Set inside the router: then a pod on its bridge gets the router's bridge, never one made here. */
  ownBridge?: OwnBridge;
  /** How links are made and removed: `ip` processes, or netlink inside the router. */
  net: PodNet;
}
