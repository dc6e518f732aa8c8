/**
 * The receiving worker: owns the UDP port, receives datagrams in batches, files each under the
 * session its id names, refuses replays and forgeries, learns which peer each source MAC lives
 * behind (for the sending worker), and writes a batch's frames to the TAP together, the TCP
 * segments of one stream joined back into super-frames (the addon's write(), as the kernel's
 * GRO would). Receiving blocks this thread, not the router's; between batches the event loop
 * runs, for control messages.
 */
import {type MessagePort, parentPort, workerData} from 'node:worker_threads';
import {isGroupMac, MacTable, macAt} from './mac-table.js';
import type {ControlMessage, LearnMessage, PeerCounters, PeerMessage, RxInit, RxStats, WorkerReply} from './messages.js';
import {loadTap} from './native.js';
import {HEADER_BYTES, malformed, readSessionId, TAG_BYTES, VNET_HDR_BYTES} from './packet.js';
import {ReceiveSession} from './session.js';

/** How long the keys a peer replaced still open its packets: those in flight while both ends switch. */
const REPLACED_KEYS_MS = 10_000;
/** Bursts of datagrams while this thread seals nothing but waits for its turn on a busy machine. */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;
/** A datagram is at most the path MTU; a slot takes the largest UDP payload (only the pages written are ever touched). */
const SLOT_BYTES = 65_536;
const SLOTS = 256;
const WAIT_MS = 100;

interface Peer extends PeerCounters {
  name: string;
  session: ReceiveSession;
  /** Replaced sessions still accepted for a while, with their expiry timers. */
  retiring: Map<number, NodeJS.Timeout>;
}

const {fd, port, address, replayWindow, coalesce, learn} = workerData as RxInit & {learn: MessagePort};
const tap = loadTap();
const peers = new Map<string, Peer>();
const sessions = new Map<number, {peer: Peer; session: ReceiveSession}>();
const macs = new MacTable();
const stats: Omit<RxStats, 'peers'> = {malformed: 0, unknownSession: 0, replayed: 0, unauthenticated: 0, tapRefused: 0};
const slots = Buffer.allocUnsafe(SLOT_BYTES * SLOTS);
const lengths = new Int32Array(SLOTS);
/** The frames opened in this batch, in place in `slots`. */
const frameOffsets = new Int32Array(SLOTS);
const frameLengths = new Int32Array(SLOTS);
let socket: number | undefined;

function reply(message: WorkerReply<RxStats>): void {
  parentPort!.postMessage(message);
}

/** Opens the datagram in slot i; true when it holds a frame for the TAP. */
function receive(i: number): boolean {
  const length = lengths[i]!;
  const packet = slots.subarray(i * SLOT_BYTES, i * SLOT_BYTES + Math.max(length, 0));
  if (length < 0 || malformed(packet)) {
    stats.malformed++;
    return false;
  }
  const entry = sessions.get(readSessionId(packet));
  if (!entry) {
    stats.unknownSession++;
    return false;
  }
  const frame = entry.session.open(packet);
  if (typeof frame === 'string') {
    stats[frame]++;
    return false;
  }
  const {peer} = entry;
  peer.frames++;
  peer.bytes += frame.length - VNET_HDR_BYTES;
  const source = VNET_HDR_BYTES + 6;
  if (!isGroupMac(frame, source)) {
    const mac = macAt(frame, source);
    if (macs.learn(mac, peer.name)) learn.postMessage({mac, peer: peer.name} satisfies LearnMessage);
  }
  return true;
}

function pump(): void {
  if (socket === undefined) return;
  if (tap.wait(socket, WAIT_MS)) {
    const n = tap.receive(socket, slots, SLOT_BYTES, lengths);
    let frames = 0;
    for (let i = 0; i < n; i++) {
      if (!receive(i)) continue;
      frameOffsets[frames] = i * SLOT_BYTES + HEADER_BYTES;
      frameLengths[frames++] = lengths[i]! - HEADER_BYTES - TAG_BYTES;
    }
    if (frames > 0) stats.tapRefused += frames - Math.min(frames, tap.write(fd, slots, frameOffsets, frameLengths, frames, coalesce));
  }
  setImmediate(pump);
}

function setPeer(message: PeerMessage): void {
  const session = new ReceiveSession(Buffer.from(message.secret), replayWindow);
  const peer = peers.get(message.name);
  if (!peer) {
    const added: Peer = {name: message.name, session, retiring: new Map(), frames: 0, bytes: 0};
    peers.set(added.name, added);
    sessions.set(session.id, {peer: added, session});
    return;
  }
  const old = peer.session;
  peer.session = session;
  sessions.set(session.id, {peer, session});
  peer.retiring.set(
    old.id,
    setTimeout(() => {
      peer.retiring.delete(old.id);
      if (sessions.get(old.id)?.session === old) sessions.delete(old.id);
    }, REPLACED_KEYS_MS),
  );
}

function removePeer(name: string): void {
  const peer = peers.get(name);
  if (!peer) return;
  for (const [id, timer] of peer.retiring) {
    clearTimeout(timer);
    sessions.delete(id);
  }
  sessions.delete(peer.session.id);
  peers.delete(name);
  macs.forgetPeer(name);
}

function snapshot(): RxStats {
  const byPeer: RxStats['peers'] = {};
  for (const p of peers.values()) byPeer[p.name] = {frames: p.frames, bytes: p.bytes};
  return {peers: byPeer, ...stats};
}

parentPort!.on('message', (message: ControlMessage) => {
  switch (message.type) {
    case 'peer':
      return setPeer(message);
    case 'remove':
      return removePeer(message.name);
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
