/**
 * The sending worker: reads frames from the TAP in batches into slots allocated once, picks the
 * peer that owns each destination MAC (every peer for group and unknown addresses, as a switch
 * floods), seals the frame for that peer and sends it. Reading blocks this thread, not the
 * router's; between batches the event loop runs, for sends, control messages and learning.
 */
import {createSocket, type Socket} from 'node:dgram';
import {type MessagePort, parentPort, workerData} from 'node:worker_threads';
import {isGroupMac, MacTable, macAt} from './mac-table.js';
import type {ControlMessage, LearnMessage, PeerCounters, PeerMessage, TxInit, TxStats, WorkerReply} from './messages.js';
import {loadTap} from './native.js';
import {HEADER_BYTES, MAX_PLAIN, VNET_HDR_BYTES} from './packet.js';
import {SendSession} from './session.js';

/** A super-frame is at most 64 KB and its virtio-net header. */
const SLOT_BYTES = 65_536 + 128;
const SLOTS = 16;
/** How long a wait for frames blocks before control messages get their turn. */
const WAIT_MS = 100;

interface Peer extends PeerCounters {
  name: string;
  address: string;
  port: number;
  socket: Socket;
  session: SendSession;
}

const {fd, learn} = workerData as TxInit & {learn: MessagePort};
const tap = loadTap();
const slots = Buffer.allocUnsafe(SLOT_BYTES * SLOTS);
const lengths = new Int32Array(SLOTS);
const peers = new Map<string, Peer>();
const macs = new MacTable();
const stats: Omit<TxStats, 'peers'> = {noPeer: 0, oversize: 0, sendFailed: 0};
let stopped = false;

function reply(message: WorkerReply<TxStats>): void {
  parentPort!.postMessage(message);
}

function send(peer: Peer, frame: Buffer): void {
  try {
    peer.socket.send(peer.session.seal(Buffer.allocUnsafe(HEADER_BYTES), frame));
  } catch {
    // One frame lost, as on a full link; this worker carries on.
    stats.sendFailed++;
    return;
  }
  peer.frames++;
  peer.bytes += frame.length - VNET_HDR_BYTES;
}

function forward(frame: Buffer): void {
  if (frame.length > MAX_PLAIN) {
    stats.oversize++;
    return;
  }
  if (!isGroupMac(frame, VNET_HDR_BYTES)) {
    const owner = macs.lookup(macAt(frame, VNET_HDR_BYTES));
    const peer = owner === undefined ? undefined : peers.get(owner);
    if (peer) return send(peer, frame);
  }
  if (peers.size === 0) stats.noPeer++;
  for (const peer of peers.values()) send(peer, frame);
}

function pump(): void {
  if (stopped) return;
  if (tap.wait(fd, WAIT_MS)) {
    const n = tap.read(fd, slots, SLOT_BYTES, lengths);
    for (let i = 0; i < n; i++) forward(slots.subarray(i * SLOT_BYTES, i * SLOT_BYTES + lengths[i]!));
  }
  setImmediate(pump);
}

/** Sockets being connected, by peer: a peer is sent to once its socket is connected (a turn of the loop). */
const connecting = new Map<string, Socket>();

function setPeer(message: PeerMessage): void {
  const session = new SendSession(Buffer.from(message.secret));
  const current = peers.get(message.name);
  if (current && current.address === message.address && current.port === message.port) {
    current.session = session;
    return;
  }
  dropPeer(message.name);
  const socket = createSocket('udp4');
  socket.on('error', () => stats.sendFailed++);
  connecting.set(message.name, socket);
  socket.connect(message.port, message.address, () => {
    if (connecting.get(message.name) !== socket) return;
    connecting.delete(message.name);
    peers.set(message.name, {name: message.name, address: message.address, port: message.port, socket, session, frames: 0, bytes: 0});
  });
}

function dropPeer(name: string): void {
  connecting.get(name)?.close();
  connecting.delete(name);
  peers.get(name)?.socket.close();
  peers.delete(name);
}

function removePeer(name: string): void {
  dropPeer(name);
  macs.forgetPeer(name);
}

function snapshot(): TxStats {
  const byPeer: TxStats['peers'] = {};
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
      stopped = true;
      for (const name of [...peers.keys(), ...connecting.keys()]) dropPeer(name);
      learn.close();
      parentPort!.close();
  }
});

learn.on('message', ({mac, peer}: LearnMessage) => {
  if (peers.has(peer)) macs.learn(mac, peer);
});

reply({type: 'ready'});
pump();
