import {httpError, json, type Request, type Response, type RouteTable, text} from '../http/routes.js';
import {formatAddress} from '../../net/cidr.js';
import {formatCidr, type IpamCidr, IpamInputError, parseAddress, parseIpamCidr, parseSubnet} from './range.js';
import {CANCELLED} from './pending.js';
import {IpamWaitError, type IpamService} from './service.js';
import {IpamStoreFullError} from './store-errors.js';

/**
 * A bad request gets 400 with the message, as the original's badRequest(); a change refused
 * while the disk is full gets 507 (Insufficient Storage: try again later), with what is needed.
 */
async function refusalsOn(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof IpamInputError) return httpError(400, error.message);
    if (error instanceof IpamStoreFullError) return httpError(507, error.message);
    throw error;
  }
}

function subnetOf(req: Request): IpamCidr {
  return parseSubnet(`${req.params.ip}/${req.params.prefixlen}`);
}

function addresses(cidrs: IpamCidr[]): Response {
  return text(cidrs.map(formatCidr).join(' '));
}

/**
 * A CNI plugin's allocation (origin=cni, sent only by ours) waits at most `cniWaitMs`, then gets
 * 503 with the reason; other clients (the original's plugin, `weave prime`) wait as there.
 */
async function allocate(service: IpamService, req: Request, subnet: IpamCidr, cniWaitMs: number, notRunning: NotRunning | undefined): Promise<Response> {
  const flags = {container: req.form.get('check-alive') === 'true', cni: req.form.get('origin') === 'cni'};
  if (flags.container && (await notRunning?.(req.params.id!))) return text(CANCELLED);
  let result;
  try {
    result = flags.cni ? await service.allocateWithin(req.params.id!, subnet, flags, cniWaitMs, req.signal) : await service.allocate(req.params.id!, subnet, flags, req.signal);
  } catch (error) {
    if (error instanceof IpamWaitError) return httpError(503, error.reason);
    throw error;
  }
  if (result === CANCELLED) return text(CANCELLED);
  return text(`${formatAddress(result.addr)}/${subnet.prefix}`);
}

/**
 * With the router watching Docker: whether a container is known not to run. A check-alive
 * allocation or claim for it is then `cancelled` (200), as the original's.
 */
export type NotRunning = (id: string) => Promise<boolean>;

/**
 * The original's IPAM routes (ipam/http.go), plus POST /ip-gc/cni (ours: frees the CNI
 * allocations of attachments that no longer exist). Registered only when IPAM is on, so that
 * they answer 404 otherwise, as there.
 */
export function registerIpamRoutes(table: RouteTable, service: IpamService, cniWaitMs: number, notRunning?: NotRunning): void {
  table
    .add('GET', '/ipinfo/defaultsubnet', () => text(formatCidr(service.defaultSubnet)))
    // No address tracker (AWS VPC, no-masq-local) on this router.
    .add('GET', '/ipinfo/tracker', () => text('\n'))
    .add('PUT', '/ip/{id}/{ip}/{prefixlen}', req =>
      refusalsOn(async () => {
        const cidr = parseIpamCidr(`${req.params.ip}/${req.params.prefixlen}`);
        const flags = {container: req.form.get('check-alive') === 'true', noErrorOnUnknown: req.form.get('noErrorOnUnknown') === 'true'};
        if (flags.container && (await notRunning?.(req.params.id!))) return text(CANCELLED);
        try {
          const result = await service.claim(req.params.id!, cidr, flags, req.signal);
          return result === CANCELLED ? text(CANCELLED) : {status: 204};
        } catch (error) {
          if (error instanceof IpamInputError) return httpError(400, `Unable to claim: ${error.message}`);
          throw error;
        }
      }),
    )
    // A GET that changes: it starts the ring's consensus, so it is root's as the other changes.
    .add(
      'GET',
      '/ring',
      async req => {
        await service.prime(req.signal);
        return text('');
      },
      {changes: true},
    )
    .add('GET', '/ip/{id}/{ip}/{prefixlen}', req => refusalsOn(async () => addresses(await service.lookup(req.params.id!, subnetOf(req)))))
    .add('GET', '/ip/{id}', async req => addresses(await service.lookup(req.params.id!)))
    .add('GET', '/ip', async () => {
      const owned = await service.list();
      // Go's json.Encoder: a nil slice is null, and a newline ends the document.
      const body = owned.length === 0 ? null : owned.map(o => ({containerid: o.id, addrs: o.cidrs.map(formatCidr)}));
      return {status: 200, body: `${JSON.stringify({owned: body})}\n`, contentType: 'application/json'};
    })
    .add('POST', '/ip/{id}/{ip}/{prefixlen}', req => refusalsOn(() => allocate(service, req, subnetOf(req), cniWaitMs, notRunning)))
    .add('POST', '/ip/{id}', req => refusalsOn(() => allocate(service, req, service.defaultSubnet, cniWaitMs, notRunning)))
    .add('DELETE', '/ip/{id}/{ip}', req =>
      refusalsOn(async () => {
        const addr = parseAddress(req.params.ip!);
        try {
          await service.free(req.params.id!, addr);
        } catch (error) {
          if (error instanceof IpamInputError) return httpError(400, `Unable to free: ${error.message}`);
          throw error;
        }
        return {status: 204};
      }),
    )
    .add('DELETE', '/ip/{id}', req =>
      refusalsOn(async () => {
        await service.delete(req.params.id!);
        return {status: 204};
      }),
    )
    .add('POST', '/ip-gc/cni', req => refusalsOn(async () => json({freed: await service.collectCni(req.form.getAll('keep'))})));
}

/**
 * DELETE /peer and DELETE /peer/{name}: registered by the router whether IPAM is on or not (the
 * original answers 204, and 200 with an empty body, without IPAM).
 */
export function registerPeerRoutes(table: RouteTable, service: IpamService | undefined): void {
  table
    .add('DELETE', '/peer', () =>
      refusalsOn(async () => {
        await service?.shutdown();
        return {status: 204};
      }),
    )
    .add('DELETE', '/peer/{name}', req =>
      refusalsOn(async () => {
        if (!service) return text('');
        const name = req.params.name!;
        return text(`${await service.takeOver(name)} IPs taken over from ${name}\n`);
      }),
    );
}
