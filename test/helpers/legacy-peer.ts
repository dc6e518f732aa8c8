/**
 * A stand-in for a weave 2.8.1 router, run as a process in a host's namespace: it answers on the
 * mesh port, and dials the given address every second, each time sending what the original sent
 * in a capture (header, encryption flag, handshake), then hanging up. One JSON line per
 * connection on stdout. Usage: node --import tsx legacy-peer.ts <capture file name> [dial-ip]
 */
import {connect, createServer, type Socket} from 'node:net';
import {capturedHandshakes} from './legacy.js';

const [capture, dialIp] = process.argv.slice(2) as ['mesh-nopassword.pcap' | 'mesh-password-fixture-secret.pcap', string | undefined];
const {listener, dialer} = capturedHandshakes(capture);

function replay(socket: Socket, bytes: Buffer, event: string): void {
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.write(bytes);
  process.stdout.write(`${JSON.stringify({event, peer: `${socket.remoteAddress}:${socket.remotePort}`})}\n`);
  setTimeout(() => socket.destroy(), 2000);
}

createServer(socket => replay(socket, listener, 'accepted')).listen(6783, () => process.stdout.write(`${JSON.stringify({event: 'listening'})}\n`));
if (dialIp) {
  const dial = () => {
    const socket = connect(6783, dialIp);
    socket.on('error', () => {});
    socket.once('connect', () => replay(socket, dialer, 'dialled'));
  };
  setInterval(dial, 1000);
}
