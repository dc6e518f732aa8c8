import {inspectInterface} from '../net/addressing.js';
import {showLink} from '../net/link.js';
import {hostVethName} from '../net/veth-names.js';
import {CniError, ErrorCode} from './errors.js';
import {ipamFor} from './ipam/select.js';
import type {Invocation} from './invocation.js';
import {isV6} from './result.js';
import {requireContainerNetns} from './sandbox.js';

const normalDst = (dst: string) => (dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : `${dst}/${isV6(dst) ? 128 : 32}`);

/** Verifies the attachment still looks as ADD left it (prevResult); lists every difference. */
export async function cmdCheck(call: Invocation): Promise<void> {
  const {env, conf} = call;
  const prev = conf.prevResult;
  if (!prev) throw new CniError(ErrorCode.InvalidConfig, 'CHECK needs "prevResult" in the config', 'the runtime passes the result of ADD as prevResult');
  await requireContainerNetns(env);
  await ipamFor(call).check(call);

  const problems: string[] = [];
  const hostName = hostVethName(env.containerId);
  const host = await showLink(hostName);
  if (!host) problems.push(`host interface ${hostName} is missing`);
  else if (host.master !== conf.bridge) problems.push(`host interface ${hostName} is not attached to bridge ${conf.bridge}`);

  const index = prev.interfaces.findIndex(i => i.name === env.ifname && i.sandbox);
  const ours = prev.ips.filter(i => i.interface === undefined || i.interface === index);
  const wanted = prev.routes;
  if (!(await showLink(env.ifname, env.netnsPath))) {
    problems.push(`interface ${env.ifname} is missing in ${env.netns}`);
  } else {
    const {link, routes} = await inspectInterface(env.netnsPath, env.ifname, wanted.some(r => isV6(r.dst)));
    const mac = prev.interfaces[index]?.mac;
    if (mac && link.address !== mac) problems.push(`interface ${env.ifname} has MAC ${link.address}, expected ${mac}`);
    const have = new Set(link.addr_info.map(a => `${a.local}/${a.prefixlen}`));
    for (const ipc of ours) if (!have.has(ipc.address)) problems.push(`address ${ipc.address} is missing on ${env.ifname}`);
    for (const route of wanted) {
      const found = routes.some(r => normalDst(r.dst) === normalDst(route.dst) && (!route.gw || r.gateway === route.gw));
      if (!found) problems.push(`route to ${route.dst}${route.gw ? ` via ${route.gw}` : ''} is missing`);
    }
  }
  if (problems.length) {
    throw new CniError(ErrorCode.CheckFailed, `the container's weave network differs from what ADD set up: ${problems.join('; ')}`, 'delete and re-add the container\'s network (the runtime does this when CHECK fails)');
  }
}
