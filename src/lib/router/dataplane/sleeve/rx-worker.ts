/**
 * The receiving worker: owns the UDP port, files each datagram under the session its id names,
 * refuses replays and forgeries, learns which peer each source MAC lives behind (for the
 * sending worker), and writes the frames to the TAP, all frames of one loop turn together.
 */
import {createSocket} from 'node:dgram';
import {type MessagePort, parentPort, workerData} from 'node:worker_threads';
import {isGroupMac, MacTable, macAt} from './mac-table.js';
import type {ControlMessage, LearnMessage, PeerCounters, PeerMessage, RxInit, RxStats, WorkerReply} from './messages.js';
import {loadTap} from './native.js';
import {malformed, readSessionId, VNET_HDR_BYTES} from './packet.js';
import {ReceiveSession} from './session.js';

/** How long the keys a peer replaced still open its packets: those in flight while both ends switch. */
const REPLACED_KEYS_MS = 10_000;
/** As much socket buffer as the kernel grants (net.core.rmem_max caps it): bursts of super-frames. */
const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

interface Peer extends PeerCounters {
  name: string;
  session: ReceiveSession;
  /** Replaced sessions still accepted for a while, with their expiry timers. */
  retiring: Map<number, NodeJS.Timeout>;
}

const {fd, port, address, replayWindow, learn} = workerData as RxInit & {learn: MessagePort};
const tap = loadTap();
const peers = new Map<string, Peer>();
const sessions = new Map<number, {peer: Peer; session: ReceiveSession}>();
const macs = new MacTable();
const stats: Omit<RxStats, 'peers'> = {malformed: 0, unknownSession: 0, replayed: 0, unauthenticated: 0, tapRefused: 0};
const pending: Buffer[] = [];

function reply(message: WorkerReply<RxStats>): void {
  parentPort!.postMessage(message);
}

function flush(): void {
  const written = tap.write(fd, pending, pending.length);
  stats.tapRefused += pending.length - written;
  pending.length = 0;
}

function receive(packet: Buffer): void {
  if (malformed(packet)) {
    stats.malformed++;
    return;
  }
  const entry = sessions.get(readSessionId(packet));
  if (!entry) {
    stats.unknownSession++;
    return;
  }
  const frame = entry.session.open(packet);
  if (typeof frame === 'string') {
    stats[frame]++;
    return;
  }
  const {peer} = entry;
  peer.frames++;
  peer.bytes += frame.length - VNET_HDR_BYTES;
  const source = VNET_HDR_BYTES + 6;
  if (!isGroupMac(frame, source)) {
    const mac = macAt(frame, source);
    if (macs.learn(mac, peer.name)) learn.postMessage({mac, peer: peer.name} satisfies LearnMessage);
  }
  if (pending.push(frame) === 1) setImmediate(flush);
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

const socket = createSocket({type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES});
socket.on('message', receive);
socket.on('error', error => reply({type: 'failed', message: `cannot receive on UDP ${address ?? '0.0.0.0'}:${port}: ${error.message}`}));
socket.bind(port, address, () => reply({type: 'ready'}));

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
      socket.close();
      learn.close();
      parentPort!.close();
  }
});
