import type {EventEmitter} from 'node:events';
import {BridgeBatch} from '../../net/bridge-batch.js';
import {applyFdb, FLOOD_MAC, type Remote} from '../../net/fdb.js';
import type {LinkChange} from '../../net/link-ops.js';
import {hostLinkOps} from '../../net/netlink/link-ops.js';
import {mirrorCommands, reflectCommands, tcBatch} from '../../net/tc.js';
import type {Logger} from '../log.js';
import {Pacer} from '../pacer.js';
import type {MeshEvents} from '../mesh/mesh.js';
import type {Routes} from '../mesh/routes.js';
import {ReconcileLoop} from './reconcile-loop.js';
import {bridged, planRelays, RELAY_PREFIX, type RelaySpec, sameSpec} from './relay-plan.js';

/**
 * An update waits for the topology to be quiet this long: a forming mesh passes through partial
 * states for minutes, with changes every few hundred milliseconds, and relaying those would make
 * and remove devices by the hundred...
 */
const QUIET_MS = 2000;
/** ...but no longer than this after the first change. */
const MAX_WAIT_MS = 30_000;
/**
 * While the mesh is forming (our own first connections to known peers still being made, or the
 * mesh gained a connection within GROWTH_QUIET_MS), the update waits and looks again every
 * RECHECK_MS, for up to holdMaxMs(): a forming mesh's pairs connect directly, and relaying them
 * meanwhile made thousands of devices across 100 routers (most at the hub every router first
 * joins), whose making and deleting held the kernel's RTNL lock for minutes. A lost connection
 * is no growth: its pairs are relayed as soon as the topology is quiet. A larger mesh takes
 * longer to form: 2 minutes up to 40 peers, 3 s per peer above (5 minutes at 100, where the hub
 * that held 2 minutes then spent 6 making 512 devices while its peers still dialled it).
 */
const GROWTH_QUIET_MS = 5000;
const RECHECK_MS = 1000;
const holdMaxMs = (peers: number): number => Math.max(120_000, 3000 * peers);
/** At most this many devices on one host (a hub of a large partial mesh relays many pairs). */
const MAX_DEVICES = 512;

const EVENTS = ['topologyChanged', 'connectionEstablished', 'connectionClosed'] as const;

export interface RelayOptions {
  bridge: string;
  /** The overlay's UDP port: relay devices share its socket, told apart by VNI. */
  port: number;
  /** The pods' MTU: relayed frames are theirs, whole. */
  mtu: number;
  /** --host: the source address of the encapsulated traffic. */
  local?: string;
  netns?: string;
  log: Logger;
}

/** What relaying needs of the mesh: the paths between peers, when they change, and whether they are about to. */
export type RelayMesh = EventEmitter<MeshEvents> & {readonly ourName: string; readonly routes: Pick<Routes, 'established'>; expectsConnections(): boolean};

/**
 * Pod traffic between peers with no connection to each other, through peers that have: kernel
 * VXLAN devices, one per far peer at each end (a bridge port) and one per relayed pair at each
 * peer on the way (no bridge: a tc redirect sends what it receives on to the next hop).
 * Broadcasts and unknown unicast go along the source's spanning tree (relay-plan.ts's roles):
 * each peer gets one copy, and a link carries at most one. No frame passes through Node, and a
 * relay's bridge never sees relayed frames, so its MAC learning and the ends' stay right. Kept in
 * step with the topology; nothing at all in a full mesh.
 */
export class Relays {
  /** The devices as we made them; undefined until the first update reads what a previous run left. */
  private installed?: Map<string, RelaySpec | undefined>;
  private readonly fdb: BridgeBatch;
  private readonly updates = new Pacer(() => {
    if (this.forming()) this.updates.runWithin(RECHECK_MS);
    else this.loop.update();
  });
  /** The established links at the last look, when they last grew, and since when an update has been held. */
  private links = 0;
  private grewAt = 0;
  private heldSince?: number;
  private readonly onChange = () => this.updates.settle(QUIET_MS, MAX_WAIT_MS);
  private readonly loop = new ReconcileLoop(
    () => this.reconcile(),
    (error, retryInMs) => {
      this.options.log.error('relay update failed', {error: error.message, retryInMs});
      this.installed = undefined;
    },
    delayMs => this.updates.runWithin(delayMs),
  );

  constructor(
    private readonly mesh: RelayMesh,
    /** The peers the overlay sends to directly, by name. */
    private readonly neighbours: () => ReadonlyMap<string, Remote>,
    /** Its MTU changes with the pods' (setMtu). */
    private readonly options: RelayOptions,
  ) {
    this.fdb = new BridgeBatch(options.netns);
  }

  start(): void {
    for (const event of EVENTS) this.mesh.on(event, this.onChange);
    this.updates.runWithin(0);
  }

  /** Stops following the mesh; the devices stay, as the overlay's (pods keep their paths while the router restarts). */
  async stop(): Promise<void> {
    const running = this.loop.stop();
    for (const event of EVENTS) this.mesh.off(event, this.onChange);
    await running;
    this.updates.cancel();
    await this.fdb.close();
  }

