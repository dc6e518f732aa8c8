import {type IpCommand, ipBatch, IpError} from '../../net/ip.js';
import {DEFAULTS} from '../../defaults.js';
import {dockerOf, readHostLinks} from './host.js';
import {Iptables} from './iptables.js';
import {overlayDevice} from './overlay.js';
import {RELAY_PREFIX} from './relay-plan.js';
import {removeScript} from './plan.js';
import {baseRules} from './rules.js';

export interface TeardownOptions {
  bridge: string;
  /** --port the router ran with (the docker0 rules name it). */
  meshPort?: number;
  netns?: string;
}

/**
 * `weave reset`'s destroy_bridge: the bridge, the overlay's VXLAN devices (its relays' too) and every `vethwe*` link go, then every rule and
 * chain of ours. Safe to run twice, or over a half-built set-up.
 */
export async function teardownDataplane(options: TeardownOptions): Promise<void> {
  const {bridge, netns} = options;
  const iptables = new Iptables(netns);
  const [host, saved] = await Promise.all([readHostLinks(bridge, netns), iptables.save()]);
  const vxlan = overlayDevice(options.meshPort ?? DEFAULTS.port);
  const links = host.names.filter(name => name === bridge || name === vxlan || name.startsWith('vethwe') || name.startsWith(RELAY_PREFIX));
  await deleteLinks(links, netns);
  const base = baseRules({bridge, meshPort: options.meshPort ?? DEFAULTS.port, docker: dockerOf(host)});
  await iptables.restore(removeScript(saved, base, bridge));
}

async function deleteLinks(names: readonly string[], netns: string | undefined): Promise<void> {
  if (names.length === 0) return;
  const commands: IpCommand[] = names.map(name => ['link', 'del', 'dev', name]);
  try {
    await ipBatch(commands, netns);
  } catch (error) {
    // A veth goes with its peer: deleting one end first leaves the other "not found". Retry one by one.
    if (!(error instanceof IpError && error.notFound)) throw error;
    for (const command of commands) {
      try {
        await ipBatch([command], netns);
      } catch (inner) {
        if (!(inner instanceof IpError && inner.notFound)) throw inner;
      }
    }
  }
}
