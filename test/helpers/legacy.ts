import assert from 'node:assert/strict';
import {type ChildProcess, spawn} from 'node:child_process';
import {once} from 'node:events';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import type {Netns} from './netns.js';
import {sentBy, tcpStreams} from './pcap.js';

import {originalFixturePath as legacyFixture} from './fixtures.js';

export {legacyFixture};

/**
 * The handshake at the start of a weave 2.x mesh stream: the 7-byte header, the encryption flag
 * (and the 32-byte public key when it is 1), then the first length-prefixed message.
 */
export function meshHandshake(stream: Buffer): Buffer {
  const flagAt = 7;
  const frameAt = flagAt + (stream[flagAt] === 1 ? 33 : 1);
  return stream.subarray(0, frameAt + 4 + stream.readUInt32BE(frameAt));
}

/** What each original router sent first in a capture: fxa (192.168.91.1) listened, fxb dialled it. */
export function capturedHandshakes(capture: 'mesh-nopassword.pcap' | 'mesh-password-fixture-secret.pcap'): {listener: Buffer; dialer: Buffer} {
  const streams = tcpStreams(legacyFixture(capture));
  return {listener: meshHandshake(sentBy(streams, '192.168.91.1:6783')), dialer: meshHandshake(sentBy(streams, '192.168.91.2'))};
}

const HARNESS = fileURLToPath(new URL('./legacy-peer.ts', import.meta.url));

/** A process replaying a captured weave 2.8.1 router (legacy-peer.ts) in a namespace. */
export class ReplayingPeer {
  /** Connections it accepted (our router dialled it). */
  accepted = 0;

  private constructor(readonly child: ChildProcess) {}

  static async start(ns: Netns, capture: Parameters<typeof capturedHandshakes>[0], dialIp?: string): Promise<ReplayingPeer> {
    const child = spawn('nsenter', [`--net=${ns.path}`, process.execPath, '--import', 'tsx', HARNESS, capture, ...(dialIp ? [dialIp] : [])], {stdio: ['ignore', 'pipe', 'inherit']});
    const peer = new ReplayingPeer(child);
    const lines = createInterface({input: child.stdout!});
    const listening = once(lines, 'line');
    lines.on('line', line => {
      if ((JSON.parse(line) as {event: string}).event === 'accepted') peer.accepted++;
    });
    const [first] = (await listening) as [string];
    assert.equal((JSON.parse(first) as {event: string}).event, 'listening');
    return peer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}
