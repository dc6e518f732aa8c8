import type {Socket} from 'node:net';
import {Reader, Writer} from './codec.js';
import {type DataPlaneKeys, deriveSession, ephemeralKeyPair, PUBLIC_KEY_BYTES, type Role, type Session} from './crypto.js';
import {type FrameChannel, type FrameReader, plainChannel} from './framing.js';
import {legacyHandshakeFields, LegacyPeerError} from './legacy-peer.js';
import {encodeHeader, HEADER_BYTES, negotiateVersion, ProtocolError, type VersionRange} from './protocol.js';

/** Who a peer says it is: sealed after the password proofs when there is a password, else sent with the header. */
export interface Intro {
  name: string;
  nickName: string;
  /** Random per start of the router: tells a restarted peer from its former self. */
  uid: bigint;
  shortId: number;
  /** Random per connection; both ends' values XORed order duplicate connections the same way on both sides. */
  connId: bigint;
  /** Where the sender listens for the mesh. */
  port: number;
  /** Whether the sender trusts the receiver's address (--trusted-subnets). */
  trusted: boolean;
}

export interface HandshakeParams {
  socket: Socket;
  reader: FrameReader;
  /** The end that opened the TCP connection is the initiator. */
  role: Role;
  versions: VersionRange;
  /** Set when the router has a password: the peer must prove the same one. */
  passwordKey?: Buffer;
  intro: Intro;
  timeoutMs: number;
}

export interface HandshakeResult {
  version: number;
  remote: Intro;
  channel: FrameChannel;
  encrypted: boolean;
  /** With a password: fresh keys for the encrypted data plane to this peer. */
  dataPlaneKeys?: DataPlaneKeys;
}

const AUTH_PROOF = 1;
const AUTH_REJECT = 2;
const PASSWORDS_DIFFER = 'the two hosts have different passwords (set the same WEAVE_PASSWORD on every host)';

function encodeIntro(intro: Intro): Buffer {
  return new Writer()
    .name(intro.name)
    .str(intro.nickName)
    .u64(intro.uid)
    .u16(intro.shortId)
    .u64(intro.connId)
    .u16(intro.port)
    .bool(intro.trusted)
    .finish();
}

function decodeIntro(body: Buffer): Intro {
  const r = new Reader(body);
  return {name: r.name(), nickName: r.str(), uid: r.u64(), shortId: r.u16(), connId: r.u64(), port: r.u16(), trusted: r.bool()};
}

async function readHeader(p: HandshakeParams): Promise<{version: number; received: Buffer}> {
  let received: Buffer;
  try {
    received = await p.reader.readExact(HEADER_BYTES);
  } catch (error) {
    throw new ProtocolError(`failed to receive remote protocol header: ${(error as Error).message}`);
  }
  return {version: negotiateVersion(p.versions, received), received};
}

/** The peer's hello: one byte, 1 with a password (then its ephemeral public key), 0 without. */
async function readHello(p: HandshakeParams, withPassword: boolean): Promise<{received: Buffer; theirKey?: Buffer}> {
  const flag = (await p.reader.readExact(1))[0];
  if (flag === 0) {
    if (withPassword) throw new ProtocolError('password specified, but peer requested an unencrypted connection');
    return {received: Buffer.of(0)};
  }
  if (flag !== 1) throw new ProtocolError(`bad encryption flag ${flag}`);
  if (!withPassword) throw new ProtocolError('no password specified, but peer requested an encrypted connection');
  const theirKey = await p.reader.readExact(PUBLIC_KEY_BYTES);
  return {received: Buffer.concat([Buffer.of(1), theirKey]), theirKey};
}

async function readIntro(p: HandshakeParams, channel: FrameChannel): Promise<Intro> {
  const body = await p.reader.readFrame();
  const legacy = channel === plainChannel ? legacyHandshakeFields(body) : undefined;
  if (legacy) throw new LegacyPeerError(legacy);
  try {
    return decodeIntro(channel.read(body));
  } catch (error) {
    throw new ProtocolError(`bad introduction from peer: ${(error as Error).message}`);
  }
}

/**
 * The initiator proves the password first, and the responder answers with its own proof only
 * once convinced: whoever can merely reach our port learns nothing about the password. Each
 * end's introduction follows its proof, sealed.
 */
