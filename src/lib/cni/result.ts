import {CniError, ErrorCode} from './errors.js';
import {resultFamily} from './version.js';

/** The plugin's own view of a result: the 1.x layout, encoded per cniVersion on the way out. */
export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

export interface IpConfig {
  /** CIDR notation: the address with its subnet's prefix length. */
  address: string;
  gateway?: string;
  interface?: number;
}

export interface Route {
  dst: string;
  gw?: string;
  [extra: string]: unknown;
}

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Result {
  interfaces: Interface[];
  ips: IpConfig[];
  routes: Route[];
  dns: Dns;
}

export function emptyResult(): Result {
  return {interfaces: [], ips: [], routes: [], dns: {}};
}

export function isV6(address: string): boolean {
  return address.includes(':');
}

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function decodeError(what: string): CniError {
  return new CniError(ErrorCode.DecodeFailure, `cannot decode ${what}`, 'the result must follow the CNI spec of its cniVersion');
}

function decodeRoutes(v: unknown, what: string): Route[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw decodeError(`${what}: routes is not a list`);
  return v.map(r => {
    const o = asObject(r);
    if (!o || typeof o.dst !== 'string') throw decodeError(`${what}: a route has no "dst"`);
    return o as Route;
  });
}

function decodeDns(v: unknown): Dns {
  return (asObject(v) as Dns | undefined) ?? {};
}

/** Reads a result (an IPAM plugin's output or a prevResult) written in `version`'s layout. */
export function decodeResult(raw: unknown, version: string, what = 'result'): Result {
  const o = asObject(raw);
  if (!o) throw decodeError(`${what}: not a JSON object`);
  if (resultFamily(version) === 'legacy') {
    const result = emptyResult();
    for (const key of ['ip4', 'ip6'] as const) {
      const ip = asObject(o[key]);
      if (!ip) continue;
      if (typeof ip.ip !== 'string') throw decodeError(`${what}: ${key}.ip is missing`);
      result.ips.push({address: ip.ip, ...(typeof ip.gateway === 'string' ? {gateway: ip.gateway} : {})});
      result.routes.push(...decodeRoutes(ip.routes, what));
    }
    result.dns = decodeDns(o.dns);
    return result;
  }
  const interfaces = o.interfaces ?? [];
  const ips = o.ips ?? [];
  if (!Array.isArray(interfaces) || !Array.isArray(ips)) throw decodeError(`${what}: interfaces or ips is not a list`);
  return {
    interfaces: interfaces.map(i => {
      const io = asObject(i);
      if (!io || typeof io.name !== 'string') throw decodeError(`${what}: an interface has no "name"`);
      return io as unknown as Interface;
    }),
    ips: ips.map(i => {
      const io = asObject(i);
      if (!io || typeof io.address !== 'string') throw decodeError(`${what}: an ip has no "address"`);
      const {version: _family, ...rest} = io;
      return rest as unknown as IpConfig;
    }),
    routes: decodeRoutes(o.routes, what),
    dns: decodeDns(o.dns),
  };
}

/** Writes a result in `version`'s layout, always naming its cniVersion. */
export function encodeResult(result: Result, version: string): Record<string, unknown> {
  const family = resultFamily(version);
  if (family === 'legacy') {
    const out: Record<string, unknown> = {cniVersion: version};
    for (const [key, v6] of [['ip4', false], ['ip6', true]] as const) {
      const ip = result.ips.find(i => isV6(i.address) === v6);
      if (!ip) continue;
      const routes = result.routes.filter(r => isV6(r.dst) === v6).map(({dst, gw}) => (gw ? {dst, gw} : {dst}));
      out[key] = {ip: ip.address, ...(ip.gateway ? {gateway: ip.gateway} : {}), ...(routes.length ? {routes} : {})};
    }
    out.dns = result.dns;
    return out;
  }
  const out: Record<string, unknown> = {cniVersion: version};
  if (result.interfaces.length) out.interfaces = result.interfaces;
  out.ips = result.ips.map(ip => (family === 'current-0.x' ? {version: isV6(ip.address) ? '6' : '4', ...ip} : ip));
  if (result.routes.length) out.routes = result.routes;
  out.dns = result.dns;
  return out;
}

/** Appends `ours` after a chained prevResult, shifting our interface indexes past its interfaces. */
export function mergeResults(prev: Result | undefined, ours: Result): Result {
  if (!prev) return ours;
  const offset = prev.interfaces.length;
  return {
    interfaces: [...prev.interfaces, ...ours.interfaces],
    ips: [...prev.ips, ...ours.ips.map(ip => (ip.interface === undefined ? ip : {...ip, interface: ip.interface + offset}))],
    routes: [...prev.routes, ...ours.routes],
    dns: Object.keys(ours.dns).length ? ours.dns : prev.dns,
  };
}
