import {PROTOCOL} from '../mesh/protocol.js';
import type {ConnectionInfo, DnsStatus, IpamStatus, PeerInfo, RouterState} from '../state.js';
import {marshal} from './gojson.js';
import {appended, bool, fromJs, type GoValue, int, NIL, str, strings, struct} from './govalue.js';
import type {SeenMac} from './macs.js';

/** Go's zero time.Time: what a version check that never ran reports. */
const ZERO_TIME = struct({}, {text: '0001-01-01 00:00:00 +0000 UTC', json: '"0001-01-01T00:00:00Z"'});

/**
 * The version check is always off: the router never calls out to check for updates, as with
 * the original's CHECKPOINT_DISABLE.
 */
function versionCheck(): GoValue {
  return struct(
    {Enabled: bool(false), Success: bool(false), NewVersion: str(''), NextCheckAt: ZERO_TIME},
    {text: 'version check update disabled'},
  );
}

/** A uint64 peer UID stays exact in JSON (a JavaScript number would round it). */
function uid(value: string): GoValue {
  return /^\d+$/.test(value) ? int(BigInt(value)) : str(value);
}

function peer(p: PeerInfo): GoValue {
  return struct({
    Name: str(p.name),
    NickName: str(p.nickName),
    UID: uid(p.uid),
    ShortID: int(p.shortId),
    Version: int(p.version),
    Connections: appended(
      p.connections.map(c =>
        struct({Name: str(c.name), NickName: str(c.nickName), Address: str(c.address), Outbound: bool(c.outbound), Established: bool(c.established)}),
      ),
    ),
  });
}

function connection(c: ConnectionInfo): GoValue {
  // Targets not yet connected carry no attributes: nil in the original, `null` in its JSON.
  const attrs = Object.keys(c.attrs).length > 0 ? fromJs(c.attrs) : NIL;
  return struct({Address: str(c.address), Outbound: bool(c.outbound), State: str(c.state), Info: str(c.info), Attrs: attrs});
}

/** The Paxos part of the original's IPAM status, recovered from the status line it drives. */
function paxos(status: string): GoValue {
  const awaiting = /^awaiting consensus \(quorum: (\d+), known: (\d+)\)$/.exec(status);
  if (awaiting) return struct({Elector: bool(true), KnownNodes: int(Number(awaiting[2])), Quorum: int(Number(awaiting[1]))});
  if (status === 'priming') return struct({Elector: bool(false), KnownNodes: int(0), Quorum: int(0)});
  return NIL;
}

function ipam(i: IpamStatus): GoValue {
  return struct({
    Paxos: paxos(i.status),
    Range: str(i.range),
    RangeNumIPs: int(i.rangeNumIps),
    ActiveIPs: int(i.activeIps),
    DefaultSubnet: str(i.defaultSubnet),
    Entries: appended(
      i.entries.map(e =>
        struct({Token: str(e.token), Size: int(e.size), Peer: str(e.peer), Nickname: str(e.nickname), IsKnownPeer: bool(e.isKnownPeer), Version: int(e.version)}),
      ),
    ),
    PendingClaims: appended(i.pendingClaims.map(c => struct({Ident: str(c.ident), CIDR: str(c.cidr)}))),
    PendingAllocates: appended(i.pendingAllocates.map(str)),
  });
}

function dns(d: DnsStatus): GoValue {
  return struct({
    Domain: str(d.domain),
    Upstream: strings(d.upstream),
    Address: str(d.address),
    TTL: int(d.ttl),
    Entries: appended(
      d.entries.map(e =>
        struct({Hostname: str(e.hostname), Origin: str(e.origin), ContainerID: str(e.containerId), Address: str(e.address), Version: int(e.version), Tombstone: int(e.tombstone)}),
      ),
    ),
  });
}

/** The original's UnknownPeerName: the next hop to ourselves. */
const NO_PEER = '00:00:00:00:00:00';

/** Go's time.Time as String() and MarshalJSON (RFC 3339 with the fraction's trailing zeros dropped) print it, in UTC. */
function goTime(t: Date): GoValue {
  const iso = t.toISOString().replace(/\.?0*Z$/, 'Z');
  const [date, time] = iso.slice(0, -1).split('T') as [string, string];
  return struct({}, {text: `${date} ${time} +0000 UTC`, json: `"${iso}"`});
}

function mac(m: SeenMac): GoValue {
  return struct({Mac: str(m.mac), Name: str(m.peer), NickName: str(m.nickName), LastSeen: goTime(m.lastSeen)});
}

/**
 * The original's WeaveStatus: what `/report` marshals and `?format=` templates read. Field
 * names and order are the original's (mesh.Status flattened into Router); slices it built by
 * appending are null when empty, as there. Proxy and Plugin are nil because this router has
 * neither, and IPAM and DNS are nil when disabled. MACs are those of the bridge's forwarding
 * table (`macs`). With no ODP and no packet capture, the overlays' diagnostics are nil,
 * Interface is empty and CaptureStats nil.
 */
export function weaveStatus(state: RouterState, macs: readonly SeenMac[] = []): GoValue {
  return struct(
    {
      Ready: bool(state.ready),
      Version: str(state.version),
      VersionCheck: versionCheck(),
      Router: struct({
        Protocol: str(PROTOCOL),
        ProtocolMinVersion: int(state.protocolMinVersion),
        ProtocolMaxVersion: int(state.protocolMaxVersion),
        Encryption: bool(state.encryption),
        PeerDiscovery: bool(state.peerDiscovery),
        Name: str(state.name),
        NickName: str(state.nickName),
        Port: int(state.port),
        Peers: appended(state.peers.map(peer)),
        UnicastRoutes: appended(state.unicastRoutes.map(r => struct({Dest: str(r.dest), Via: str(r.via || NO_PEER)}))),
        BroadcastRoutes: appended(state.broadcastRoutes().map(r => struct({Source: str(r.source), Via: appended(r.via.map(str))}))),
        Connections: appended(state.connections.map(connection)),
        TerminationCount: int(state.terminationCount),
        Targets: appended(state.targets.map(str)),
        OverlayDiagnostics: fromJs({fastdp: null, sleeve: null}),
        TrustedSubnets: strings(state.trustedSubnets),
        Interface: str(''),
        CaptureStats: NIL,
        MACs: appended(macs.map(mac)),
      }),
      IPAM: state.ipam ? ipam(state.ipam) : NIL,
      DNS: state.dns ? dns(state.dns) : NIL,
      Proxy: NIL,
      Plugin: NIL,
    },
    {omitNil: ['VersionCheck', 'Router', 'IPAM', 'DNS', 'Proxy', 'Plugin']},
  );
}

/** The body of `GET /report` with `Accept: application/json`: MarshalIndent with 4 spaces. */
export function reportJson(state: RouterState, macs: readonly SeenMac[] = []): string {
  return marshal(weaveStatus(state, macs), '    ');
}
