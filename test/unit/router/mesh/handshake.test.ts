import assert from 'node:assert/strict';
import type {Socket} from 'node:net';
import {passwordKey} from '../../../../src/lib/router/mesh/crypto.js';
import {FrameReader} from '../../../../src/lib/router/mesh/framing.js';
import {handshake, type HandshakeResult, type Intro} from '../../../../src/lib/router/mesh/handshake.js';
import {OUR_VERSIONS, type VersionRange} from '../../../../src/lib/router/mesh/protocol.js';
import {socketPair} from '../../../helpers/socket-pair.js';

const introA: Intro = {name: 'aa:00:00:00:00:01', nickName: 'host-a', uid: 11n, shortId: 1, connId: 101n, port: 6783, trusted: false};
const introB: Intro = {name: 'aa:00:00:00:00:02', nickName: 'host-b', uid: 22n, shortId: 2, connId: 202n, port: 7783, trusted: true};

interface Side {
  password?: string;
  versions?: VersionRange;
  intro: Intro;
}

type Outcome = {ok: HandshakeResult; reader: FrameReader; socket: Socket} | {error: Error};

async function run(socket: Socket, role: 'initiator' | 'responder', side: Side, timeoutMs: number): Promise<Outcome> {
  const reader = new FrameReader(socket);
  try {
    const ok = await handshake({
      socket,
      reader,
      role,
      versions: side.versions ?? OUR_VERSIONS,
      ...(side.password !== undefined ? {passwordKey: await passwordKey(side.password)} : {}),
      intro: side.intro,
      timeoutMs,
    });
    return {ok, reader, socket};
  } catch (error) {
    return {error: error as Error};
  }
}

/** The initiator dials, the responder accepts; both handshakes run at once over real TCP. */
async function both(initiator: Side, responder: Side, timeoutMs = 5000): Promise<{a: Outcome; b: Outcome; close(): void}> {
  const pair = await socketPair();
  const [a, b] = await Promise.all([run(pair.client, 'initiator', initiator, timeoutMs), run(pair.server, 'responder', responder, timeoutMs)]);
  return {a, b, close: pair.close};
}

function ok(o: Outcome): {ok: HandshakeResult; reader: FrameReader; socket: Socket} {
  if ('error' in o) throw o.error;
  return o;
}

const reason = (o: Outcome) => ('error' in o ? o.error.message : 'no error');

describe('mesh handshake', () => {
  it('swaps introductions in the clear without a password', async () => {
    const {a, b, close} = await both({intro: introA}, {intro: introB});
    try {
      assert.deepEqual(ok(a).ok.remote, introB);
      assert.deepEqual(ok(b).ok.remote, introA);
      assert.equal(ok(a).ok.version, 2);
      assert.equal(ok(a).ok.encrypted, false);
    } finally {
      close();
    }
  });

  it('agrees the highest common version', async () => {
    const {a, b, close} = await both({intro: introA}, {intro: introB, versions: {min: 1, max: 1}});
    try {
      assert.equal(ok(a).ok.version, 1);
      assert.equal(ok(b).ok.version, 1);
    } finally {
      close();
    }
  });

  it('refuses a peer whose versions do not overlap ours, on both ends', async () => {
    const {a, b, close} = await both({intro: introA}, {intro: introB, versions: {min: 3, max: 4}});
    try {
      assert.equal(reason(a), 'remote version range [3,4] is incompatible with ours [1,2]');
      assert.equal(reason(b), 'remote version range [1,2] is incompatible with ours [3,4]');
    } finally {
      close();
    }
  });

  it('with the same password: introductions and every frame after are encrypted both ways', async () => {
    const {a, b, close} = await both({intro: introA, password: 's3cret'}, {intro: introB, password: 's3cret'});
    try {
      const A = ok(a);
      const B = ok(b);
      assert.deepEqual(A.ok.remote, introB);
      assert.equal(A.ok.encrypted, true);
      A.socket.write(A.ok.channel.frame(Buffer.from('from a')));
      B.socket.write(B.ok.channel.frame(Buffer.from('from b')));
      assert.equal(B.ok.channel.read(await B.reader.readFrame()).toString(), 'from a');
      assert.equal(A.ok.channel.read(await A.reader.readFrame()).toString(), 'from b');
    } finally {
      close();
    }
  });

  it('refuses a peer with another password, saying so on both ends', async () => {
    const {a, b, close} = await both({intro: introA, password: 'one'}, {intro: introB, password: 'two'});
    try {
      assert.match(reason(a), /^the peer refused our password: the two hosts have different passwords \(set the same WEAVE_PASSWORD on every host\)$/);
      assert.match(reason(b), /^the peer failed to prove the password: the two hosts have different passwords/);
    } finally {
      close();
    }
  });

  it('refuses a peer without a password when we have one, and the other way round', async () => {
    const {a, b, close} = await both({intro: introA, password: 'one'}, {intro: introB});
    try {
      assert.equal(reason(a), 'password specified, but peer requested an unencrypted connection');
      assert.equal(reason(b), 'no password specified, but peer requested an encrypted connection');
    } finally {
      close();
    }
  });

  it('gives up on a peer that says nothing, with a timeout as the reason', async () => {
    const pair = await socketPair();
    try {
      const outcome = await run(pair.client, 'initiator', {intro: introA}, 200);
      assert.equal(reason(outcome), 'handshake timed out after 0.2s');
    } finally {
      pair.close();
    }
  });

  it('refuses a peer that closes half way, naming the header it never sent', async () => {
    const pair = await socketPair();
    try {
      pair.server.end(Buffer.from('wea'));
      const outcome = await run(pair.client, 'initiator', {intro: introA}, 2000);
      assert.equal(reason(outcome), 'failed to receive remote protocol header: connection closed by peer');
    } finally {
      pair.close();
    }
  });
});
