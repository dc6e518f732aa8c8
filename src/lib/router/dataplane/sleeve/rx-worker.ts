/**
 * The receiving worker: owns the UDP port, receives datagrams in batches, files each under the
 * session its id names, refuses replays and forgeries, learns which peer each source MAC lives
 * behind (for the sending worker), and writes a batch's frames to the TAP together, the TCP
 * segments of one stream joined back into super-frames (the addon's write(), as the kernel's
 * GRO would). A relayed frame for another peer never reaches the TAP: it is sealed again in
 * place, for the next hop's relay session (this thread's own, so no counter is shared with the
 * sending worker), and sent on in a batch. A tree frame (a broadcast, down its origin's spanning
 * tree) is written to the TAP and a copy of it sealed for each of our children in that tree.
 * Receiving blocks this thread, not the router's; between batches the event loop runs, for
 * control messages.
 */
import {type MessagePort, parentPort, workerData} from 'node:worker_threads';
import {isGroupMac, MacTable, macAt} from './mac-table.js';
import {relaySecret} from './keys.js';
import type {ControlMessage, LearnMessage, PeerCounters, PeerMessage, RoutesMessage, RxInit, RxStats, WorkerReply} from './messages.js';
import {loadTap} from './native.js';
import {HEADER_BYTES, malformed, readDestination, readHops, readOrigin, readSessionId, readType, TAG_BYTES, TYPE_RELAYED, TYPE_TREE, VNET_HDR_BYTES} from './packet.js';
import {ReceiveSession, SendSession} from './session.js';

/** How long the keys a peer replaced still open its packets: those in flight while both ends switch. */
const REPLACED_KEYS_MS = 10_000;
/** Bursts of datagrams while this thread seals nothing but waits for its turn on a busy machine. */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;
/** A datagram is at most the path MTU; a slot takes the largest UDP payload (only the pages written are ever touched). */
const SLOT_BYTES = 65_536;
const SLOTS = 256;
/** After the slots: the copies of tree frames sealed for our children (sent before the area is used again). */
const COPIES_AT = SLOT_BYTES * SLOTS;
const COPY_BYTES = 1024 * 1024;
/** Datagrams sent on per batch before the batch's are sent early: those relayed in place and the copies. */
const FORWARDS = 1024;
const WAIT_MS = 100;
const SEND_BUFFER_BYTES = 4 * 1024 * 1024;

interface Peer extends PeerCounters {
  name: string;
  address: string;
  port: number;
  session: ReceiveSession;
  /** What the peer relays to us comes under a session of its own. */
  relaySession: ReceiveSession;
  /** What we relay to the peer; its socket, opened when first needed. */
  relaySend: SendSession;
  fd?: number;
  /** Replaced sessions still accepted for a while, with their expiry timers. */
  retiring: Map<number, NodeJS.Timeout>;
}

/** What to do with a datagram received. */
const DROP = 0;
const DELIVER = 1;
const FORWARD = 2;

const {fd, port, address, replayWindow, coalesce, learn} = workerData as RxInit & {learn: MessagePort};
const tap = loadTap();
const peers = new Map<string, Peer>();
const sessions = new Map<number, {peer: Peer; session: ReceiveSession}>();
const macs = new MacTable();
const stats: Omit<RxStats, 'peers'> = {malformed: 0, unknownSession: 0, replayed: 0, unauthenticated: 0, tapRefused: 0, noRoute: 0, relayed: 0};
const slots = Buffer.allocUnsafe(COPIES_AT + COPY_BYTES);
const lengths = new Int32Array(SLOTS);
/** The frames opened in this batch, in place in `slots`. */
const frameOffsets = new Int32Array(SLOTS);
const frameLengths = new Int32Array(SLOTS);
let socket: number | undefined;
/** Our peerId(), and for each peer reached through the sleeve (by id) its name and the peer we send its frames to. */
let us = -1;
const routes = new Map<number, {name: string; via: string}>();
/** By origin id, our children in its spanning tree. */
const branches = new Map<number, string[]>();
/** The datagrams of this batch to send on (in `slots`: in place, or copies), and their next hops. */
const forwardOffsets = new Int32Array(FORWARDS);
const forwardLengths = new Int32Array(FORWARDS);
const forwardPeers: Peer[] = [];
const sendOffsets = new Int32Array(FORWARDS);
const sendLengths = new Int32Array(FORWARDS);
/** Bytes of the copy area in use. */
let copied = 0;

