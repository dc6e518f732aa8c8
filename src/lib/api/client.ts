import {HttpStatusError, NotFoundError} from './errors.js';
import {DEFAULTS} from '../defaults.js';
import {type Call, Endpoint} from './transport.js';

/** One entry of `GET /ip`: a container id and the addresses IPAM holds for it. */
export interface Allocation {
  containerid: string;
  addrs: string[];
}

const seg = encodeURIComponent;

/** `10.32.0.1/12` as the two path segments the API takes: `10.32.0.1/12`, each escaped. */
function cidrPath(cidr: string): string {
  const slash = cidr.indexOf('/');
  if (slash <= 0 || slash === cidr.length - 1) throw new Error(`invalid CIDR "${cidr}": expected <ip>/<prefix length>, e.g. 10.32.0.1/12`);
  return `${seg(cidr.slice(0, slash))}/${seg(cidr.slice(slash + 1))}`;
}

/** `peer=a&peer=b`, as the script sent peers. */
function peerForm(peers: readonly string[]): URLSearchParams {
  const form = new URLSearchParams();
  for (const peer of peers) form.append('peer', peer);
  return form;
}

const FORM = {'Content-Type': 'application/x-www-form-urlencoded'};

/** The original's marker of a container's allocation (the script's `?check-alive=true`). */
const CHECK_ALIVE = '?check-alive=true';

/**
 * The router's HTTP API as the CLI uses it. A 2xx answer gives the body; 404 throws
 * NotFoundError, any other status HttpStatusError, and no answer RouterUnreachableError.
 */
export class RouterClient {
  private readonly endpoint: Endpoint;

  constructor(addr: string = DEFAULTS.httpAddr, connectTimeoutMs?: number) {
    this.endpoint = new Endpoint(addr, connectTimeoutMs);
  }

  get addr(): string {
    return this.endpoint.addr;
  }

  private async call(call: Call): Promise<string> {
    const {status, body} = await this.endpoint.send(call);
    if (status >= 200 && status < 300) return body;
    if (status === 404) throw new NotFoundError(call.method, call.path, body);
    throw new HttpStatusError(call.method, call.path, status, body);
  }

  /** `GET /status[/<sub>...]`: the text page (503 until the router is ready). */
  status(sub: readonly string[] = []): Promise<string> {
    return this.call({method: 'GET', path: ['/status', ...sub.map(seg)].join('/')});
  }

  /** `GET /report` as indented JSON (no trailing newline). */
  report(): Promise<string> {
    return this.call({method: 'GET', path: '/report', headers: {Accept: 'application/json'}});
  }

  /** `GET /report?format=<template>`: the Go template run over the report. */
  reportFormat(format: string): Promise<string> {
    return this.call({method: 'GET', path: `/report?${new URLSearchParams({format})}`});
  }

  /** `POST /connect`: adds `peers` to the targets, or replaces them all with `replace`. */
  async connect(peers: readonly string[], replace = false): Promise<void> {
    const form = peerForm(peers);
    if (replace) form.append('replace', 'true');
    await this.call({method: 'POST', path: '/connect', headers: FORM, body: form.toString()});
  }

  /** `POST /forget`: removes `peers` from the targets. */
  async forget(peers: readonly string[]): Promise<void> {
    const form = peerForm(peers);
    await this.call({method: 'POST', path: '/forget', headers: FORM, body: form.toString()});
  }

  /** `POST /expose/<ip>/<len>`: the address on the bridge, masqueraded unless `skipNat`. */
  async expose(cidr: string, skipNat = false): Promise<void> {
    await this.call({method: 'POST', path: `/expose/${cidrPath(cidr)}${skipNat ? '?skipNAT=true' : ''}`});
  }

  /** `DELETE /expose/<ip>/<len>`: the address and its rules off the bridge again. */
  async hide(cidr: string): Promise<void> {
    await this.call({method: 'DELETE', path: `/expose/${cidrPath(cidr)}`});
  }

