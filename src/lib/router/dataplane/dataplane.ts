import {networkText} from '../../net/cidr.js';
import {type IpCommand, ipBatch} from '../../net/ip.js';
import {type LinkEvent, LinkMonitor} from '../../net/link-monitor.js';
import type {LinkInfo} from '../../net/link.js';
import {chainsExist} from '../../net/netlink/nftables.js';
import {loadNetlinkAddon, type NetlinkAddon} from '../../net/netlink/socket.js';
import type {Logger} from '../log.js';
import {ensureWeaveBridge, tuneBridge} from './bridge.js';
import {Canary} from './canary.js';
import {announce, type ExposeContext, exposeAddress, hideAddress} from './expose.js';
import {dockerOf, type PodPort, readHostLinks} from './host.js';
import {Iptables} from './iptables.js';
import {installScript, wasMasqueraded} from './plan.js';
import {baseRules, CANARY_CHAIN, CANARY_TABLES} from './rules.js';

export interface DataplaneOptions {
  /** --weave-bridge */
  bridge: string;
  /** --mtu, or what the network allows at start. */
  mtu: number;
  /** The peer name, given to the bridge as its MAC; else the bridge keeps (or gets) one of its own. */
  mac?: string;
  /** TCP port of the HTTP control API, guarded against non-local access; absent on a unix socket. */
  httpPort?: number;
  /** --port, guarded against containers on docker0. */
  meshPort: number;
  /** With a password: the only networks (--trusted-subnets) VXLAN is accepted from; the rest is dropped. */
  overlaySources?: readonly string[];
  /** Act in this network namespace instead of our own (a path, entered with nsenter). */
  netns?: string;
  /** How often to look for the canary chains; the original's 10 s by default. */
  canaryIntervalMs?: number;
  log: Logger;
}

/** What start() found: the bridge's addresses (exposed again), and the pods' veths. */
export interface DataplaneStart {
  cidrs: string[];
  pods: PodPort[];
}

/** Link changes this close together (a bridge deleted takes its ports with it) make one restoration. */
const RESTORE_COALESCE_MS = 50;
/** A restoration that failed is tried again after this. */
const RESTORE_RETRY_MS = 2000;

/** Pods' veths that lost the bridge (it was deleted) are put back on it, hairpin on as the default conflist has it. */
function reattachCommands(bridge: string, orphans: readonly PodPort[]): IpCommand[] {
  return orphans.flatMap(pod => [
    ['link', 'set', 'dev', pod.ifname, 'master', bridge, 'up'],
    ['link', 'set', 'dev', pod.ifname, 'type', 'bridge_slave', 'hairpin', 'on'],
  ]);
}

/**
 * The router's data plane on one host: the weave bridge, the iptables rules of the original,
 * expose/hide of bridge addresses, and their restoration when someone flushes iptables.
 * Every change runs one at a time, so a flush recovery never interleaves with an expose.
 */
export class Dataplane {
  private readonly ctx: ExposeContext;
  private readonly canary: Canary;
  private queue: Promise<unknown> = Promise.resolve();
  /** Masquerading per exposed network, to re-expose each the same way after a flush. */
  private readonly nat = new Map<string, boolean>();
  /** The bridge as we last set it up; a link event that disagrees means it was deleted or changed. */
  private bridgeLink?: LinkInfo;
  /** False from an event that says the bridge is not as we left it, until it is put back. */
  private intact = false;
  /** The bridge was made anew and the router's own ports are not back on it yet. */
  private portsOff = false;
  /** The bridge's addresses, put back on a bridge made anew. */
  private readonly addresses = new Set<string>();
  private readonly monitor: LinkMonitor;
  private restoreTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly restoredListeners: (() => Promise<void>)[] = [];
  /** The addon that asks nftables for the canary chains, or why iptables-save does it alone. */
  private readonly nft: NetlinkAddon | string = loadNetlinkAddon('netfilter');

  /** The bridge's MTU: --mtu, or what the network allows (setMtu). */
  private mtu: number;

