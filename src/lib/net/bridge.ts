import {ipBatch, IpError} from './ip.js';
import {type LinkInfo, showLink} from './link.js';

/** A non-bridge link holds the bridge's name: only the operator can sort that out. */
export class NotABridgeError extends Error {
  constructor(readonly bridge: string, kind: string) {
    super(`interface "${bridge}" exists but is a ${kind || 'non-bridge'} link, not a bridge; remove it (weave reset) and try again`);
    this.name = 'NotABridgeError';
  }
}

/**
 * The bridge `name`, created up with `mtu` when missing (unless `create` is false: then
 * undefined); an existing one keeps its settings.
 */
export async function ensureBridge(name: string, mtu: number, options?: {create: true}): Promise<LinkInfo>;
export async function ensureBridge(name: string, mtu: number, options: {create: boolean}): Promise<LinkInfo | undefined>;
export async function ensureBridge(name: string, mtu: number, {create} = {create: true}): Promise<LinkInfo | undefined> {
  let link = await showLink(name);
  if (!link) {
    if (!create) return undefined;
    try {
      await ipBatch([
        ['link', 'add', 'name', name, 'type', 'bridge'],
        // Set apart from creation so the kernel keeps it: an MTU given at creation is
        // auto-adjusted to the ports' MTUs and falls back to 1500 when the last port leaves.
        ['link', 'set', 'dev', name, 'mtu', String(mtu), 'up'],
      ]);
    } catch (error) {
      // Another ADD running at the same moment created it first.
      if (!(error instanceof IpError && error.exists)) throw error;
    }
    link = await showLink(name);
    if (!link) throw new Error(`bridge "${name}" vanished while being created`);
  }
  const kind = link.linkinfo?.info_kind ?? '';
  if (kind !== 'bridge') throw new NotABridgeError(name, kind);
  if (!link.flags.includes('UP')) await ipBatch([['link', 'set', 'dev', name, 'up']]);
  return link;
}
