import type {LinkInfo} from './link.js';
import type {LinkChange, LinkOps} from './link-ops.js';

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

/** A link holds the device's name but is no VXLAN device: only the operator can sort that out. */
export class NotVxlanError extends Error {
  constructor(readonly device: string, kind: string) {
    super(`interface "${device}" exists but is a ${kind || 'non-VXLAN'} link, not a VXLAN device; remove it (weave reset) and try again`);
    this.name = 'NotVxlanError';
  }
}

/** Whether the existing device has the settings that can only be given at creation. */
function matches(link: LinkInfo, spec: VxlanSpec): boolean {
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
 * differ, then given its MTU and bridge and brought up, through `ops`. An adopted device keeps
 * its forwarding table.
 */
export async function ensureVxlan(spec: VxlanSpec, ops: LinkOps): Promise<EnsuredVxlan> {
  const existing = await ops.show(spec.name, spec.netns);
  const kind = existing?.linkinfo?.info_kind ?? '';
  if (existing && kind !== 'vxlan') throw new NotVxlanError(spec.name, kind);
  const action = !existing ? 'created' : matches(existing, spec) ? 'adopted' : 'recreated';
  const changes: LinkChange[] = [];
  if (action === 'recreated') changes.push({op: 'del', name: spec.name});
  if (action !== 'adopted') changes.push({op: 'add-vxlan', name: spec.name, vni: spec.vni, port: spec.port, learning: spec.learning, ...(spec.local ? {local: spec.local} : {})});
  changes.push({op: 'set', name: spec.name, mtu: spec.mtu, master: spec.bridge, up: true}, {op: 'bridge-port', name: spec.name, isolated: spec.isolated ?? false});
  return {link: await ops.applyAndShow(changes, spec.name, spec.netns), action};
}
