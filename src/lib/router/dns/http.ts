import {isIPv4} from 'node:net';
import {httpError, type Request, type Response, type RouteTable, text} from '../http/routes.js';
import type {DnsService} from './service.js';

const badAddress = (ip: string) => httpError(400, `invalid IP address "${ip}": expected an IPv4 address such as 10.32.0.1`);

/** DELETE: a part missing from the path (or `*`, or no fqdn) matches every entry, as the original. */
function remove(service: DnsService, req: Request): Response {
  const {container, ip} = req.params;
  if (ip !== undefined && ip !== '*' && !isIPv4(ip)) return badAddress(ip);
  const fqdn = req.form.get('fqdn');
  service.delete({
    ...(container !== undefined && container !== '*' ? {containerId: container} : {}),
    ...(ip !== undefined && ip !== '*' ? {address: ip} : {}),
    ...(fqdn ? {hostname: fqdn} : {}),
  });
  return {status: 204};
}

/**
 * The original's nameserver routes. Registered only when weaveDNS is on, so that they answer 404
 * with --no-dns, as there. `check-alive` is accepted and has no effect: a name goes with its
 * container's IPAM allocation instead. PUT takes `relative=true` besides (ours): `fqdn` is then
 * a name inside the domain, which the CNI plugin need not know.
 */
export function registerDnsRoutes(table: RouteTable, service: DnsService): void {
  const {host, port, domain} = service.options;
  table
    .add('GET', '/domain', () => text(domain))
    .add('GET', '/dns-address', () => text(host))
    .add('GET', '/dns-address-port', () => text(`${host}:${port}`))
    .add('PUT', '/name/{container}/{ip}', req => {
      const {container, ip} = req.params as {container: string; ip: string};
      if (!isIPv4(ip)) return badAddress(ip);
      // relative=true (ours, the CNI plugin's): the name is inside our domain, which it need not know.
      const fqdn = req.form.get('fqdn') ?? '';
      // A name outside the domain is ignored, as the original does.
      service.add(req.form.get('relative') === 'true' && fqdn ? service.qualify(fqdn) : fqdn, container, ip);
      return {status: 204};
    })
    .add('DELETE', '/name/{container}/{ip}', req => remove(service, req))
    .add('DELETE', '/name/{container}', req => remove(service, req))
    .add('DELETE', '/name', req => remove(service, req))
    .add('GET', '/name', () => {
      const entries = service.entries.sorted().map(e => ({Hostname: e.hostname, Origin: e.origin, ContainerID: e.containerId, Address: e.address, Version: e.version, Tombstone: e.tombstone}));
      return {status: 200, body: `${JSON.stringify(entries)}\n`, contentType: 'application/json'};
    });
}
