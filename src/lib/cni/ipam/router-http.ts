import {networkText} from '../../router/ipam/range.js';
import {CniError, ErrorCode} from '../errors.js';
import type {Invocation} from '../invocation.js';
import {routerDown, type RouterIpam} from './weave.js';

type Reply = {status: number; body: string};

/**
 * The router's IPAM over its HTTP API, for a plugin run as its own process (the cold path).
 * The HTTP client is imported only here, so plugins with delegated IPAM never pay for it.
 */
export async function routerOverHttp(call: Invocation): Promise<RouterIpam> {
  const [{DEFAULT_HTTP_ADDR, Endpoint}, {RouterUnreachableError}] = await Promise.all([import('../../api/transport.js'), import('../../api/errors.js')]);
  const endpoint = new Endpoint(call.processEnv.WEAVE_HTTP_ADDR || DEFAULT_HTTP_ADDR);

  const send = async (method: string, path: string, form?: URLSearchParams): Promise<Reply> => {
    try {
      return await endpoint.send({method, path, headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: form?.toString() ?? ''});
    } catch (error) {
      if (error instanceof RouterUnreachableError) throw routerDown(`${error.addr}: ${error.reason}`);
      throw error;
    }
  };

  // 503: the router refused the change for now (its disk is full); the body says what is needed.
  const fail = (what: string, reply: Reply) =>
    reply.status === 503
      ? new CniError(ErrorCode.TryAgainLater, `${what}: ${reply.body.trim()}`, 'free space where the router keeps its state (--db-prefix)')
      : new CniError(ErrorCode.Internal, `${what}: ${reply.status}: ${reply.body.trim()}`, 'see the weave router\'s log (docker logs weave) for the cause');
  const enc = encodeURIComponent;

  return {
    async allocate(id, subnet) {
      const reply = await send('POST', `/ip/${enc(id)}${subnet ? `/${subnet}` : ''}`, new URLSearchParams({origin: 'cni'}));
      if (reply.status === 404) throw new CniError(ErrorCode.InvalidConfig, 'weave IPAM is disabled on this router (--ipalloc-range "")', 'set "ipam": {"type": ...} in the network config, or launch weave with an --ipalloc-range');
      if (reply.status !== 200 || reply.body === 'cancelled') throw fail('unable to allocate IP address', reply);
      return reply.body.trim();
    },
    async release(id) {
      const reply = await send('DELETE', `/ip/${enc(id)}`);
      if (reply.status !== 204 && !reply.body.includes('Delete: no addresses for')) throw fail('unable to release IP address', reply);
    },
    async releaseAllBut(keep) {
      const reply = await send('POST', '/ip-gc/cni', new URLSearchParams(keep.map((k): [string, string] => ['keep', k])));
      if (reply.status !== 200) throw fail('unable to release stale IP addresses', reply);
    },
    async exposeBridge(podAddress) {
      const reply = await send('POST', `/ip/weave:expose/${networkText(podAddress)}`);
      if (reply.status !== 200) throw fail('unable to allocate an address for the bridge', reply);
      const cidr = reply.body.trim();
      const exposed = await send('POST', `/expose/${cidr}`);
      if (exposed.status !== 204) throw fail(`unable to expose ${cidr}`, exposed);
      return cidr.split('/')[0]!;
    },
    async ready() {
      const reply = await send('GET', '/ipinfo/defaultsubnet');
      if (reply.status === 404) throw new CniError(ErrorCode.NotAvailable, 'weave IPAM is disabled on this router (--ipalloc-range "")', 'launch weave with an --ipalloc-range');
      if (reply.status !== 200) throw fail('the weave router is not ready', reply);
    },
  };
}
