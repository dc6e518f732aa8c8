import {createHash, randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {waitUntil} from './mesh-router.js';
import type {Netns} from './netns.js';
import {collect} from './spawn.js';

const PORT = 5001;

/**
 * Runs a socat receiver in `to` writing to `sink` (a socat address), then sends `source` (a
 * socat address; STDIN for `input`) from `from` to `address`; resolves once both have ended well.
 */
async function socatOnce(from: Netns, to: Netns, address: string, source: string, sink: string, input?: string): Promise<void> {
  const server = to.spawnDetached('socat', ['-u', `TCP-LISTEN:${PORT},reuseaddr`, sink]);
  const done = new Promise<number | null>(resolve => server.once('exit', code => resolve(code)));
  try {
    await waitUntil('the receiver to listen', async () => to.exec('ss', ['-Htln', `sport = :${PORT}`]).includes(String(PORT)), 5000, 50);
    // Not execFileSync: a transfer that hangs must leave the test's timeout able to fire.
    const sender = await collect('nsenter', [`--net=${from.path}`, 'socat', '-u', source, `TCP:${address}:${PORT}`], input === undefined ? {} : {input});
    if (sender.exitCode !== 0) throw new Error(`the sending socat failed: ${sender.stderr}`);
    if ((await done) !== 0) throw new Error('the receiving socat failed');
  } finally {
    server.kill();
  }
}

/** Sends `data` over TCP from one namespace to `address` in another, which discards it. */
export function tcpSend(from: Netns, to: Netns, address: string, data: string): Promise<void> {
  return socatOnce(from, to, address, 'STDIN', 'OPEN:/dev/null', data);
}

/**
 * Sends `bytes` random bytes over TCP from one namespace to `address` in another (socat, files
 * on both ends); resolves with the sha256 of what was sent and of what arrived.
 */
export async function tcpTransfer(from: Netns, to: Netns, address: string, bytes: number): Promise<[sent: string, received: string]> {
  const dir = mkdtempSync(join(tmpdir(), 'weave-transfer-'));
  const sent = join(dir, 'sent');
  const received = join(dir, 'received');
  try {
    writeFileSync(sent, randomBytes(bytes));
    await socatOnce(from, to, address, `OPEN:${sent}`, `CREATE:${received}`);
    const hash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    return [hash(sent), hash(received)];
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}
