import type {EventEmitter} from 'node:events';
import {isIP} from 'node:net';
import {CommandError} from '../../net/exec.js';
import {applyFdb, FdbError, fdbEntries, FLOOD_MAC, type Remote} from '../../net/fdb.js';
import {ip} from '../../net/ip.js';
import type {LinkInfo} from '../../net/link.js';
import {ensureVxlan} from '../../net/vxlan.js';
import type {Logger} from '../log.js';
import {isTrusted} from '../mesh/address.js';
import type {MeshEvents} from '../mesh/mesh.js';
import type {ConnectionFacts, OverlayDescriber} from '../mesh/status.js';
import {planFdb, type PeerRemote, RemoteTargets} from './overlay-plan.js';

/** The VXLAN network id: every peer uses the same one (one overlay per UDP port). */
export const VNI = 1;

/** VXLAN runs on the mesh port + 1 (6784), as the original's fastdp. */
export const overlayPort = (meshPort: number): number => meshPort + 1;

/** The device's name, the one the original's fastdp gave its VXLAN port. */
export const overlayDevice = (meshPort: number): string => `vxlan-${overlayPort(meshPort)}`;

/** Outer IPv4, UDP and VXLAN headers plus the inner Ethernet header. */
export const VXLAN_OVERHEAD = 50;

/** Why a connection carries no pod traffic, as `status connections` shows it. */
export const BLOCKED_REASON = 'no encrypted data path yet (set --trusted-subnets on both peers)';

/** How long a peer's entry outlives its connection: long enough for its router to restart. */
const HOLD_MS = 60_000;

const EVENTS = ['connectionEstablished', 'connectionClosed', 'topologyChanged'] as const;

export interface OverlayOptions {
  /** The weave bridge the device is a port of. */
  bridge: string;
  /** --port; the overlay uses the next one. */
  meshPort: number;
  /** --mtu: the pods' and the bridge's; the device gets the same, the underlay must carry 50 more. */
  mtu: number;
  /** The router has a password: pod traffic goes only to trusted peers (there is no encrypted path yet). */
  encryptionRequired: boolean;
  /** --trusted-subnets, to judge entries found at start (a live connection says for itself). */
  trustedSubnets: readonly string[];
  /** --host: the source address of the encapsulated traffic. */
  local?: string;
  netns?: string;
  holdMs?: number;
  log: Logger;
}

/** What the overlay needs of the mesh (the mesh itself, or a stand-in in tests). */
export type OverlayMesh = EventEmitter<MeshEvents> & {connections(): ConnectionFacts[]; describeOverlay: OverlayDescriber};

/**
 * The data path between hosts: a kernel VXLAN device on the weave bridge, flooding to one remote
 * per connected peer (an all-zeros forwarding entry each) and learning which remote each MAC is
 * behind, so unicast goes to one peer only. No packet passes through Node. Kept in step with the
 * mesh's connections; with a password it fails closed: an untrusted peer gets no entry.
 *
 * The device and its entries stay when the router stops: pods keep their connectivity while the
 * router restarts (as the original's fastdp kept its datapath), and the next start adopts them.
 * `weave reset` removes the device.
 */
export class Overlay {
  readonly device: string;
  private readonly port: number;
  private readonly targets: RemoteTargets;
  private readonly underlayChecked = new Set<string>();
  private readonly onChange = () => this.schedule();
  private running?: Promise<void>;
  private dirty = false;
  private stopped = false;
  private expiryTimer?: NodeJS.Timeout;

  private constructor(
    private readonly mesh: OverlayMesh,
    private readonly options: OverlayOptions,
  ) {
    this.device = overlayDevice(options.meshPort);
    this.port = overlayPort(options.meshPort);
    this.targets = new RemoteTargets(options.holdMs ?? HOLD_MS);
  }

  /** Creates or adopts the device, keeps for a while the entries a previous run left, and follows the mesh. */
  static async start(mesh: OverlayMesh, options: OverlayOptions): Promise<Overlay> {
    const overlay = new Overlay(mesh, options);
    await overlay.ensureDevice();
    const now = Date.now();
    for (const entry of await fdbEntries(overlay.device, options.netns)) {
      if (entry.mac === FLOOD_MAC && entry.dst && overlay.mayCarry(entry.dst)) overlay.targets.hold({dst: entry.dst, ...(entry.port === undefined ? {} : {port: entry.port})}, now);
    }
    await overlay.reconcile();
    mesh.describeOverlay = c => overlay.describe(c);
    for (const event of EVENTS) mesh.on(event, overlay.onChange);
    return overlay;
  }