async function authenticate(p: HandshakeParams, session: Session, channel: FrameChannel): Promise<void> {
  const proofFrame = (role: Role) => plainChannel.frame(Buffer.concat([Buffer.of(AUTH_PROOF), session.proof(role)]));
  const isProof = (body: Buffer, role: Role) => body[0] === AUTH_PROOF && session.verify(role, body.subarray(1));
  // Not even shaped as a proof: weave 2.8.1 sends its sealed handshake fields here instead.
  const proofBytes = 1 + session.proof(p.role).length;
  const checkShape = (body: Buffer) => {
    if (body.length !== proofBytes && !(body.length === 1 && body[0] === AUTH_REJECT)) throw new LegacyPeerError();
  };
  const intro = channel.frame(encodeIntro(p.intro));
  if (p.role === 'initiator') {
    p.socket.write(proofFrame('initiator'));
    const answer = await p.reader.readFrame();
    checkShape(answer);
    if (answer.length === 1 && answer[0] === AUTH_REJECT) throw new ProtocolError(`the peer refused our password: ${PASSWORDS_DIFFER}`);
    if (!isProof(answer, 'responder')) throw new ProtocolError(`the peer failed to prove the password: ${PASSWORDS_DIFFER}`);
    p.socket.write(intro);
    return;
  }
  const claim = await p.reader.readFrame();
  checkShape(claim);
  if (!isProof(claim, 'initiator')) {
    p.socket.end(plainChannel.frame(Buffer.of(AUTH_REJECT)));
    throw new ProtocolError(`the peer failed to prove the password: ${PASSWORDS_DIFFER}`);
  }
  p.socket.write(Buffer.concat([proofFrame('responder'), intro]));
}

/**
 * Both ends write before they read, so neither waits on the other. Without a password the
 * introduction needs no key and goes out with the header: one round trip in all.
 */
async function run(p: HandshakeParams): Promise<HandshakeResult> {
  const keys = p.passwordKey ? ephemeralKeyPair() : undefined;
  const sentHeader = encodeHeader(p.versions);
  const sentHello = keys ? Buffer.concat([Buffer.of(1), keys.publicKey]) : Buffer.of(0);
  p.socket.write(Buffer.concat([sentHeader, sentHello, ...(keys ? [] : [plainChannel.frame(encodeIntro(p.intro))])]));
  const header = await readHeader(p);
  const hello = await readHello(p, keys !== undefined);
  if (!keys || !p.passwordKey || !hello.theirKey) {
    return {version: header.version, remote: await readIntro(p, plainChannel), channel: plainChannel, encrypted: false};
  }
  const initiatorFirst = (ours: Buffer, theirs: Buffer) => (p.role === 'initiator' ? [ours, theirs] : [theirs, ours]);
  const transcript = Buffer.concat([...initiatorFirst(sentHeader, header.received), ...initiatorFirst(sentHello, hello.received)]);
  const session = deriveSession({ours: keys, theirPublicKey: hello.theirKey, passwordKey: p.passwordKey, transcript, role: p.role});
  const channel: FrameChannel = {frame: body => session.sealer.seal(body), read: body => session.opener.open(body)};
  await authenticate(p, session, channel);
  return {version: header.version, remote: await readIntro(p, channel), channel, encrypted: true, dataPlaneKeys: session.dataPlaneKeys};
}

/**
 * Calls `onTimeout` after `ms`, but only once the I/O that came meanwhile has been read: a process
 * starved of CPU (100 routers starting on 2 cores) runs its due timers before it reads its
 * sockets, and would give up on a reply that came in time, the peer then dialling again. The
 * caller checks whether it is still waiting.
 */
export function ioTimeout(onTimeout: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(() => setImmediate(onTimeout), ms);
}

/**
 * Agrees a protocol version, authenticates a password if there is one, and swaps introductions.
 * Rejects with a ProtocolError (or CryptoError) whose message is the reason `status
 * connections` shows; the caller closes the socket.
 */
export async function handshake(p: HandshakeParams): Promise<HandshakeResult> {
  let timedOut = false;
  let done = false;
  const timer = ioTimeout(() => {
    if (done) return;
    timedOut = true;
    p.socket.destroy();
  }, p.timeoutMs);
  try {
    const result = await run(p);
    done = true;
    return result;
  } catch (error) {
    if (timedOut) throw new ProtocolError(`handshake timed out after ${p.timeoutMs / 1000}s`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
