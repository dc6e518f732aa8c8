/**
 * The sending worker: reads frames from the TAP in batches into slots allocated once, picks the
 * peer that owns each destination MAC (every peer for group and unknown addresses, as a switch
 * floods), cuts TCP super-frames into MTU-sized frames (the addon's segment(), as the kernel's
 * GSO would), seals each into a datagram of its own and sends a whole batch per peer in one
 * system call. No datagram is larger than the pods' MTU plus SLEEVE_OVERHEAD, and the sockets
 * set Don't Fragment: nothing leaves as IP fragments. A frame for a peer we have no connection
 * to goes to the first hop of its route, marked with its origin (us) and destination, for the
 * hops on the way to pass on. A broadcast goes down our spanning tree: one copy to each of our
 * children in it, marked as a tree frame from us for those with children of their own to pass
 * on (no peer gets two, no link carries two, nothing loops). Reading blocks this thread, not the
 * router's; between batches the event loop runs, for control messages and learning.
 */
import {type MessagePort, parentPort, workerData} from 'node:worker_threads';
import {isGroupMac, MacTable, macAt} from './mac-table.js';
import type {ControlMessage, LearnMessage, PeerCounters, PeerMessage, RoutesMessage, TxInit, TxStats, WorkerReply} from './messages.js';
import {loadTap} from './native.js';
import {TYPE_FRAME, TYPE_RELAYED, TYPE_TREE, VNET_HDR_BYTES} from './packet.js';
import {SendSession} from './session.js';

/** A super-frame is at most 64 KB and its virtio-net header. */
const SLOT_BYTES = 65_536 + 128;
const SLOTS = 16;
/** Datagrams of one batch: a read's worth of super-frames, cut (with room for small MSS values). */
const OUT_BYTES = SLOTS * SLOT_BYTES * 2;
const OUT_DATAGRAMS = 8192;
/** How long a wait for frames blocks before control messages get their turn. */
const WAIT_MS = 100;
const SEND_BUFFER_BYTES = 4 * 1024 * 1024;

interface Peer extends PeerCounters {
  name: string;
  address: string;
  port: number;
  fd: number;
  session: SendSession;
}

const {fd, learn} = workerData as TxInit & {learn: MessagePort};
const tap = loadTap();
const slots = Buffer.allocUnsafe(SLOT_BYTES * SLOTS);
const lengths = new Int32Array(SLOTS);
const out = Buffer.allocUnsafe(OUT_BYTES);
const offsets = new Int32Array(OUT_DATAGRAMS);
const sizes = new Int32Array(OUT_DATAGRAMS);
const peers = new Map<string, Peer>();
const macs = new MacTable();
/** Our peerId(), and each peer reached only through others (by name): its id and the peer we send its frames to. */
let us = 0;
let relayed = new Map<string, {id: number; via: string}>();
/** Our neighbours that pass our broadcasts on to children of their own in our tree. */
let branching = new Set<string>();
/** Hops a relayed frame may take: more than any path of the topology, so only a loop runs out. */
let hopLimit = 0;
const stats: Omit<TxStats, 'peers'> = {noPeer: 0, oversize: 0, sendFailed: 0};
let stopped = false;

/** The batch being filled: datagrams out[offsets[i], +sizes[i]) for i < queued, all for `batchPeer`. */
let queued = 0;
let used = 0;
let batchPeer: Peer | undefined;

function reply(message: WorkerReply<TxStats>): void {
  parentPort!.postMessage(message);
}

function sendBatch(): void {
  if (batchPeer && queued > 0) stats.sendFailed += queued - tap.send(batchPeer.fd, out, offsets, sizes, queued);
  queued = 0;
  used = 0;
  batchPeer = undefined;
}

/**
 * Cuts `frame` into datagrams sealed for `peer` (TYPE_RELAYED: relayed on to `destination`;
 * TYPE_TREE: passed on down our tree), queued behind those already in the batch; how many.
 */