  /** Stops following the mesh; the device and its entries stay (see the class comment). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const event of EVENTS) this.mesh.off(event, this.onChange);
    clearTimeout(this.expiryTimer);
    await this.running;
  }

  /** How `status connections` shows a connection's data path. */
  describe(c: ConnectionFacts): ReturnType<OverlayDescriber> {
    if (isIP(c.ip) !== 4) return {name: 'none', attrs: {reason: 'the overlay runs over IPv4 only'}};
    if (!this.carries(c)) return {name: 'blocked', attrs: {reason: BLOCKED_REASON}};
    return {name: 'fastdp', attrs: {mtu: this.options.mtu}};
  }

  private carries(c: ConnectionFacts): boolean {
    return !this.options.encryptionRequired || c.trusted;
  }

  /** For an entry with no connection to judge by: what our side of the trust says. */
  private mayCarry(dst: string): boolean {
    return !this.options.encryptionRequired || isTrusted(this.options.trustedSubnets, dst);
  }

  private async ensureDevice(): Promise<void> {
    const {bridge, mtu, local, netns, log} = this.options;
    const {action} = await ensureVxlan({name: this.device, vni: VNI, port: this.port, mtu, bridge, learning: true, netns, ...(local ? {local} : {})});
    log.info(`overlay device ${action}`, {device: this.device, port: this.port, mtu, bridge});
  }

  /** Runs reconcile() once more after any change, one at a time. */
  private schedule(): void {
    this.dirty = true;
    if (!this.running && !this.stopped) this.running = this.drain();
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        await this.reconcile();
      } catch (error) {
        this.options.log.error('overlay update failed; retried at the next change', {device: this.device, error: (error as Error).message});
      }
    }
    this.running = undefined;
  }

  private peerRemotes(): PeerRemote[] {
    return this.mesh
      .connections()
      .filter(c => c.established && isIP(c.ip) === 4)
      .map(c => {
        // A peer on another --port listens for VXLAN on its port + 1 too.
        const port = overlayPort(c.port);
        const remote: Remote = port === this.port ? {dst: c.ip} : {dst: c.ip, port};
        return {remote, carried: this.carries(c)};
      });
  }

  /** Brings the device's entries to what the connections want now. */
  private async reconcile(): Promise<void> {
    const now = Date.now();
    const target = this.targets.update(this.peerRemotes(), now);
    const {netns, log} = this.options;
    let current;
    try {
      current = await fdbEntries(this.device, netns);
    } catch (error) {
      if (!(error instanceof CommandError && /Cannot find device/.test(error.stderr))) throw error;
      log.warning('overlay device gone; recreating it', {device: this.device});
      await this.ensureDevice();
      current = await fdbEntries(this.device, netns);
    }
    const changes = planFdb(current, target);
    try {
      await applyFdb(this.device, changes, netns);
    } catch (error) {
      if (error instanceof FdbError && error.deviceMissing) this.dirty = true;
      throw error;
    }
    for (const c of changes) if (c.mac === FLOOD_MAC) log.info(c.op === 'append' ? 'overlay: sending to peer' : 'overlay: no longer sending to peer', {remote: c.remote.dst, ...(c.remote.port ? {port: c.remote.port} : {})});
    for (const remote of target.values()) void this.checkUnderlay(remote.dst);
    this.armExpiry(now);
  }

  private armExpiry(now: number): void {
    clearTimeout(this.expiryTimer);
    const next = this.targets.nextExpiry();
    if (next !== undefined && !this.stopped) this.expiryTimer = setTimeout(() => this.schedule(), Math.max(0, next - now) + 10);
  }

  /**
   * Warns once per peer when the link towards it cannot carry a pod's full frame once wrapped:
   * the kernel would then fragment every large packet, at a great cost in throughput.
   */
  private async checkUnderlay(dst: string): Promise<void> {
    if (this.underlayChecked.has(dst)) return;
    this.underlayChecked.add(dst);
    const {netns, mtu, log} = this.options;
    try {
      const [route] = (await ip(['route', 'get', dst], netns)) as {dev?: string}[];
      if (!route?.dev) return;
      const [link] = (await ip(['link', 'show', 'dev', route.dev], netns)) as LinkInfo[];
      if (link && link.mtu < mtu + VXLAN_OVERHEAD) {
        log.warning(`the link to peer ${dst} (${route.dev}, MTU ${link.mtu}) cannot carry pod packets of MTU ${mtu} plus ${VXLAN_OVERHEAD} bytes of VXLAN without fragmenting: set --mtu ${link.mtu - VXLAN_OVERHEAD} or less`);
      }
    } catch (error) {
      log.debug('could not check the MTU towards a peer', {dst, error: (error as Error).message});
    }
  }
}
