import {type FdbChange, type FdbEntry, FLOOD_MAC, type Remote} from '../../net/fdb.js';

/** One key per remote: its address, and its port when not the device's. */
export function remoteKey(remote: Remote): string {
  return remote.port === undefined ? remote.dst : `${remote.dst}:${remote.port}`;
}

function remoteOf(entry: FdbEntry): Remote {
  return entry.port === undefined ? {dst: entry.dst!} : {dst: entry.dst!, port: entry.port};
}

/** The device's flood entries for `remotes`, as the kernel would list them. */
export function floodEntries(remotes: Iterable<Remote>): FdbEntry[] {
  return [...remotes].map(r => ({mac: FLOOD_MAC, dst: r.dst, ...(r.port === undefined ? {} : {port: r.port}), state: 'permanent', flags: ['self']}));
}

/**
 * The changes that make a VXLAN device flood to exactly the `target` remotes (one all-zeros
 * entry each: head-end replication of broadcast, ARP and unknown unicast), and forget the MACs it
 * learnt behind a remote it no longer sends to, which would otherwise keep unicast going there.
 */
export function planFdb(current: readonly FdbEntry[], target: ReadonlyMap<string, Remote>): FdbChange[] {
  const floods = current.filter(e => e.mac === FLOOD_MAC && e.dst !== undefined);
  const present = new Set(floods.map(e => remoteKey(remoteOf(e))));
  const kept = new Set([...target.values()].map(r => r.dst));
  const changes: FdbChange[] = [];
  for (const entry of floods) if (!target.has(remoteKey(remoteOf(entry)))) changes.push({op: 'del', mac: FLOOD_MAC, remote: remoteOf(entry)});
  for (const entry of current) {
    const learnt = entry.mac !== FLOOD_MAC && entry.dst !== undefined && entry.state !== 'permanent';
    if (learnt && !kept.has(entry.dst!)) changes.push({op: 'del', mac: entry.mac, remote: remoteOf(entry)});
  }
  for (const [key, remote] of target) if (!present.has(key)) changes.push({op: 'append', mac: FLOOD_MAC, remote});
  return changes;
}

/** What one established connection asks of the overlay. */
export interface PeerRemote {
  remote: Remote;
  /** Pod traffic may go to it (false: a password and the peer is not trusted). */
  carried: boolean;
}

/**
 * The remotes to flood to: those of established connections that may carry pod traffic, plus,
 * for `holdMs`, those that did and whose connection went: the peer's router may be restarting
 * while its pods and its VXLAN device run on. A held remote goes at once if its peer comes back
 * refused.
 */
export class RemoteTargets {
  private wanted = new Map<string, Remote>();
  private readonly held = new Map<string, {remote: Remote; until: number}>();

  constructor(private readonly holdMs: number) {}

  /** Keeps a remote for a while though no connection wants it (one found at start). */
  hold(remote: Remote, now: number): void {
    this.held.set(remoteKey(remote), {remote, until: now + this.holdMs});
  }

  update(peers: readonly PeerRemote[], now: number): Map<string, Remote> {
    const wanted = new Map<string, Remote>();
    const refused = new Set<string>();
    for (const {remote, carried} of peers) {
      if (carried) wanted.set(remoteKey(remote), remote);
      else refused.add(remoteKey(remote));
    }
    for (const [key, remote] of this.wanted) if (!wanted.has(key)) this.hold(remote, now);
    this.wanted = wanted;
    for (const [key, {until}] of this.held) if (wanted.has(key) || refused.has(key) || until <= now) this.held.delete(key);
    const target = new Map(wanted);
    for (const [key, {remote}] of this.held) target.set(key, remote);
    return target;
  }

  /** When the first held remote expires; undefined when none is held. */
  nextExpiry(): number | undefined {
    const times = [...this.held.values()].map(h => h.until);
    return times.length > 0 ? Math.min(...times) : undefined;
  }
}
