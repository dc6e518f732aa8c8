import {isIP} from 'node:net';
import {type IpCommand, ipBatch} from './ip.js';
import type {LinkInfo} from './link.js';

export interface RouteSpec {
  dst: string;
  gw?: string;
}

/**
 * Brings `ifname` up inside `netns` with its addresses and routes, in one `ip -batch`
 * entered once through nsenter; returns the link as it now is.
 */
export async function configureInterface(netns: string, ifname: string, addresses: readonly string[], routes: readonly RouteSpec[]): Promise<LinkInfo> {
  const commands: IpCommand[] = [['link', 'set', 'dev', ifname, 'up']];
  for (const address of addresses) {
    // IPv6 duplicate address detection would hold the address unusable for a second or more.
    commands.push(['addr', 'add', address, 'dev', ifname, ...(address.includes(':') ? ['nodad'] : [])]);
  }
  for (const route of routes) {
    const host = `/${isIP(route.dst.split('/')[0]!) === 6 ? 128 : 32}`;
    commands.push(
      route.gw
        ? ['route', 'add', route.dst, 'via', route.gw, 'dev', ifname]
        : ['route', 'add', route.dst, 'dev', ifname, ...(route.dst.endsWith(host) ? ['scope', 'link'] : [])],
    );
  }
  commands.push(['link', 'show', 'dev', ifname]);
  const shown = await ipBatch(commands, netns);
  return (shown.at(-1) as LinkInfo[])[0]!;
}

export interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}

export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** What CHECK compares against prevResult: the link, its addresses and its routes. */
export async function inspectInterface(
  netns: string,
  ifname: string,
  withV6Routes: boolean,
): Promise<{link: LinkInfo & {addr_info: AddrInfo[]}; routes: RouteInfo[]}> {
  const [[addrs, v4], v6] = await Promise.all([
    ipBatch([['addr', 'show', 'dev', ifname], ['route', 'show', 'dev', ifname]], netns),
    // `ip -batch` takes no family option per line, so IPv6 routes need a call of their own.
    withV6Routes ? ipBatch([['route', 'show', 'dev', ifname]], netns, ['-6']) : Promise.resolve([[]]),
  ]);
  const link = (addrs as (LinkInfo & {addr_info: AddrInfo[]})[])[0]!;
  return {link, routes: [...(v4 as RouteInfo[]), ...(v6[0] as RouteInfo[])]};
}
