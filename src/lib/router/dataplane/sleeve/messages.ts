/** What the Sleeve and its two workers tell each other (structured-cloned through MessagePorts). */

export interface PeerCounters {
  frames: number;
  bytes: number;
  /** Broadcasts and unknown unicast sent to the peer: by the sending worker ours, by the receiving one those passed on down another peer's tree. */
  flooded: number;
}

/** The sending worker: frames read from the TAP, sealed and sent. */
export interface TxStats {
  peers: Record<string, PeerCounters>;
  /** Frames with no peer to go to. */
  noPeer: number;
  /** Super-frames that could not be cut into datagrams (a kind we do not segment). */
  oversize: number;
  sendFailed: number;
}

/** The receiving worker: datagrams opened and their frames written to the TAP. */
export interface RxStats {
  peers: Record<string, PeerCounters>;
  /** Not a sleeve datagram (wrong type, too short). */
  malformed: number;
  /** No session of ours has that id: another key, or a peer we do not know (yet). */
  unknownSession: number;
  /** A counter seen before or older than the replay window. */
  replayed: number;
  /** The tag does not verify: altered, or sealed with another key. */
  unauthenticated: number;
  /** Frames the kernel would not take from the TAP. */
  tapRefused: number;
  /** Relayed frames for a peer we have no route to, or out of hops. */
  noRoute: number;
  /** Relayed frames passed on to their next hop (not a drop). */
  relayed: number;
}

export interface PeerMessage {
  type: 'peer';
  name: string;
  address: string;
  port: number;
  /** This worker's direction of the session keys. */
  secret: Uint8Array;
  /** The receiving worker's only: our sending direction, whose relay session (relaySecret()) seals the frames we pass on to this peer. */
  sendSecret?: Uint8Array;
}

/** A peer reached through the sleeve, and the peer we send its frames to (itself when connected to us). */
export interface Route {
  name: string;
  /** Its peerId(). */
  id: number;
  via: string;
}

/** Our children in the spanning tree of the peer whose peerId() is `origin`: where its broadcasts go on from us. */
export interface Branch {
  origin: number;
  children: string[];
}

/** Where relayed frames go, as the topology last stood; `us` is our own peerId(). */
export interface RoutesMessage {
  type: 'routes';
  us: number;
  routes: Route[];
  /** The sending worker's: our neighbours with children of their own in our tree, which get our broadcasts to pass on. */
  branching: string[];
  /** The receiving worker's: what it passes on of other peers' broadcasts. */
  branches: Branch[];
}

export type ControlMessage = PeerMessage | RoutesMessage | {type: 'remove'; name: string} | {type: 'stats'; id: number} | {type: 'stop'};

export type WorkerReply<S> = {type: 'ready'} | {type: 'stats'; id: number; stats: S} | {type: 'failed'; message: string};

/** From the receiving worker to the sending one: `mac` lives behind `peer`. */
export interface LearnMessage {
  mac: number;
  peer: string;
}

export interface TxInit {
  fd: number;
}

export interface RxInit {
  fd: number;
  port: number;
  /** The local address to receive on; every address when absent. */
  address?: string;
  replayWindow?: number;
  /** Join TCP segments back into super-frames before writing them (the TAP takes them: offloads on). */
  coalesce: boolean;
}