  /** Whether to hold the update back (see GROWTH_QUIET_MS); never the first, which reads what a previous run left. */
  private forming(): boolean {
    const now = Date.now();
    const {linkCount, peers} = this.mesh.routes.established();
    if (linkCount > this.links) this.grewAt = now;
    this.links = linkCount;
    const forming = this.installed !== undefined && (this.mesh.expectsConnections() || now - this.grewAt < GROWTH_QUIET_MS);
    if (forming && now - (this.heldSince ??= now) < holdMaxMs(peers.length)) return true;
    this.heldSince = undefined;
    return false;
  }

  /** The devices in place now, for `status peers`. */
  devices(): RelaySpec[] {
    return [...(this.installed?.values() ?? [])].filter((spec): spec is RelaySpec => spec !== undefined);
  }

  /** A new pod MTU for every device. */
  async setMtu(mtu: number): Promise<void> {
    this.options.mtu = mtu;
    await hostLinkOps().ops.apply(
      this.devices().map(spec => ({op: 'set', name: spec.name, mtu})),
      this.options.netns,
    );
  }

  /** The bridge was made anew: its devices go back on it. */
  async reattach(): Promise<void> {
    await hostLinkOps().ops.apply(this.devices().filter(bridged).flatMap(spec => this.attach(spec)), this.options.netns);
  }

  /** Relay devices found on the host, of unknown settings: each is made anew if still wanted. */
  private async readInstalled(): Promise<Map<string, undefined>> {
    const links = await hostLinkOps().ops.list(this.options.netns);
    return new Map(links.filter(link => link.linkinfo?.info_kind === 'vxlan' && link.ifname.startsWith(RELAY_PREFIX)).map(link => [link.ifname, undefined]));
  }

  private attach(spec: RelaySpec): LinkChange[] {
    // Broadcasts and unknown unicast leave by our tree-source alone, and nothing comes back to it to learn.
    const settings = spec.role === 'tree-source' ? {learning: false} : {flood: false, mcastFlood: false, bcastFlood: false};
    return [
      {op: 'set', name: spec.name, master: this.options.bridge},
      // Isolated as the overlay's device: a frame from a far peer never goes back out to another overlay port.
      {op: 'bridge-port', name: spec.name, isolated: true, ...settings},
    ];
  }

  private async reconcile(): Promise<void> {
    const {port, mtu, local, netns, log} = this.options;
    const {devices: target, clashes, over} = planRelays(this.mesh.routes.established(), this.mesh.ourName, this.neighbours(), MAX_DEVICES);
    for (const pair of clashes) log.warning('no relay for a pair of peers: its VXLAN id is taken by another pair here', {pair});
    if (over > 0) log.warning(`${over} pairs of peers not relayed here: at most ${MAX_DEVICES} relay devices per host; let more peers connect directly`);
    const installed = this.installed ?? (await this.readInstalled());
    const gone = [...installed].filter(([name, spec]) => !spec || !target.get(name) || !sameSpec(spec, target.get(name)!)).map(([name]) => name);
    const made = [...target.values()].filter(spec => !installed.get(spec.name) || gone.includes(spec.name));
    // A tc mirror names its target by index: a tree-out made anew needs its tree-in made anew too.
    for (const spec of target.values()) {
      if (spec.role !== 'tree-in' || made.includes(spec) || !made.some(m => m.name === spec.mirror)) continue;
      gone.push(spec.name);
      made.push(spec);
    }
    if (gone.length === 0 && made.length === 0) {
      this.installed = installed;
      return;
    }
    const changes: LinkChange[] = gone.map(name => ({op: 'del', name}));
    for (const spec of made) {
      changes.push({op: 'add-vxlan', name: spec.name, vni: spec.vni, port, learning: false, ...(local ? {local} : {})});
      changes.push({op: 'set', name: spec.name, mtu});
      if (bridged(spec)) changes.push(...this.attach(spec));
      changes.push({op: 'set', name: spec.name, up: true});
    }
    // Whatever fails below, the next try starts from what the kernel has.
    this.installed = undefined;
    await hostLinkOps().ops.apply(changes, netns);
    await tcBatch(
      made.flatMap(spec => (spec.role === 'relay' || spec.role === 'tree-hop' ? reflectCommands(spec.name) : spec.mirror ? mirrorCommands(spec.name, spec.mirror) : [])),
      netns,
    );
    // A kept-running `bridge` knows a device by the index it had: one made again needs a new process.
    if (gone.length > 0) await this.fdb.close();
    for (const spec of made) await applyFdb(this.fdb, spec.name, spec.sends.map(remote => ({op: 'append', mac: FLOOD_MAC, remote})));
    this.installed = new Map([...installed].filter(([name]) => !gone.includes(name)));
    for (const spec of made) this.installed.set(spec.name, spec);
    const describe = (spec: RelaySpec) => `${spec.role} ${spec.source ? `${spec.source} to ` : ''}${spec.peer} via ${spec.sends.map(r => r.dst).join(', ')}`;
    if (gone.length > 0) log.info('relay devices removed', {devices: gone});
    if (made.length > 0) log.info('relay devices made', {devices: made.map(spec => `${spec.name}: ${describe(spec)}`)});
  }
}
