import type {Logger} from '../log.js';
import {ensureWeaveBridge, tuneBridge} from './bridge.js';
import {Canary} from './canary.js';
import {announce, type ExposeContext, exposeAddress, hideAddress} from './expose.js';
import {dockerOf, readHostLinks} from './host.js';
import {Iptables} from './iptables.js';
import {installScript, wasMasqueraded} from './plan.js';
import {baseRules, CANARY_CHAIN, CANARY_TABLES, networkOf} from './rules.js';

export interface DataplaneOptions {
  /** --weave-bridge */
  bridge: string;
  /** --mtu */
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
  private bridgeMac: string | undefined;

  constructor(private readonly options: DataplaneOptions) {
    const {bridge, netns, log} = options;
    this.ctx = {bridge, log, netns, iptables: new Iptables(netns)};
    const reinstall = async () => {
      await this.serial(() => this.install());
    };
    this.canary = new Canary(() => this.canaryPresent(), reinstall, log, options.canaryIntervalMs);
  }

  /** The bridge's MAC, once started. */
  get mac(): string {
    if (!this.bridgeMac) throw new Error('the data plane is not started');
    return this.bridgeMac;
  }

  /** Bridge and rules, re-exposing the addresses the bridge already holds (returned); then the canary watch. */
  start(): Promise<string[]> {
    return this.serial(async () => {
      const began = performance.now();
      const cidrs = await this.install();
      this.canary.start();
      this.options.log.info('data plane ready', {bridge: this.options.bridge, ms: Math.round(performance.now() - began)});
      return cidrs;
    });
  }

  /** Stops the canary watch and waits for changes under way; the bridge and rules stay. */
  async stop(): Promise<void> {
    await this.canary.stop();
    await this.queue;
  }

  /** Exposes `cidr` (a.b.c.d/len) on the bridge; `nat` false is the API's skipNAT. */
  expose(cidr: string, nat: boolean): Promise<void> {
    return this.serial(async () => {
      await exposeAddress(this.ctx, cidr, nat);
      this.nat.set(networkOf(cidr), nat);
    });
  }

  hide(cidr: string): Promise<void> {
    return this.serial(async () => {
      await hideAddress(this.ctx, cidr);
      this.nat.delete(networkOf(cidr));
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async canaryPresent(): Promise<boolean> {
    const saved = await this.ctx.iptables.save();
    return CANARY_TABLES.every(table => saved.hasChain(table, CANARY_CHAIN));
  }

  /** The bridge's addresses, as found. */
  private async install(): Promise<string[]> {
    const {bridge, mtu, mac, netns, httpPort, meshPort, overlaySources, log} = this.options;
    const [host, saved] = await Promise.all([readHostLinks(bridge, netns), this.ctx.iptables.save()]);
    const link = await ensureWeaveBridge({name: bridge, mtu, mac, netns}, host, log);
    this.bridgeMac = link.address;
    const exposures = link.cidrs.map(cidr => {
      const network = networkOf(cidr);
      return {network, nat: this.nat.get(network) ?? wasMasqueraded(saved, network)};
    });
    for (const exposure of exposures) this.nat.set(exposure.network, exposure.nat);
    const base = baseRules({bridge, meshPort, httpPort, docker: dockerOf(host), ...(overlaySources ? {overlaySources} : {})});
    await Promise.all([
      tuneBridge(bridge, netns, log),
      this.ctx.iptables.restore(installScript(saved, base, exposures)),
      ...link.cidrs.map(cidr => announce(this.ctx, cidr)),
    ]);
    for (const cidr of link.cidrs) log.info('re-exposed', {cidr, bridge});
    return link.cidrs;
  }
}