  constructor(private readonly options: DataplaneOptions) {
    const {bridge, netns, log} = options;
    this.mtu = options.mtu;
    this.ctx = {bridge, log, netns, iptables: new Iptables(netns)};
    const reinstall = async () => {
      await this.serial(() => this.install());
    };
    this.canary = new Canary(() => this.canaryPresent(), reinstall, log, options.canaryIntervalMs);
    this.monitor = new LinkMonitor(
      event => this.onLinkEvent(event),
      reason => {
        log.warning('link monitor restarted: checking the bridge', {reason});
        this.scheduleRestore('events may have been missed');
      },
      netns,
    );
  }

  /** The bridge's MAC, once started. */
  get mac(): string {
    if (!this.bridgeLink) throw new Error('the data plane is not started');
    return this.bridgeLink.address;
  }

  /** Bridge and rules, re-exposing the addresses the bridge already holds; then the canary and the bridge's watch. */
  start(): Promise<DataplaneStart> {
    return this.serial(async () => {
      // Not the global \`performance\`: its first use loads perf_hooks, ~2.5 ms of each router's start.
      const began = process.hrtime.bigint();
      const found = await this.install();
      this.canary.start();
      this.monitor.start();
      this.options.log.info('data plane ready', {bridge: this.options.bridge, ms: Math.round(Number(process.hrtime.bigint() - began) / 1e6)});
      return found;
    });
  }

  /** Stops the watches and waits for changes under way; the bridge and rules stay. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.monitor.stop();
    clearTimeout(this.restoreTimer);
    await this.canary.stop();
    await this.queue;
  }

  /**
   * Called once the bridge was made anew and its pods' veths are back on it: the router's own
   * ports (the overlay's VXLAN device, the sleeve's TAP) go back on it too.
   */
  onBridgeRestored(listener: () => Promise<void>): void {
    this.restoredListeners.push(listener);
  }

  /**
   * The bridge for a pod the CNI plugin attaches inside the router: put back first, with our MAC,
   * when it is gone or changed. The link monitor keeps track, so no `ip` call is made when it is
   * as we left it.
   */
  async bridge(): Promise<LinkInfo> {
    if (!this.intact || this.portsOff) await this.restore('a pod needs it');
    else await this.queue;
    if (!this.bridgeLink) throw new Error('the data plane is not started');
    return this.bridgeLink;
  }

  /** The bridge's addresses: those it had at start, and every one exposed since. */
  bridgeAddresses(): string[] {
    return [...this.addresses];
  }

  private onLinkEvent(event: LinkEvent): void {
    const ours = this.bridgeLink;
    if (!ours || event.ifname !== this.options.bridge) return;
    if (event.deleted) {
      // The deletion of a bridge already replaced by us says nothing of the current one.
      if (event.ifindex === ours.ifindex) this.scheduleRestore('deleted');
      return;
    }
    const changed = event.ifindex !== ours.ifindex || (event.address !== undefined && event.address !== ours.address) || (event.mtu !== undefined && event.mtu !== ours.mtu) || !event.flags.includes('UP');
    if (changed) this.scheduleRestore('replaced or changed');
  }

  private scheduleRestore(why: string, delayMs = RESTORE_COALESCE_MS): void {
    this.intact = false;
    if (this.restoreTimer || this.stopped) return;
    this.restoreTimer = setTimeout(() => {
      this.restoreTimer = undefined;
      this.restore(why).catch((error: Error) => {
        this.options.log.error('could not put the bridge back; trying again', {bridge: this.options.bridge, error: error.message, retryInMs: RESTORE_RETRY_MS});
        this.scheduleRestore(why, RESTORE_RETRY_MS);
      });
    }, delayMs);
  }

  /** The bridge with its MAC, MTU, addresses and settings, its pods' veths, then the router's own ports. */
  private restore(why: string): Promise<void> {
    clearTimeout(this.restoreTimer);
    this.restoreTimer = undefined;
    return this.serial(async () => {
      if (!this.intact) {
        const before = this.bridgeLink?.ifindex;
        this.options.log.warning('the bridge was deleted or changed: putting it back', {bridge: this.options.bridge, why});
        await this.install();
        if (this.bridgeLink?.ifindex !== before) this.portsOff = true;
      }
      if (!this.portsOff) return;
      for (const listener of this.restoredListeners) await listener();
      this.portsOff = false;
    });
  }

