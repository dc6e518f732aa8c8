import type {FdbEntry} from '../../net/fdb.js';
import type {RouterState} from '../state.js';

/** A MAC the data plane has seen and the peer it is behind: the original's MACStatus. */
export interface SeenMac {
  mac: string;
  peer: string;
  nickName: string;
  lastSeen: Date;
}

/** The underlay addresses of our connections, to the peers at their other end. */
function peersByAddress(state: RouterState): Map<string, {name: string; nickName: string}> {
  const ourself = state.peers.find(p => p.name === state.name);
  return new Map((ourself?.connections ?? []).map(c => [c.address.slice(0, c.address.lastIndexOf(':')), {name: c.name, nickName: c.nickName}]));
}

/**
 * The bridge's forwarding table read as the original's MAC cache: the bridge's own MAC and
 * MACs learnt on local ports are ours; a MAC learnt on the VXLAN device is the peer's at the
 * underlay address the device learnt it from. Left out: the ports' own MACs, multicast
 * entries, and MACs behind the sleeve (its table lives in the router, not in the kernel's).
 */
export function seenMacs(entries: readonly FdbEntry[], state: RouterState, overlayPorts: readonly string[], now: number): SeenMac[] {
  const remotes = peersByAddress(state);
  const learntFrom = new Map(entries.filter(e => e.master === undefined && e.dst !== undefined).map(e => [e.mac, e.dst!]));
  const seen: SeenMac[] = [];
  for (const e of entries) {
    if (e.master === undefined || !e.ifname) continue;
    const ownBridge = e.ifname === e.master && e.state === 'permanent';
    if (!ownBridge && e.state === 'permanent') continue;
    const lastSeen = new Date(now - (e.updated ?? 0) * 1000);
    if (ownBridge || !overlayPorts.includes(e.ifname)) {
      seen.push({mac: e.mac, peer: state.name, nickName: state.nickName, lastSeen});
      continue;
    }
    const remote = remotes.get(learntFrom.get(e.mac) ?? '');
    if (remote) seen.push({mac: e.mac, peer: remote.name, nickName: remote.nickName, lastSeen});
  }
  return seen.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
}
