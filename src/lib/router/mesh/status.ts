import type {ConnectionInfo, PeerInfo} from '../state.js';
import {ipOf} from './address.js';
import type {MeshConnection} from './connection.js';
import type {Topology} from './topology.js';

/** What the data plane (and status) know about one live connection. */
export interface ConnectionFacts {
  peer: string;
  nickName: string;
  address: string;
  /** The peer's underlay IP. */
  ip: string;
  /** The peer's mesh port (its VXLAN port is the next). */
  port: number;
  outbound: boolean;
  established: boolean;
  /** The control traffic is encrypted and authenticated (a password is set). */
  encrypted: boolean;
  /** Both ends have the other inside --trusted-subnets: pod traffic may flow unencrypted. */
  trusted: boolean;
}

/**
 * How the data plane carries pod traffic over a connection: the name `status connections` shows
 * (`fastdp`, `sleeve` in the original; `none` when no data path runs) and attributes (`mtu`,
 * `encrypted`: whether pod traffic to that peer is encrypted, which /metrics counts).
 */
export type OverlayDescriber = (c: ConnectionFacts) => {name: string; attrs: Record<string, unknown>};

export const NO_OVERLAY: OverlayDescriber = () => ({name: 'none', attrs: {}});

export function connectionFacts(conn: MeshConnection): ConnectionFacts {
  return {
    peer: conn.remote.name,
    nickName: conn.remote.nickName,
    address: conn.address,
    ip: ipOf(conn.address),
    port: conn.remote.port,
    outbound: conn.outbound,
    established: conn.established,
    encrypted: conn.encrypted,
    trusted: conn.trusted,
  };
}

/**
 * A live connection as `status connections` shows it: `<overlay> name(nick)`, prefixed with
 * `encrypted`/`unencrypted` when the router has a password (whether pod traffic to that peer
 * needs encrypting, i.e. the peer is not trusted both ways).
 */
export function liveConnectionInfo(conn: MeshConnection, usingPassword: boolean, overlay: OverlayDescriber): ConnectionInfo {
  const facts = connectionFacts(conn);
  const {name, attrs} = overlay(facts);
  let info = `${name.padEnd(6)} ${facts.peer}(${facts.nickName})`;
  if (usingPassword) info = `${(facts.trusted ? 'unencrypted' : 'encrypted').padEnd(11)} ${info}`;
  // As the original's overlay attributes, `name` included (the text view leaves it out, metrics count by it).
  return {address: conn.address, outbound: conn.outbound, state: conn.established ? 'established' : 'pending', info, attrs: {name, ...attrs}};
}

/** Every peer with the connections it reports; ours (from our live connections) first. */
export function peerInfos(topology: Topology, live: Iterable<MeshConnection>): PeerInfo[] {
  const {ourself} = topology;
  const others = topology.all().filter(p => p !== ourself);
  others.sort((a, b) => (a.name < b.name ? -1 : 1));
  const nick = (name: string) => topology.get(name)?.nickName ?? '';
  return [ourself, ...others].map(p => ({
    name: p.name,
    nickName: p.nickName,
    uid: p.uid.toString(),
    shortId: p.shortId,
    version: p.version,
    connections:
      p === ourself
        ? [...live].map(c => ({name: c.remote.name, nickName: c.remote.nickName, address: c.address, outbound: c.outbound, established: c.established}))
        : [...p.connections].map(([name, c]) => ({name, nickName: nick(name), address: c.address, outbound: c.outbound, established: c.established})),
  }));
}
