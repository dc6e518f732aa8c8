import {isIP} from 'node:net';
import {DEFAULTS} from '../defaults.js';
import {parseCidr} from '../net/cidr.js';
import {validateInterfaceName} from './env.js';
import {CniError, ErrorCode} from './errors.js';
import {decodeResult, type Dns, type Result, type Route} from './result.js';
import {requireSupported} from './version.js';

export interface IpamConf {
  /** Delegate IPAM to this plugin in CNI_PATH; absent means weave's own IPAM through the router. */
  type?: string;
  subnet?: string;
  gateway?: string;
  /** Absent: a default route via the gateway. Present, even empty: exactly these routes. */
  routes?: Route[];
}

export interface Attachment {
  containerID: string;
  ifname: string;
}

/** `weaveDns` in the conflist: pods' names in weaveDNS, on unless `false`; `{"domain": ...}` names them under that domain. */
export interface WeaveDnsConf {
  enabled: boolean;
  domain?: string;
}

export interface NetConf {
  cniVersion: string;
  name: string;
  bridge: string;
  /** 0: the bridge's MTU. */
  mtu: number;
  hairpinMode: boolean;
  ipam: IpamConf;
  dns?: Dns;
  weaveDns: WeaveDnsConf;
  prevResult?: Result;
  /** GC's list of attachments still in use. */
  validAttachments?: Attachment[];
  /** The config exactly as received, handed on to a delegated IPAM plugin. */
  raw: Record<string, unknown>;
}

function invalid(msg: string, details: string): CniError {
  return new CniError(ErrorCode.InvalidConfig, msg, details);
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A field's value; absent, null and (as Go's zero value) "" all mean unset. */
function optional<T>(o: Record<string, unknown>, key: string, type: 'string' | 'number' | 'boolean', where: string): T | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== type) throw invalid(`${where}"${key}" must be a ${type}`, `fix "${key}" in the network config`);
  return v as T;
}

function parseRoutes(v: unknown): Route[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid('"ipam.routes" must be a list', 'write routes as [{"dst": "10.0.0.0/8", "gw": "10.32.0.1"}]');
  return v.map(r => {
    if (!isObject(r) || typeof r.dst !== 'string' || !parseCidr(r.dst)) {
      throw invalid(`invalid route ${JSON.stringify(r)} in "ipam.routes"`, 'each route needs "dst" as a CIDR, e.g. "0.0.0.0/0"');
    }
    if (r.gw !== undefined && (typeof r.gw !== 'string' || !isIP(r.gw))) {
      throw invalid(`invalid "gw" in route ${JSON.stringify(r)}`, 'a route\'s "gw" is an IP address');
    }
    return r as Route;
  });
}

function parseIpam(v: unknown): IpamConf {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw invalid('"ipam" must be an object', 'write "ipam": {} for weave IPAM, or {"type": "host-local", ...}');
  const type = optional<string>(v, 'type', 'string', 'ipam.');
  if (type !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(type)) {
    throw invalid(`invalid "ipam.type" "${type}"`, 'ipam.type names a plugin file in CNI_PATH, without any "/"');
  }
  const subnet = optional<string>(v, 'subnet', 'string', 'ipam.');
  if (subnet !== undefined && !parseCidr(subnet)) {
    throw invalid(`invalid "ipam.subnet" "${subnet}"`, 'write the subnet as a CIDR, e.g. "10.32.0.0/12"');
  }
  const gateway = optional<string>(v, 'gateway', 'string', 'ipam.');
  if (gateway !== undefined && !isIP(gateway)) {
    throw invalid(`invalid "ipam.gateway" "${gateway}"`, 'write the gateway as an IP address, e.g. "10.32.0.1"');
  }
  const routes = parseRoutes(v.routes);
  return {
    ...(type ? {type} : {}),
    ...(subnet ? {subnet} : {}),
    ...(gateway ? {gateway} : {}),
    ...(routes ? {routes} : {}),
  };
}

