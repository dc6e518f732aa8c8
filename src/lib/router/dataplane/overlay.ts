import type {EventEmitter} from 'node:events';
import {isIP} from 'node:net';
import {BridgeBatch} from '../../net/bridge-batch.js';
import {CommandError} from '../../net/exec.js';
import {applyFdb, type FdbChange, type FdbEntry, FdbError, fdbEntries, FLOOD_MAC, type Remote} from '../../net/fdb.js';
import {routeMtus, VXLAN_OVERHEAD} from '../../net/mtu.js';
import {hostLinkOps} from '../../net/netlink/link-ops.js';
import {type EnsuredVxlan, ensureVxlan} from '../../net/vxlan.js';
import type {Logger} from '../log.js';
import {Pacer} from '../pacer.js';
import {isTrusted} from '../mesh/address.js';
import type {MeshEvents} from '../mesh/mesh.js';
import type {ConnectionFacts, OverlayDescriber} from '../mesh/status.js';
import {floodEntries, planFdb, type PeerRemote, RemoteTargets} from './overlay-plan.js';
import {ReconcileLoop} from './reconcile-loop.js';
import type {RelaySpec} from './relay-plan.js';
import {type RelayMesh, Relays} from './relay.js';

/** The VXLAN network id: every peer uses the same one (one overlay per UDP port). */
export const VNI = 1;

/** VXLAN runs on the mesh port + 1 (6784), as the original's fastdp. */
export const overlayPort = (meshPort: number): number => meshPort + 1;

/** The device's name, the one the original's fastdp gave its VXLAN port. */
export const overlayDevice = (meshPort: number): string => `vxlan-${overlayPort(meshPort)}`;

export {VXLAN_OVERHEAD} from '../../net/mtu.js';

/** Why VXLAN carries no pod traffic to a peer (the router shows the encrypted path's view of those instead). */
export const BLOCKED_REASON = 'VXLAN is unencrypted and the peer is outside --trusted-subnets';

/** How long a peer's entry outlives its connection: long enough for its router to restart. */
const HOLD_MS = 60_000;

/** Connection changes this close together make one update of the device (one request to `bridge`)... */
const COALESCE_MS = 250;

/**
 * ...and updates are this far apart at least: a forming mesh of 20 establishes its connections
 * one after another over seconds, while every router competes for the CPU.
 */
const MIN_GAP_MS = 1000;

/** The underlay is checked once for the peers met within this long (one `ip -batch`); it only warns. */
const UNDERLAY_CHECK_MS = 5000;

/** The overlay's wanted state depends on established connections alone, not on the rest of the topology. */
const EVENTS = ['connectionEstablished', 'connectionClosed'] as const;

export interface OverlayOptions {
  /** The weave bridge the device is a port of. */
  bridge: string;
  /** --port; the overlay uses the next one. */
  meshPort: number;
  /** --mtu: the pods' and the bridge's; the device gets the same, the underlay must carry 50 more. */
  mtu: number;
  /** The router has a password: VXLAN carries pod traffic to trusted peers only (the others get the sleeve). */
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
  /** Where the device's entries are changed: one process for the router's life, not one per update. */
  private readonly fdb: BridgeBatch;
  /** The flood remotes the device has, as last read or set; undefined: read the kernel before the next change. */
  private installed?: ReadonlyMap<string, Remote>;
  private readonly underlayChecked = new Set<string>();
  private readonly underlayPending = new Set<string>();
  private underlayTimer?: NodeJS.Timeout;
  /**
   * The next update: a burst of changes gathered, a retry, or a held remote's expiry, whichever is
   * first. The update made at start does not count towards the gap.
   */
  private readonly updates = new Pacer(() => this.loop.update(), COALESCE_MS, MIN_GAP_MS);
  private readonly onChange = () => this.updates.ask();
  private readonly loop = new ReconcileLoop(
    () => this.reconcile(),
    (error, retryInMs) => {
      this.options.log.error('overlay update failed', {device: this.device, error: error.message, retryInMs});
      // What the kernel has is unsure now: the retry reads it.
      this.installed = undefined;
    },
    delayMs => this.updates.runWithin(delayMs),
  );
  /** Pod traffic to peers we have no connection to, once startRelays() was called. */
  private relays?: Relays;
  /** The pods' MTU: --mtu, or what the network allows (setMtu). */
  private mtu: number;