  /** `DELETE /name/<id>[/<ip>][?fqdn=]`: weaveDNS forgets the names of `id` (at `ip`, called `fqdn`). */
  async forgetName(id: string, ip?: string, fqdn?: string): Promise<void> {
    const query = fqdn ? `?${new URLSearchParams({fqdn})}` : '';
    await this.call({method: 'DELETE', path: `/name/${seg(id)}${ip ? `/${seg(ip)}` : ''}${query}`});
  }

  /** `PUT /name/<id>/<ip>`: weaveDNS answers `fqdn` with `ip` (ignored when outside its domain). */
  async addName(id: string, ip: string, fqdn: string, checkAlive: boolean): Promise<void> {
    const form = new URLSearchParams({fqdn});
    if (checkAlive) form.append('check-alive', 'true');
    await this.call({method: 'PUT', path: `/name/${seg(id)}/${seg(ip)}`, headers: FORM, body: form.toString()});
  }

  /** `GET /domain`: weaveDNS's domain, `weave.local.` (404 with --no-dns). */
  dnsDomain(): Promise<string> {
    return this.call({method: 'GET', path: '/domain'});
  }

  /** `GET /dns-address` or, with `withPort`, `/dns-address-port`: where weaveDNS answers. */
  dnsAddress(withPort = false): Promise<string> {
    return this.call({method: 'GET', path: withPort ? '/dns-address-port' : '/dns-address'});
  }

  /**
   * `POST /ip/<id>[/<subnet>]`: an address for `id` (the same one again if it has one); may block.
   * `checkAlive`: `id` is a Docker container, whose addresses the router frees when it goes.
   */
  allocate(id: string, subnet?: string, checkAlive = false): Promise<string> {
    return this.call({method: 'POST', path: `/ip/${seg(id)}${subnet ? `/${cidrPath(subnet)}` : ''}${checkAlive ? CHECK_ALIVE : ''}`});
  }

  /** `PUT /ip/<id>/<ip>/<len>`: records that `id` holds this address (`checkAlive` as for allocate). */
  async claim(id: string, cidr: string, checkAlive = false): Promise<void> {
    await this.call({method: 'PUT', path: `/ip/${seg(id)}/${cidrPath(cidr)}${checkAlive ? CHECK_ALIVE : ''}`});
  }

  /** `GET /ip/<id>[/<subnet>]`: the addresses `id` holds (in the default subnet, or in `subnet`). */
  async lookup(id: string, subnet?: string): Promise<string[]> {
    const body = await this.call({method: 'GET', path: `/ip/${seg(id)}${subnet ? `/${cidrPath(subnet)}` : ''}`});
    return body.split(/\s+/).filter(Boolean);
  }

  /** `GET /ip`: every allocation. */
  async allocations(): Promise<Allocation[]> {
    const body = await this.call({method: 'GET', path: '/ip'});
    return (JSON.parse(body) as {owned?: Allocation[] | null}).owned ?? [];
  }

  /** `DELETE /ip/<id>[/<ip>]`: frees all of `id`'s addresses, or the one given. */
  async free(id: string, ip?: string): Promise<void> {
    await this.call({method: 'DELETE', path: `/ip/${seg(id)}${ip ? `/${seg(ip)}` : ''}`});
  }

  /** `GET /ring`: returns once the IPAM ring exists (404 when IPAM is off). */
  async ring(): Promise<void> {
    await this.call({method: 'GET', path: '/ring'});
  }

  /** `DELETE /peer/<name or nickname>`: takes over that peer's addresses; `N IPs taken over from X`. */
  removePeer(peer: string): Promise<string> {
    return this.call({method: 'DELETE', path: `/peer/${seg(peer)}`});
  }

  /** `DELETE /peer`: hands this peer's address ranges to another before it leaves (`weave reset`). */
  async leave(): Promise<void> {
    await this.call({method: 'DELETE', path: '/peer'});
  }
}