function parseWeaveDns(v: unknown): WeaveDnsConf {
  const how = 'write "weaveDns": false to give pods no names, or {"domain": "pods.weave.local."} (inside the router\'s --dns-domain)';
  if (v === undefined || v === null || v === true) return {enabled: true};
  if (v === false) return {enabled: false};
  if (!isObject(v)) throw invalid('"weaveDns" must be false or an object', how);
  const domain = optional<string>(v, 'domain', 'string', 'weaveDns.');
  if (domain !== undefined && !/^([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)*[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.?$/.test(domain)) {
    throw invalid(`invalid "weaveDns.domain" "${domain}"`, how);
  }
  return {enabled: true, ...(domain ? {domain: domain.toLowerCase()} : {})};
}

function parseAttachments(v: unknown): Attachment[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(a => isObject(a) && typeof a.containerID === 'string' && typeof a.ifname === 'string')) {
    throw invalid('"cni.dev/valid-attachments" must be a list of {containerID, ifname}', 'the runtime sends this list with GC');
  }
  return v as Attachment[];
}

function parseNetFields(raw: Record<string, unknown>): {bridge: string; mtu: number; hairpinMode: boolean} {
  const bridge = optional<string>(raw, 'bridge', 'string', '') ?? DEFAULTS.weaveBridge;
  try {
    validateInterfaceName(bridge, '"bridge"');
  } catch (error) {
    throw invalid((error as CniError).message, 'name the bridge with 1 to 15 letters, digits, "-" or "_"');
  }
  const mtu = optional<number>(raw, 'mtu', 'number', '') ?? 0;
  if (!Number.isInteger(mtu) || (mtu !== 0 && (mtu < 68 || mtu > 65535))) {
    throw invalid(`invalid "mtu" ${mtu}`, 'set "mtu" to a whole number from 68 to 65535, or 0 for the bridge\'s MTU');
  }
  const hairpinMode = optional<boolean>(raw, 'hairpinMode', 'boolean', '') ?? true;
  return {bridge, mtu, hairpinMode};
}

/**
 * Parses the network config from stdin, rejecting what weave-net cannot honour. With
 * `netFields` false (weave-ipam under another plugin) only the IPAM part is read.
 */
export function parseConfig(stdin: string, netFields = true): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (error) {
    throw new CniError(ErrorCode.DecodeFailure, 'the network config on stdin is not valid JSON', (error as Error).message);
  }
  if (!isObject(raw)) throw new CniError(ErrorCode.DecodeFailure, 'the network config on stdin is not a JSON object', 'send the network config as a JSON object');
  const cniVersion = requireSupported(optional<string>(raw, 'cniVersion', 'string', ''));

  if (netFields && raw.isGateway === true) {
    throw new CniError(ErrorCode.UnsupportedField, 'weave-net does not support "isGateway"', 'remove "isGateway": the weave bridge gets its address from `weave expose`');
  }
  if (netFields && raw.ipMasq === true) {
    throw new CniError(ErrorCode.UnsupportedField, 'weave-net does not support "ipMasq"', 'remove "ipMasq": `weave expose` sets up masquerading for the weave network');
  }
  const name = optional<string>(raw, 'name', 'string', '') ?? '';
  const {bridge, mtu, hairpinMode} = netFields ? parseNetFields(raw) : {bridge: DEFAULTS.weaveBridge, mtu: 0, hairpinMode: true};
  const dns = raw.dns ?? undefined;
  if (dns !== undefined && !isObject(dns)) throw invalid('"dns" must be an object', 'write "dns": {"nameservers": ["10.32.0.1"]}');
  const conf: NetConf = {
    cniVersion,
    name,
    bridge,
    mtu,
    hairpinMode,
    ipam: parseIpam(raw.ipam),
    weaveDns: parseWeaveDns(raw.weaveDns),
    raw,
  };
  if (dns) conf.dns = dns as Dns;
  if (raw.prevResult !== undefined && raw.prevResult !== null) conf.prevResult = decodeResult(raw.prevResult, cniVersion, 'prevResult');
  const attachments = parseAttachments(raw['cni.dev/valid-attachments']);
  if (attachments) conf.validAttachments = attachments;
  return conf;
}
