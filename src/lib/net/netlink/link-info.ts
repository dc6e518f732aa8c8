import {IpError} from '../ip-error.js';
import type {LinkInfo} from '../link.js';
import {attrText, BRPORT, cstring, IFA, ifaddrmsg, IFF_UP, ifinfomsg, IFLA, INFO, macText, NLM_F, parseAddr, parseAttrs, parseLink, readI32, readU32, RTM, VXLAN} from './message.js';
import type {RouteSocket} from './socket.js';

/** ifi_flags as `ip -j link` names them, for those anyone reads. */
const FLAG_NAMES: readonly [number, string][] = [
  [0x2, 'BROADCAST'],
  [0x8, 'LOOPBACK'],
  [0x1000, 'MULTICAST'],
  [IFF_UP, 'UP'],
  [0x10000, 'LOWER_UP'],
];

const IFLA_INFO_SLAVE_KIND = 4;

const flag = (attrs: Map<number, Buffer>, type: number): boolean | undefined => {
  const b = attrs.get(type);
  return b?.length ? b[0] !== 0 : undefined;
};

/** IFLA_LINKINFO as `ip -j -d` shows it: the kind, a VXLAN device's settings, a bridge port's. */
function linkinfo(b: Buffer | undefined): Pick<LinkInfo, 'linkinfo'> {
  if (!b) return {};
  const info = parseAttrs(b);
  const kind = attrText(info, INFO.KIND);
  const out: NonNullable<LinkInfo['linkinfo']> = kind ? {info_kind: kind} : {};
  const data = info.get(INFO.DATA);
  if (kind === 'vxlan' && data) {
    const d = parseAttrs(data);
    const id = d.get(VXLAN.ID);
    const port = d.get(VXLAN.PORT);
    const local = d.get(VXLAN.LOCAL);
    const learning = flag(d, VXLAN.LEARNING);
    out.info_data = {
      ...(id ? {id: readU32(id)} : {}),
      ...(local?.length === 4 ? {local: [...local].join('.')} : {}),
      ...(port ? {port: port.readUInt16BE(0)} : {}),
      ...(learning === undefined ? {} : {learning}),
    };
  }
  const slave = info.get(INFO.SLAVE_DATA);
  if (attrText(info, IFLA_INFO_SLAVE_KIND) === 'bridge' && slave) {
    const s = parseAttrs(slave);
    const hairpin = flag(s, BRPORT.MODE);
    const isolated = flag(s, BRPORT.ISOLATED);
    out.info_slave_data = {...(hairpin === undefined ? {} : {hairpin}), ...(isolated === undefined ? {} : {isolated})};
  }
  return {linkinfo: out};
}

/** The index of a link's master (a message names it no other way); undefined when it has none. */
export function masterIndex(payload: Buffer): number | undefined {
  const master = parseLink(payload).attrs.get(IFLA.MASTER);
  return master && readU32(master) ? readU32(master) : undefined;
}

/**
 * An RTM_NEWLINK message as the fields `ip -j -d link show` gives of it. `master` is named from
 * `names` (index to name, e.g. from the same dump). A veth's peer in another namespace has
 * link_index and link_netnsid, as `ip` prints them.
 */
export function linkInfo(payload: Buffer, names?: ReadonlyMap<number, string>): LinkInfo {
  const {ifindex, flags, attrs} = parseLink(payload);
  const alias = attrText(attrs, IFLA.IFALIAS);
  const master = attrs.get(IFLA.MASTER);
  const masterName = master && names?.get(readU32(master));
  const peerIndex = attrs.get(IFLA.LINK);
  const netnsid = attrs.get(IFLA.LINK_NETNSID);
  const peer = netnsid ? {...(peerIndex && readU32(peerIndex) !== 0 ? {link_index: readU32(peerIndex)} : {}), link_netnsid: readI32(netnsid)} : {};
  return {
    ifindex,
    ifname: attrText(attrs, IFLA.IFNAME) ?? '',
    address: macText(attrs.get(IFLA.ADDRESS) ?? Buffer.alloc(0)),
    mtu: readU32(attrs.get(IFLA.MTU) ?? Buffer.alloc(4)),
    flags: FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name),
    ...(alias ? {ifalias: alias} : {}),
    ...(masterName ? {master: masterName} : {}),
    ...peer,
    ...linkinfo(attrs.get(IFLA.LINKINFO)),
  };
}

/** A dump's links, each master named by the dump itself. */
export function linkInfos(payloads: readonly Buffer[]): LinkInfo[] {
  const names = new Map(
    payloads.map(p => {
      const {ifindex, attrs} = parseLink(p);
      return [ifindex, attrText(attrs, IFLA.IFNAME) ?? ''];
    }),
  );
  return payloads.map(p => linkInfo(p, names));
}

/**
 * The link `name` as `ip -j -d link show dev` gives it, its master named; an IpError (notFound)
 * when there is none, as `ip` fails.
 */
export async function getLink(socket: RouteSocket, name: string): Promise<LinkInfo> {
  const as = ['link', 'show', 'dev', name];
  const [answer] = await socket.request(as, RTM.GETLINK, 0, ifinfomsg(), [{type: IFLA.IFNAME, value: cstring(name)}]);
  if (!answer) throw new IpError(as, 'the kernel answered with no link');
  const master = masterIndex(answer.payload);
  const [up] = master ? await socket.request(as, RTM.GETLINK, 0, ifinfomsg(master)) : [];
  const names = up ? new Map([[master!, linkInfo(up.payload).ifname]]) : undefined;
  const link = linkInfo(answer.payload, names);
  return {...link, ifname: link.ifname || name};
}

/** Every link of the socket's namespace, masters named. */
export async function dumpLinks(socket: RouteSocket): Promise<LinkInfo[]> {
  return linkInfos((await socket.request(['link', 'show'], RTM.GETLINK, NLM_F.DUMP, ifinfomsg())).map(reply => reply.payload));
}

/** IPv4 addresses by link index as `a.b.c.d/len`, in the kernel's order (as `ip addr show` lists them). */
export async function v4CidrsByLink(socket: RouteSocket): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const {payload} of await socket.request(['addr', 'show'], RTM.GETADDR, NLM_F.DUMP, ifaddrmsg(4, 0, 0, 0))) {
    const addr = parseAddr(payload);
    const local = addr.attrs.get(IFA.LOCAL) ?? addr.attrs.get(IFA.ADDRESS);
    if (local?.length !== 4) continue;
    out.set(addr.ifindex, [...(out.get(addr.ifindex) ?? []), `${[...local].join('.')}/${addr.prefixlen}`]);
  }
  return out;
}