function reply(message: WorkerReply<RxStats>): void {
  parentPort!.postMessage(message);
}

/** Opens the datagram in slot i: whether it holds a frame for the TAP, one to send on (queued), or nothing. */
function receive(i: number): number {
  const length = lengths[i]!;
  const packet = slots.subarray(i * SLOT_BYTES, i * SLOT_BYTES + Math.max(length, 0));
  if (length < 0 || malformed(packet)) {
    stats.malformed++;
    return DROP;
  }
  const entry = sessions.get(readSessionId(packet));
  if (!entry) {
    stats.unknownSession++;
    return DROP;
  }
  const frame = entry.session.open(packet);
  if (typeof frame === 'string') {
    stats[frame]++;
    return DROP;
  }
  const {peer} = entry;
  peer.frames++;
  peer.bytes += frame.length - VNET_HDR_BYTES;
  // Read before a reseal rewrites the header; a frame for us has none.
  const hops = readHops(packet);
  let from = peer.name;
  if (hops > 0) {
    const origin = readOrigin(packet);
    if (readType(packet) === TYPE_RELAYED) {
      const destination = readDestination(packet);
      if (destination !== us) return forward(packet, i, hops, origin, destination);
    } else {
      // Our own broadcast back: trees that disagree while the topology changes; it stops here.
      if (origin === us) return DROP;
      branch(packet, hops, origin, peer);
    }
    const source = routes.get(origin);
    if (!source) return DELIVER;
    from = source.name;
  }
  const sourceMac = VNET_HDR_BYTES + 6;
  if (!isGroupMac(frame, sourceMac)) {
    const mac = macAt(frame, sourceMac);
    if (macs.learn(mac, from)) learn.postMessage({mac, peer: from} satisfies LearnMessage);
  }
  return DELIVER;
}

/** Seals a relayed frame again, in place, for the next hop towards its destination, and queues it. */
function forward(packet: Buffer, i: number, hops: number, origin: number, destination: number): number {
  const route = routes.get(destination);
  const next = route && peers.get(route.via);
  if (!next || hops <= 1 || !socketFor(next)) {
    stats.noRoute++;
    return DROP;
  }
  next.relaySend.seal(packet, TYPE_RELAYED, hops - 1, origin, destination);
  queueForward(next, i * SLOT_BYTES, packet.length);
  return FORWARD;
}

/** Seals a copy of an opened tree frame for each of our children in its origin's tree (never back to `from`), and queues them. */
function branch(packet: Buffer, hops: number, origin: number, from: Peer): void {
  for (const name of branches.get(origin) ?? []) {
    const next = peers.get(name);
    if (!next || next === from || hops <= 1 || !socketFor(next)) {
      stats.noRoute++;
      continue;
    }
    if (copied + packet.length > COPY_BYTES) sendForwarded();
    const at = COPIES_AT + copied;
    copied += packet.copy(slots, at);
    next.relaySend.seal(slots.subarray(at, at + packet.length), TYPE_TREE, hops - 1, origin);
    next.flooded++;
    queueForward(next, at, packet.length);
  }
}

/** Queues slots[offset, +length) for `next`, sending what is queued first when full. */
function queueForward(next: Peer, offset: number, length: number): void {
  if (forwardPeers.length === FORWARDS) sendForwarded();
  const queued = forwardPeers.length;
  forwardOffsets[queued] = offset;
  forwardLengths[queued] = length;
  forwardPeers.push(next);
}

function socketFor(peer: Peer): boolean {
  if (peer.fd === undefined) {
    try {
      peer.fd = tap.udpOpen(null, 0, SEND_BUFFER_BYTES, peer.address, peer.port);
    } catch {
      // No route to it (yet): counted as a frame with nowhere to go.
      return false;
    }
  }
  return true;
}

/** Sends the batch's relayed datagrams, one system call per next hop; the copy area is free again. */
function sendForwarded(): void {
  copied = 0;
  while (forwardPeers.length > 0) {
    const peer = forwardPeers[0]!;
    let count = 0;
    let kept = 0;
    for (let j = 0; j < forwardPeers.length; j++) {
      if (forwardPeers[j] === peer) {
        sendOffsets[count] = forwardOffsets[j]!;
        sendLengths[count++] = forwardLengths[j]!;
      } else {
        forwardOffsets[kept] = forwardOffsets[j]!;
        forwardLengths[kept] = forwardLengths[j]!;
        forwardPeers[kept++] = forwardPeers[j]!;
      }
    }
    forwardPeers.length = kept;
    stats.relayed += count;
    stats.noRoute += count - tap.send(peer.fd!, slots, sendOffsets, sendLengths, count);
  }
}

