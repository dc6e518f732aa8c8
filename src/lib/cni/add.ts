import {isIP} from 'node:net';
import {DEFAULTS} from '../defaults.js';
import {ensureBridge} from '../net/bridge.js';
import {containsV4, parseCidr} from '../net/cidr.js';
import {IpError} from '../net/ip.js';
import type {LinkInfo} from '../net/link.js';
import {hostVethName} from '../net/veth-names.js';
import {CniError, ErrorCode} from './errors.js';
import {bridgeGateway} from './gateway.js';
import type {Ipam} from './ipam/ipam.js';
import {ipamFor} from './ipam/select.js';
import type {Invocation} from './invocation.js';
import {type IpConfig, type Result, type Route, mergeResults} from './result.js';
import {requireContainerNetns} from './sandbox.js';
import {withUndo} from './undo.js';

const DEFAULT_DST = {4: '0.0.0.0/0', 6: '::/0'} as const;

/** Names which side of a failed veth creation already existed. */
async function vethExistsError(call: Invocation, hostName: string): Promise<CniError> {
  const {ifname, netns, netnsPath} = call.env;
  if (await call.net.showLink(ifname, netnsPath)) {
    return new CniError(ErrorCode.InterfaceExists, `interface "${ifname}" already exists in ${netns}`, 'the runtime must pick a CNI_IFNAME the container does not have yet');
  }
  return new CniError(
    ErrorCode.InterfaceExists,
    `host interface "${hostName}" already exists`,
    `another attachment uses the same container id prefix; run DEL for it first, or remove the link with: ip link del ${hostName}`,
  );
}

/**
 * Each address's gateway: ipam.gateway, else the IPAM result's, else the bridge's address
 * (only looked up when needed: outside the router it costs one more `ip` call). With weave IPAM and a bridge
 * without an address, the bridge is given one and exposed first, as the original does.
 */
async function withGateways(call: Invocation, ipam: Ipam, ips: IpConfig[]): Promise<IpConfig[]> {
  return Promise.all(
    ips.map(async ipc => {
      const v6 = isIP(ipc.address.split('/')[0]!) === 6;
      const configured = call.conf.ipam.gateway && (isIP(call.conf.ipam.gateway) === 6) === v6 ? call.conf.ipam.gateway : undefined;
      let gateway = configured ?? ipc.gateway;
      if (!gateway && !v6 && call.conf.ipam.routes === undefined) {
        gateway = (await bridgeGateway(call.conf.bridge, ipc.address, call.ownBridge)) ?? (await ipam.exposeBridge?.(call, ipc.address));
      }
      return {...ipc, ...(gateway ? {gateway} : {}), interface: 2};
    }),
  );
}

/**
 * Routes to program: the IPAM's, else `ipam.routes` (an empty list means none), else a
 * default route per family via its gateway. A gateway outside the pod's subnet first gets a
 * link-scope host route, or the kernel refuses routes via it.
 */
function routesFor(call: Invocation, ipamRoutes: Route[], ips: IpConfig[]): Route[] {
  const gatewayOf = (family: 4 | 6) => ips.find(i => i.gateway && isIP(i.gateway) === family)?.gateway;
  let routes: Route[];
  if (ipamRoutes.length > 0) routes = ipamRoutes;
  else if (call.conf.ipam.routes !== undefined) routes = call.conf.ipam.routes;
  else routes = ([4, 6] as const).flatMap(f => (gatewayOf(f) ? [{dst: DEFAULT_DST[f]}] : []));
  const filled = routes.map(r => {
    const family = parseCidr(r.dst)?.family ?? 4;
    const gw = r.gw ?? gatewayOf(family);
    return gw ? {dst: r.dst, gw} : {dst: r.dst};
  });
  const onLink: Route[] = [];
  for (const ipc of ips) {
    const cidr = parseCidr(ipc.address);
    if (cidr?.family === 4 && ipc.gateway && !containsV4(cidr, ipc.gateway) && filled.some(r => r.gw === ipc.gateway)) {
      onLink.push({dst: `${ipc.gateway}/32`});
    }
  }
  return [...onLink, ...filled];
}

/**
 * The bridge the pod joins. Inside the router, the router's own, put back with its MAC if it
 * went. A plugin process makes a missing bridge only when another IPAM allocates (no router
 * needed): with weave IPAM a router owns the bridge, makes it at start and puts it back when it
 * goes, and one made here would lack its MAC; the original refused so too.
 */
async function podBridge(call: Invocation): Promise<LinkInfo> {
  const {conf} = call;
  if (call.ownBridge?.name === conf.bridge) return call.ownBridge.link();
  const bridge = await ensureBridge(conf.bridge, conf.mtu || DEFAULTS.mtu, {create: conf.ipam.type !== undefined});
  if (!bridge) {
    throw new CniError(ErrorCode.TryAgainLater, `bridge "${conf.bridge}" not present; did you launch weave?`, 'start the router with `weave launch` (a running router puts its bridge back by itself), then retry');
  }
  return bridge;
}

export async function cmdAdd(call: Invocation): Promise<Result> {
  const {env, conf} = call;
  await requireContainerNetns(env);
  const ipam = ipamFor(call);
  return withUndo(async undo => {
    const bridge = await podBridge(call);
    const mtu = conf.mtu || bridge.mtu;
    const hostName = hostVethName(env.containerId);
    let hostMac;
    try {
      hostMac = await call.net.createVeth({hostName, peerName: env.ifname, netns: env.netnsPath, mtu, bridge: conf.bridge, hairpin: conf.hairpinMode, alias: env.containerId});
    } catch (error) {
      if (error instanceof IpError && error.exists && error.command[1] === 'add') throw await vethExistsError(call, hostName);
      // Created but not finished: deleting the host end removes its peer too.
      await call.net.deleteLink(hostName).catch(() => undefined);
      throw error;
    }
    undo.push(`delete ${hostName}`, () => call.net.deleteLink(hostName));

    // Not in parallel with the veth: a retried ADD of a running pod gets its own address back
    // from IPAM (idempotent per id), and the "interface exists" rollback would then free it.
    const allocated = await ipam.add(call);
    undo.push('release the address', () => ipam.del(call));
    if (allocated.ips.length === 0) {
      throw new CniError(ErrorCode.IpamFailed, `IPAM "${conf.ipam.type ?? 'weave'}" returned no address`, 'check the IPAM configuration: its range may be empty');
    }

    const ips = await withGateways(call, ipam, allocated.ips);
    const routes = routesFor(call, allocated.routes, ips);
    const podLink = await call.net.configureInterface(env.netnsPath, env.ifname, ips.map(i => i.address), routes);
    return mergeResults(conf.prevResult, {
      interfaces: [
        {name: conf.bridge, mac: bridge.address},
        {name: hostName, mac: hostMac},
        {name: env.ifname, mac: podLink.address, sandbox: env.netns},
      ],
      ips,
      routes,
      dns: conf.dns ?? allocated.dns,
    });
  });
}