  private constructor(
    private readonly mesh: OverlayMesh,
    private readonly options: OverlayOptions,
  ) {
    this.mtu = options.mtu;
    this.device = overlayDevice(options.meshPort);
    this.port = overlayPort(options.meshPort);
    this.targets = new RemoteTargets(options.holdMs ?? HOLD_MS);
    this.fdb = new BridgeBatch(options.netns);
  }

  /** Creates or adopts the device, keeps for a while the entries a previous run left, and follows the mesh. */
  static async start(mesh: OverlayMesh, options: OverlayOptions): Promise<Overlay> {
    const overlay = new Overlay(mesh, options);
    // A device made just now has no entries to read.
    const entries = (await overlay.ensureDevice()) === 'adopted' ? await fdbEntries(overlay.device, options.netns) : [];
    const now = Date.now();
    for (const entry of entries) {
      if (entry.mac === FLOOD_MAC && entry.dst && overlay.mayCarry(entry.dst)) overlay.targets.hold({dst: entry.dst, ...(entry.port === undefined ? {} : {port: entry.port})}, now);
    }
    await overlay.reconcile(entries);
    mesh.describeOverlay = c => overlay.describe(c);
    for (const event of EVENTS) mesh.on(event, overlay.onChange);
    return overlay;
  }

  /** A new pod MTU: the device's and the relays' follow; the underlay is checked again. */
  async setMtu(mtu: number): Promise<void> {
    this.mtu = mtu;
    await this.ensureDevice();
    await this.relays?.setMtu(mtu);
    for (const dst of this.underlayChecked) this.underlayPending.add(dst);
    this.underlayChecked.clear();
    this.checkUnderlaySoon([]);
  }

  /** Relays pod traffic through connected peers to those we have no connection to (see Relays). */
  startRelays(mesh: RelayMesh): void {
    const {bridge, local, netns, log} = this.options;
    const {mtu} = this;
    this.relays = new Relays(mesh, () => this.neighbours(), {bridge, port: this.port, mtu, log, ...(local ? {local} : {}), ...(netns ? {netns} : {})});
    this.relays.start();
  }

  /** The relay devices in place. */
  relayDevices(): RelaySpec[] {
    return this.relays?.devices() ?? [];
  }

  /** Stops following the mesh; the device and its entries stay (see the class comment). */
  async stop(): Promise<void> {
    const running = this.loop.stop();
    await this.relays?.stop();
    for (const event of EVENTS) this.mesh.off(event, this.onChange);
    clearTimeout(this.underlayTimer);
    // A failing update may still ask for a retry: cancelled once it is over.
    await running;
    this.updates.cancel();
    await this.fdb.close();
  }

  /** The bridge was made anew: the device goes back on it, its forwarding entries with it. */
  async reattach(): Promise<void> {
    await this.ensureDevice();
    await this.relays?.reattach();
  }

  /** How `status connections` shows a connection's data path. */
  describe(c: ConnectionFacts): ReturnType<OverlayDescriber> {
    if (isIP(c.ip) !== 4) return {name: 'none', attrs: {reason: 'the overlay runs over IPv4 only'}};
    if (!this.carries(c)) return {name: 'blocked', attrs: {reason: BLOCKED_REASON}};
    return {name: 'fastdp', attrs: {mtu: this.mtu}};
  }

  private carries(c: ConnectionFacts): boolean {
    return !this.options.encryptionRequired || c.trusted;
  }

  /** For an entry with no connection to judge by: what our side of the trust says. */
  private mayCarry(dst: string): boolean {
    return !this.options.encryptionRequired || isTrusted(this.options.trustedSubnets, dst);
  }

  private async ensureDevice(): Promise<EnsuredVxlan['action']> {
    const {bridge, local, netns, log} = this.options;
    const {mtu} = this;
    // Isolated, as the sleeve's TAP: the bridge never relays a frame from one overlay into the other.
    const {action} = await ensureVxlan({name: this.device, vni: VNI, port: this.port, mtu, bridge, learning: true, isolated: true, netns, ...(local ? {local} : {})}, hostLinkOps().ops);
    log.info(`overlay device ${action}`, {device: this.device, port: this.port, mtu, bridge});
    // A kept-running `bridge` remembers the index of each device it has named: a new device of
    // the same name needs a new process.
    if (action !== 'adopted') await this.fdb.close();
    return action;
  }

