/**
 * What the status, report and metrics views read of a running router. Each concern (IPAM,
 * mesh, data plane) fills in its part; the views never reach into the concerns themselves.
 */
export interface PeerConnection {
  name: string;
  nickName: string;
  address: string;
  outbound: boolean;
  established: boolean;
}

export interface PeerInfo {
  name: string;
  nickName: string;
  uid: string;
  shortId: number;
  version: number;
  connections: PeerConnection[];
}

export type ConnectionState = 'established' | 'pending' | 'retrying' | 'failed' | 'connecting';

export interface ConnectionInfo {
  address: string;
  outbound: boolean;
  state: ConnectionState;
  /** Failure reason, or the data path ("fastdp", "sleeve") of a live connection. */
  info: string;
  attrs: Record<string, unknown>;
}

export interface RingEntry {
  token: string;
  size: number;
  peer: string;
  nickname: string;
  isKnownPeer: boolean;
  version: number;
}

export interface IpamStatus {
  /** `idle`, `ready`, `waiting for IP(s) to become available`, `awaiting consensus (...)`, `priming`, ... */
  status: string;
  range: string;
  rangeNumIps: number;
  activeIps: number;
  defaultSubnet: string;
  entries: RingEntry[];
  pendingClaims: {ident: string; cidr: string}[];
  pendingAllocates: string[];
  /** Per peer: addresses owned, for `status ipam`. */
  owned: {peer: string; nickname: string; ips: number; reachable: boolean}[];
}

/** A peer a path leads to, and the neighbour it goes through ('' for ourselves). */
export interface UnicastRoute {
  dest: string;
  via: string;
}

/** Where a broadcast from `source` goes on from here. */
export interface BroadcastRoute {
  source: string;
  via: string[];
}

/** One weaveDNS record (tombstone: seconds since the epoch of its deletion, 0 while live). */
export interface DnsRecord {
  hostname: string;
  origin: string;
  containerId: string;
  address: string;
  version: number;
  tombstone: number;
}

export interface DnsStatus {
  /** With the trailing dot. */
  domain: string;
  upstream: string[];
  /** `host:port` we answer on; empty when the default address was busy. */
  address: string;
  ttl: number;
  /** Every record, deleted ones too, in the original's order. */
  entries: DnsRecord[];
}

export interface RouterState {
  ready: boolean;
  version: string;
  name: string;
  nickName: string;
  port: number;
  protocolMinVersion: number;
  protocolMaxVersion: number;
  encryption: boolean;
  peerDiscovery: boolean;
  trustedSubnets: string[];
  targets: string[];
  connections: ConnectionInfo[];
  peers: PeerInfo[];
  unicastRoutes: UnicastRoute[];
  /** Worked out when read (a spanning tree per peer): only the report shows them, not the pages polled often. */
  broadcastRoutes: () => BroadcastRoute[];
  terminationCount: number;
  /** Absent when IPAM is disabled (`--ipalloc-range ""`). */
  ipam?: IpamStatus;
  /** Absent with --no-dns. */
  dns?: DnsStatus;
}