function pump(): void {
  if (socket === undefined) return;
  if (tap.wait(socket, WAIT_MS)) {
    const n = tap.receive(socket, slots, SLOT_BYTES, lengths);
    let frames = 0;
    for (let i = 0; i < n; i++) {
      if (receive(i) !== DELIVER) continue;
      frameOffsets[frames] = i * SLOT_BYTES + HEADER_BYTES;
      frameLengths[frames++] = lengths[i]! - HEADER_BYTES - TAG_BYTES;
    }
    if (frames > 0) stats.tapRefused += frames - Math.min(frames, tap.write(fd, slots, frameOffsets, frameLengths, frames, coalesce));
    sendForwarded();
  }
  setImmediate(pump);
}

function setPeer(message: PeerMessage): void {
  const session = new ReceiveSession(Buffer.from(message.secret), replayWindow);
  const relaySession = new ReceiveSession(relaySecret(message.secret), replayWindow);
  const relaySend = new SendSession(relaySecret(message.sendSecret!));
  const peer = peers.get(message.name);
  if (!peer) {
    const added: Peer = {name: message.name, address: message.address, port: message.port, session, relaySession, relaySend, retiring: new Map(), frames: 0, bytes: 0, flooded: 0};
    peers.set(added.name, added);
    for (const s of [session, relaySession]) sessions.set(s.id, {peer: added, session: s});
    return;
  }
  for (const old of [peer.session, peer.relaySession]) {
    peer.retiring.set(
      old.id,
      setTimeout(() => {
        peer.retiring.delete(old.id);
        if (sessions.get(old.id)?.session === old) sessions.delete(old.id);
      }, REPLACED_KEYS_MS),
    );
  }
  Object.assign(peer, {session, relaySession, relaySend});
  for (const s of [session, relaySession]) sessions.set(s.id, {peer, session: s});
  if (peer.address !== message.address || peer.port !== message.port) {
    closeSocket(peer);
    Object.assign(peer, {address: message.address, port: message.port});
  }
}

function closeSocket(peer: Peer): void {
  if (peer.fd !== undefined) tap.close(peer.fd);
  peer.fd = undefined;
}

function removePeer(name: string): void {
  const peer = peers.get(name);
  if (!peer) return;
  for (const [id, timer] of peer.retiring) {
    clearTimeout(timer);
    sessions.delete(id);
  }
  sessions.delete(peer.session.id);
  sessions.delete(peer.relaySession.id);
  closeSocket(peer);
  peers.delete(name);
  macs.forgetPeer(name);
}

function setRoutes(message: RoutesMessage): void {
  us = message.us;
  routes.clear();
  for (const {name, id, via} of message.routes) routes.set(id, {name, via});
  branches.clear();
  for (const {origin, children} of message.branches) branches.set(origin, children);
}

function snapshot(): RxStats {
  const byPeer: RxStats['peers'] = {};
  for (const p of peers.values()) byPeer[p.name] = {frames: p.frames, bytes: p.bytes, flooded: p.flooded};
  return {peers: byPeer, ...stats};
}

parentPort!.on('message', (message: ControlMessage) => {
  switch (message.type) {
    case 'peer':
      return setPeer(message);
    case 'remove':
      return removePeer(message.name);
    case 'routes':
      return setRoutes(message);
    case 'stats':
      return reply({type: 'stats', id: message.id, stats: snapshot()});
    case 'stop':
      for (const name of [...peers.keys()]) removePeer(name);
      if (socket !== undefined) tap.close(socket);
      socket = undefined;
      learn.close();
      parentPort!.close();
  }
});

try {
  socket = tap.udpOpen(address ?? null, port, RECEIVE_BUFFER_BYTES, null, 0);
  reply({type: 'ready'});
  pump();
} catch (error) {
  reply({type: 'failed', message: `cannot receive on UDP ${address ?? '0.0.0.0'}:${port}: ${(error as Error).message}`});
}