function queue(peer: Peer, frame: Buffer, type = TYPE_FRAME, destination = 0): number {
  if (batchPeer !== peer) sendBatch();
  let count = tap.segment(frame, out.subarray(used), offsets.subarray(queued), sizes.subarray(queued));
  if (count === -2 && queued > 0) {
    sendBatch();
    count = tap.segment(frame, out, offsets, sizes);
  }
  if (count < 0) {
    // Not a super-frame we can cut, or too small a gso_size to fit: lost, as on a link that refuses it.
    stats.oversize++;
    return 0;
  }
  batchPeer = peer;
  for (let i = queued; i < queued + count; i++) {
    offsets[i] += used;
    const datagram = out.subarray(offsets[i]!, offsets[i]! + sizes[i]!);
    if (type === TYPE_FRAME) peer.session.seal(datagram);
    else peer.session.seal(datagram, type, hopLimit, us, destination);
  }
  const last = queued + count - 1;
  used = offsets[last]! + sizes[last]!;
  queued += count;
  peer.frames += count;
  peer.bytes += frame.length - VNET_HDR_BYTES;
  return count;
}

function forward(frame: Buffer): void {
  if (!isGroupMac(frame, VNET_HDR_BYTES)) {
    const owner = macs.lookup(macAt(frame, VNET_HDR_BYTES));
    if (owner !== undefined) {
      const peer = peers.get(owner);
      if (peer) {
        queue(peer, frame);
        return;
      }
      const route = relayed.get(owner);
      const via = route && peers.get(route.via);
      if (via) {
        queue(via, frame, TYPE_RELAYED, route.id);
        return;
      }
    }
  }
  if (peers.size === 0) stats.noPeer++;
  for (const peer of peers.values()) {
    // Our tree reaches it through another neighbour (its connection to us not yet in the topology): one copy, that one.
    if (relayed.has(peer.name)) continue;
    peer.flooded += queue(peer, frame, branching.has(peer.name) ? TYPE_TREE : TYPE_FRAME);
  }
}

function pump(): void {
  if (stopped) return;
  if (tap.wait(fd, WAIT_MS)) {
    const n = tap.read(fd, slots, SLOT_BYTES, lengths);
    for (let i = 0; i < n; i++) forward(slots.subarray(i * SLOT_BYTES, i * SLOT_BYTES + lengths[i]!));
    sendBatch();
  }
  setImmediate(pump);
}

function setPeer(message: PeerMessage): void {
  const session = new SendSession(Buffer.from(message.secret));
  const current = peers.get(message.name);
  if (current && current.address === message.address && current.port === message.port) {
    current.session = session;
    return;
  }
  dropPeer(message.name);
  let socket: number;
  try {
    socket = tap.udpOpen(null, 0, SEND_BUFFER_BYTES, message.address, message.port);
  } catch {
    // No route to the peer yet, or no sockets left: frames to it are counted as sent in vain.
    stats.sendFailed++;
    return;
  }
  peers.set(message.name, {name: message.name, address: message.address, port: message.port, fd: socket, session, frames: 0, bytes: 0, flooded: 0});
}

function dropPeer(name: string): void {
  const peer = peers.get(name);
  if (peer) tap.close(peer.fd);
  peers.delete(name);
}

function removePeer(name: string): void {
  dropPeer(name);
  macs.forgetPeer(name);
}

function setRoutes(message: RoutesMessage): void {
  us = message.us;
  relayed = new Map(message.routes.filter(r => r.via !== r.name).map(r => [r.name, {id: r.id, via: r.via}]));
  branching = new Set(message.branching);
  hopLimit = Math.min(255, message.routes.length + 1);
}

function snapshot(): TxStats {
  const byPeer: TxStats['peers'] = {};
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
      stopped = true;
      for (const name of [...peers.keys()]) dropPeer(name);
      learn.close();
      parentPort!.close();
  }
});

learn.on('message', ({mac, peer}: LearnMessage) => {
  if (peers.has(peer) || relayed.has(peer)) macs.learn(mac, peer);
});

reply({type: 'ready'});
pump();
