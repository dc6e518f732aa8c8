import {parseCidr} from '../../net/cidr.js';
import {httpError, type Request, type Response, type RouteTable} from '../http/routes.js';
import type {Dataplane} from './dataplane.js';

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

class BadRequest extends Error {}

/** Go's strconv.ParseBool, with its error text; absent or empty is false. */
function formBool(form: URLSearchParams, name: string): boolean {
  const value = form.get(name) ?? '';
  if (value === '' || GO_FALSE.includes(value)) return false;
  if (GO_TRUE.includes(value)) return true;
  throw new BadRequest(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

/** `{ip}/{len}` of the path as an IPv4 CIDR, with Go's net.ParseCIDR error text. */
function pathCidr(req: Request): string {
  const text = `${req.params.ip}/${req.params.len}`;
  const cidr = parseCidr(text);
  if (!cidr) throw new BadRequest(`invalid CIDR address: ${text}`);
  if (cidr.family !== 4) throw new BadRequest(`invalid CIDR address: ${text}: only IPv4 addresses can be exposed`);
  return `${cidr.ip}/${cidr.prefix}`;
}

async function answer(action: string, work: () => Promise<void>): Promise<Response> {
  try {
    await work();
    return {status: 204};
  } catch (error) {
    if (error instanceof BadRequest) return httpError(400, error.message);
    return httpError(500, `unable to ${action}: ${(error as Error).message}`);
  }
}

/**
 * POST /expose/{ip}/{len} (form `skipNAT`) as the original; DELETE of the same path is ours:
 * the original's `hide` worked on iptables from the client, ours asks the router.
 */
export function registerDataplaneRoutes(table: RouteTable, dataplane: Pick<Dataplane, 'expose' | 'hide'>): void {
  table.add('POST', '/expose/{ip}/{len}', req =>
    answer('expose', async () => {
      const cidr = pathCidr(req);
      const skipNat = formBool(req.form, 'skipNAT');
      await dataplane.expose(cidr, !skipNat);
    }),
  );
  table.add('DELETE', '/expose/{ip}/{len}', req => answer('hide', () => dataplane.hide(pathCidr(req))));
}
