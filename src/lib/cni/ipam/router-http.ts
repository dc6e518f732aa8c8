import {networkText} from '../../net/cidr.js';
import {DEFAULTS} from '../../defaults.js';
import {CniError, ErrorCode} from '../errors.js';
import type {Invocation} from '../invocation.js';
import {badSubnet, ipamWaitFailure, routerDown, type RouterIpam} from './weave.js';

type Reply = {status: number; body: string};

/** A plugin call's bound on any answer: the router gives up on IPAM well before (--cni-ipam-wait). */
const ANSWER_TIMEOUT_MS = 100_000;

/**
 * The router's IPAM over its HTTP API, for a plugin run as its own process (the cold path).
 * The HTTP client is imported only here, so plugins with delegated IPAM never pay for it.
 */
export async function routerOverHttp(call: Invocation): Promise<RouterIpam> {
  const [{Endpoint}, {RouterTimeoutError, RouterUnreachableError}] = await Promise.all([import('../../api/transport.js'), import('../../api/errors.js')]);
  const endpoint = new Endpoint(call.processEnv.WEAVE_HTTP_ADDR || DEFAULTS.httpAddr);

  /** `work` names what the router is needed for, in the error when none answers. */
  const send = async (work: string, method: string, path: string, form?: URLSearchParams): Promise<Reply> => {
    let reply: Reply;
    try {
      reply = await endpoint.send({method, path, headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: form?.toString() ?? '', timeoutMs: ANSWER_TIMEOUT_MS});
    } catch (error) {
      if (error instanceof RouterUnreachableError) throw routerDown(work, `${error.addr}: ${error.reason}`);
      if (error instanceof RouterTimeoutError) throw new CniError(ErrorCode.TryAgainLater, error.message, 'the runtime retries the call; see `weave status ipam` and the router\'s log (docker logs weave)');
      throw error;
    }
    // The router takes changes from root only: a plugin run by another user cannot allocate or free.
    if (reply.status === 403) {
      throw new CniError(
        ErrorCode.InvalidEnv,
        `the weave CNI plugin must run as root, not as uid ${process.getuid?.() ?? '?'}: the weave router refuses its ${method} ${path}`,
        `container runtimes run CNI plugins as root; the router said: ${reply.body.trim()}`,
      );
    }
    return reply;
  };

  // 507: the router refused the change for now (its disk is full); the body says what is needed.
  const fail = (what: string, reply: Reply) =>
    reply.status === 507
      ? new CniError(ErrorCode.TryAgainLater, `${what}: ${reply.body.trim()}`, 'free space where the router keeps its state (--db-prefix)')
      : new CniError(ErrorCode.Internal, `${what}: ${reply.status}: ${reply.body.trim()}`, 'see the weave router\'s log (docker logs weave) for the cause');
  const enc = encodeURIComponent;

  return {
    async allocate(id, subnet) {
      const reply = await send('allocate addresses', 'POST', `/ip/${enc(id)}${subnet ? `/${subnet}` : ''}`, new URLSearchParams({origin: 'cni'}));
      if (reply.status === 404) throw new CniError(ErrorCode.InvalidConfig, 'weave IPAM is disabled on this router (--ipalloc-range "")', 'set "ipam": {"type": ...} in the network config, or launch weave with an --ipalloc-range');
      // The router gave up waiting for IPAM (--cni-ipam-wait); the body says why.
      if (reply.status === 503) throw ipamWaitFailure(reply.body.trim());
      if (reply.status === 400 && subnet) throw badSubnet(subnet, reply.body.trim());
      if (reply.status !== 200 || reply.body === 'cancelled') throw fail('unable to allocate IP address', reply);
      return reply.body.trim();
    },
    async release(id) {
      const reply = await send(`release the addresses of ${id}`, 'DELETE', `/ip/${enc(id)}`);
      if (reply.status !== 204 && !reply.body.includes('Delete: no addresses for')) throw fail('unable to release IP address', reply);
    },
    async releaseAllBut(keep) {
      const reply = await send('release stale addresses', 'POST', '/ip-gc/cni', new URLSearchParams(keep.map((k): [string, string] => ['keep', k])));
      if (reply.status !== 200) throw fail('unable to release stale IP addresses', reply);
    },
    async exposeBridge(podAddress) {
      const reply = await send('allocate addresses', 'POST', `/ip/weave:expose/${networkText(podAddress)}`);
      if (reply.status !== 200) throw fail('unable to allocate an address for the bridge', reply);
      const cidr = reply.body.trim();
      const exposed = await send('allocate addresses', 'POST', `/expose/${cidr}`);
      if (exposed.status !== 204) throw fail(`unable to expose ${cidr}`, exposed);
      return cidr.split('/')[0]!;
    },
    async addName(id, address, name) {
      const form = new URLSearchParams({fqdn: name.name, ...(name.relative ? {relative: 'true'} : {})});
      const reply = await send('name the pod', 'PUT', `/name/${enc(id)}/${enc(address.split('/')[0]!)}`, form);
      // 404: weaveDNS is off on this router (--no-dns), and the pod goes without a name.
      if (reply.status !== 204 && reply.status !== 404) throw fail('unable to name the pod in weaveDNS', reply);
    },
    async ready() {
      const reply = await send('check addresses', 'GET', '/ipinfo/defaultsubnet');
      if (reply.status === 404) throw new CniError(ErrorCode.NotAvailable, 'weave IPAM is disabled on this router (--ipalloc-range "")', 'launch weave with an --ipalloc-range');
      if (reply.status !== 200) throw fail('the weave router is not ready', reply);
    },
  };
}
