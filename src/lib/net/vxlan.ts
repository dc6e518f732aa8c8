import {type IpCommand, ipBatch} from './ip.js';
import {type LinkInfo, showLink} from './link.js';

/** A kernel VXLAN device as a bridge port. */
export interface VxlanSpec {
  name: string;
  vni: number;
  /** UDP port it listens on and sends to by default. */
  port: number;
  mtu: number;
  /** The bridge it is a port of. */
  bridge: string;
  /** Learn which remote each MAC is behind from the traffic received (else every frame is flooded). */
  learning: boolean;
  /** Source address of the encapsulated traffic; the route's when unset. */
  local?: string;
  /** An isolated bridge port: the bridge relays nothing between it and other isolated ports (another overlay). */
  isolated?: boolean;
  netns?: string;
}

interface VxlanLink extends LinkInfo {
  linkinfo?: LinkInfo['linkinfo'] & {info_data?: {id?: number; port?: number; learning?: boolean; local?: string}};
}

/** A link holds the device's name but is no VXLAN device: only the operator can sort that out. */
export class NotVxlanError extends Error {
  constructor(readonly device: string, kind: string) {
    super(`interface "${device}" exists but is a ${kind || 'non-VXLAN'} link, not a VXLAN device; remove it (weave reset) and try again`);
    this.name = 'NotVxlanError';
  }
}

/** Whether the existing device has the settings that can only be given at creation. */
function matches(link: VxlanLink, spec: VxlanSpec): boolean {
  const data = link.linkinfo?.info_data ?? {};
  return data.id === spec.vni && data.port === spec.port && data.learning === spec.learning && (data.local ?? undefined) === spec.local;
}

export interface EnsuredVxlan {
  link: LinkInfo;
  /** What was done: created anew, recreated (its settings differed), or adopted as it was. */
  action: 'created' | 'recreated' | 'adopted';
}

/**
 * The device `spec.name`, created when missing, recreated when its creation-time settings
 * differ, then given its MTU and bridge and brought up, in one `ip -batch`. An adopted device
 * keeps its forwarding table.
 */
export async function ensureVxlan(spec: VxlanSpec): Promise<EnsuredVxlan> {
  const existing = (await showLink(spec.name, spec.netns)) as VxlanLink | undefined;
  const kind = existing?.linkinfo?.info_kind ?? '';
  if (existing && kind !== 'vxlan') throw new NotVxlanError(spec.name, kind);
  const action = !existing ? 'created' : matches(existing, spec) ? 'adopted' : 'recreated';
  const commands: IpCommand[] = [];
  if (action === 'recreated') commands.push(['link', 'del', 'dev', spec.name]);
  if (action !== 'adopted') {
    const local = spec.local ? ['local', spec.local] : [];
    commands.push(['link', 'add', 'name', spec.name, 'type', 'vxlan', 'id', String(spec.vni), 'dstport', String(spec.port), ...local, spec.learning ? 'learning' : 'nolearning']);
  }
  commands.push(['link', 'set', 'dev', spec.name, 'mtu', String(spec.mtu), 'master', spec.bridge, 'up']);
  commands.push(['link', 'set', 'dev', spec.name, 'type', 'bridge_slave', 'isolated', spec.isolated ? 'on' : 'off'], ['link', 'show', 'dev', spec.name]);
  const shown = await ipBatch(commands, spec.netns);
  return {link: (shown.at(-1) as LinkInfo[])[0]!, action};
}