  private peerRemotes(): (PeerRemote & {peer: string})[] {
    return this.mesh
      .connections()
      .filter(c => c.established && isIP(c.ip) === 4)
      .map(c => {
        // A peer on another --port listens for VXLAN on its port + 1 too.
        const port = overlayPort(c.port);
        const remote: Remote = port === this.port ? {dst: c.ip} : {dst: c.ip, port};
        return {peer: c.peer, remote, carried: this.carries(c)};
      });
  }

  /** The peers VXLAN carries pod traffic to directly, by name: the first hops relays may use. */
  neighbours(): Map<string, Remote> {
    return new Map(this.peerRemotes().filter(p => p.carried).map(p => [p.peer, p.remote]));
  }

  /** The device's entries; a device deleted under us is made again (its entries then follow). */
  private async readEntries(): Promise<FdbEntry[]> {
    const {netns, log} = this.options;
    try {
      return await fdbEntries(this.device, netns);
    } catch (error) {
      if (!(error instanceof CommandError && /Cannot find device/.test(error.stderr))) throw error;
      log.warning('overlay device gone; recreating it', {device: this.device});
      await this.ensureDevice();
      return fdbEntries(this.device, netns);
    }
  }

  /**
   * Brings the device's entries to what the connections want now, in one `bridge -batch`. The
   * kernel is read only when what it has is unsure, or when a remote goes: the MACs it learnt
   * behind that remote are only known there.
   */
  private async reconcile(known?: FdbEntry[]): Promise<void> {
    const now = Date.now();
    const target = this.targets.update(this.peerRemotes(), now);
    const {netns, log} = this.options;
    const dropping = this.installed === undefined || [...this.installed.keys()].some(key => !target.has(key));
    let changes = planFdb(known ?? (dropping ? await this.readEntries() : floodEntries(this.installed!.values())), target);
    try {
      await applyFdb(this.fdb, this.device, changes);
    } catch (error) {
      if (!(error instanceof FdbError && error.deviceMissing)) throw error;
      log.warning('overlay device gone; recreating it', {device: this.device});
      await this.ensureDevice();
      changes = planFdb(await fdbEntries(this.device, netns), target);
      await applyFdb(this.fdb, this.device, changes);
    }
    this.installed = target;
    // One line per update, not per peer: a forming mesh of 20 changes many at once.
    const remotes = (op: FdbChange['op']) => changes.filter(c => c.mac === FLOOD_MAC && c.op === op).map(c => (c.remote.port ? `${c.remote.dst}:${c.remote.port}` : c.remote.dst));
    const [added, dropped] = [remotes('append'), remotes('del')];
    if (added.length > 0) log.info('overlay: sending to peers', {remotes: added});
    if (dropped.length > 0) log.info('overlay: no longer sending to peers', {remotes: dropped});
    this.checkUnderlaySoon(target.values());
    const next = this.targets.nextExpiry();
    if (next !== undefined) this.updates.runWithin(Math.max(0, next - now) + 10);
  }

  private checkUnderlaySoon(remotes: Iterable<Remote>): void {
    for (const {dst} of remotes) if (!this.underlayChecked.has(dst)) this.underlayPending.add(dst);
    if (this.underlayPending.size === 0 || this.underlayTimer || this.loop.isStopped) return;
    this.underlayTimer = setTimeout(() => {
      this.underlayTimer = undefined;
      void this.checkUnderlay();
    }, UNDERLAY_CHECK_MS);
  }

  /**
   * Warns once per peer when the link towards it cannot carry a pod's full frame once wrapped:
   * the kernel would then fragment every large packet, at a great cost in throughput.
   */
  private async checkUnderlay(): Promise<void> {
    const dsts = [...this.underlayPending];
    this.underlayPending.clear();
    for (const dst of dsts) this.underlayChecked.add(dst);
    const {netns, log} = this.options;
    const {mtu} = this;
    try {
      for (const [dst, link] of await routeMtus(dsts, netns)) {
        if (link.mtu < mtu + VXLAN_OVERHEAD) {
          log.warning(`the link to peer ${dst} (${link.dev}, MTU ${link.mtu}) cannot carry pod packets of MTU ${mtu} plus ${VXLAN_OVERHEAD} bytes of VXLAN without fragmenting: set --mtu ${link.mtu - VXLAN_OVERHEAD} or less`);
        }
      }
    } catch (error) {
      log.debug('could not check the MTU towards peers', {dsts, error: (error as Error).message});
    }
  }

}