  /** A new MTU for the bridge (new pods get the bridge's). */
  setMtu(mtu: number): Promise<void> {
    this.mtu = mtu;
    return this.serial(async () => {
      await this.install();
    });
  }

  /** Exposes `cidr` (a.b.c.d/len) on the bridge; `nat` false is the API's skipNAT. */
  expose(cidr: string, nat: boolean): Promise<void> {
    return this.serial(async () => {
      await exposeAddress(this.ctx, cidr, nat);
      this.addresses.add(cidr);
      this.nat.set(networkText(cidr), nat);
    });
  }

  hide(cidr: string): Promise<void> {
    return this.serial(async () => {
      await hideAddress(this.ctx, cidr);
      this.addresses.delete(cidr);
      this.nat.delete(networkText(cidr));
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * The canary chains, asked of nftables in this process: an `iptables-save` every 10 s blocked
   * a busy router's event loop while it started. iptables-save still decides when netlink cannot
   * answer (no addon, no nf_tables), and when nftables lacks a chain, because iptables on a host
   * outside the router's image may be the legacy backend, whose chains nftables never holds.
   */
  private async canaryPresent(): Promise<boolean> {
    if (typeof this.nft !== 'string') {
      try {
        const found = await chainsExist(this.nft, this.options.netns, CANARY_TABLES.map(table => ({table, chain: CANARY_CHAIN})));
        if (found.every(Boolean)) return true;
      } catch (error) {
        this.options.log.debug('canary over netlink failed: asking iptables-save', {error: (error as Error).message});
      }
    }
    const saved = await this.ctx.iptables.save();
    return CANARY_TABLES.every(table => saved.hasChain(table, CANARY_CHAIN));
  }

  /**
   * The bridge (made anew, or adopted and given its MAC and MTU), its addresses (those it lost
   * with a deletion put back), its rules and settings, and pods' veths that lost it put back.
   */
  private async install(): Promise<DataplaneStart> {
    const {bridge, mac, netns, httpPort, meshPort, overlaySources, log} = this.options;
    const {mtu} = this;
    const [host, saved] = await Promise.all([readHostLinks(bridge, netns), this.ctx.iptables.save()]);
    const link = await ensureWeaveBridge({name: bridge, mtu, mac, netns}, host, log);
    const lost = [...this.addresses].filter(cidr => !link.cidrs.includes(cidr));
    const orphans = host.pods.filter(pod => !pod.attached);
    const repairs: IpCommand[] = [...lost.map(cidr => ['addr', 'add', cidr, 'dev', bridge]), ...reattachCommands(bridge, orphans)];
    if (repairs.length > 0) await ipBatch(repairs, netns, ['-force']).catch((error: Error) => log.warning('could not put everything back on the bridge', {bridge, error: error.message}));
    if (orphans.length > 0) log.info("pods' veths put back on the bridge", {bridge, veths: orphans.map(pod => pod.ifname)});
    this.bridgeLink = link;
    this.intact = true;
    const cidrs = [...link.cidrs, ...lost];
    for (const cidr of cidrs) this.addresses.add(cidr);
    const exposures = cidrs.map(cidr => {
      const network = networkText(cidr);
      return {network, nat: this.nat.get(network) ?? wasMasqueraded(saved, network)};
    });
    for (const exposure of exposures) this.nat.set(exposure.network, exposure.nat);
    const base = baseRules({bridge, meshPort, httpPort, docker: dockerOf(host), ...(overlaySources ? {overlaySources} : {})});
    await Promise.all([tuneBridge(bridge, netns, log), this.ctx.iptables.restore(installScript(saved, base, exposures)), ...cidrs.map(cidr => announce(this.ctx, cidr))]);
    for (const cidr of link.cidrs) log.info('re-exposed', {cidr, bridge});
    for (const cidr of lost) log.info('put back on the bridge', {cidr, bridge});
    return {cidrs, pods: host.pods.map(pod => ({...pod, attached: true}))};
  }
}
