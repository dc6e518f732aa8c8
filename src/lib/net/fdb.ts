import type {BridgeBatch} from './bridge-batch.js';
import {runInNetns} from './nsrun.js';

/** The MAC of a VXLAN device's default entries: frames for no known MAC go to every such remote. */
export const FLOOD_MAC = '00:00:00:00:00:00';

/** One forwarding entry of a link, as `bridge -j fdb show` prints it. */
export interface FdbEntry {
  mac: string;
  /** A VXLAN remote's underlay address. */
  dst?: string;
  /** A VXLAN remote's UDP port, printed only when it differs from the device's. */
  port?: number;
  /** `permanent` for entries added by hand; learned ones have none, or `stale`. */
  state?: string;
  flags: string[];
  /** Set on the bridge's own view of its port (not the device's). */
  master?: string;
  /** The link the entry is on (bridge-wide listings). */
  ifname?: string;
  /** Seconds since the entry was last refreshed (with `-s`). */
  updated?: number;
}

/** A VXLAN remote: where one copy of a flooded frame goes. */
export interface Remote {
  dst: string;
  /** Omitted: the device's own port. */
  port?: number;
  /** The VXLAN network id to send with; omitted: the device's own. */
  vni?: number;
}

/** A change to a VXLAN device's forwarding table. */
export type FdbChange = {op: 'append' | 'del'; mac: string; remote: Remote};

/** A failed `bridge fdb` change, with the failing command and the kernel's reason. */
export class FdbError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`bridge ${command}: ${reason}`);
    this.name = 'FdbError';
  }

  get deviceMissing(): boolean {
    return /Cannot find device/.test(this.reason);
  }
}

function words(dev: string, change: FdbChange): string[] {
  const {dst, port, vni} = change.remote;
  return ['fdb', change.op, change.mac, 'dev', dev, 'dst', dst, ...(port === undefined ? [] : ['port', String(port)]), ...(vni === undefined ? [] : ['vni', String(vni)])];
}

/** The device's own forwarding entries (the bridge's view of it as a port left out). */
export async function fdbEntries(dev: string, netns?: string): Promise<FdbEntry[]> {
  const {stdout} = await runInNetns(netns, 'bridge', ['-j', 'fdb', 'show', 'dev', dev]);
  return (JSON.parse(stdout || '[]') as FdbEntry[]).filter(e => e.master === undefined);
}

/** Every entry of a bridge and of its ports, the bridge's view and the devices' own, with their ages. */
export async function bridgeFdb(bridge: string, netns?: string): Promise<FdbEntry[]> {
  const {stdout} = await runInNetns(netns, 'bridge', ['-j', '-s', 'fdb', 'show', 'br', bridge]);
  return JSON.parse(stdout || '[]') as FdbEntry[];
}

/**
 * Applies every change through `batch` in one request, each line whatever the others did.
 * Idempotent: appending a remote already there is accepted by the kernel, and deleting one
 * already gone is fine.
 */
export async function applyFdb(batch: BridgeBatch, dev: string, changes: readonly FdbChange[]): Promise<void> {
  if (changes.length === 0) return;
  const lines = changes.map(change => words(dev, change));
  for (const [index, reason] of await batch.run(lines)) {
    const gone = changes[index]!.op === 'del' && /No such file or directory/.test(reason);
    if (!gone) throw new FdbError(lines[index]!.join(' '), reason);
  }
}
