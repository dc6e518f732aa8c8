import {parseCidr, ipToInt, intToIp} from '../../net/cidr.js';
import {CniError, ErrorCode} from '../errors.js';
import type {Invocation} from '../invocation.js';
import {routerDown, type RouterIpam} from './weave.js';

const DEFAULT_HTTP_ADDR = '127.0.0.1:6784';

interface Reply {
  status: number;
  body: string;
}

/** The network a pod address lies in, as `a.b.c.d/len`. */
export function networkOf(cidr: string): string {
  const c = parseCidr(cidr)!;
  const size = 2 ** (32 - c.prefix);
  return `${intToIp(Math.floor(ipToInt(c.ip) / size) * size)}/${c.prefix}`;
}

/**
 * The router's IPAM over its HTTP API, for a plugin run as its own process (the cold path).
 * node:http is imported only here, so plugins with delegated IPAM never pay for it.
 */
export async function routerOverHttp(call: Invocation): Promise<RouterIpam> {
  const {request} = await import('node:http');
  const addr = call.processEnv.WEAVE_HTTP_ADDR || DEFAULT_HTTP_ADDR;
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];

  const send = (method: string, path: string, form?: URLSearchParams): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const body = form?.toString() ?? '';
      const req = request(
        {host, port, method, path, headers: {'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body)}},
        res => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString()}));
        },
      );
      req.on('error', error => reject(routerDown(`${addr}: ${(error as NodeJS.ErrnoException).code ?? error.message}`)));
      req.end(body);
    });

  const fail = (what: string, reply: Reply) =>
    new CniError(ErrorCode.Internal, `${what}: ${reply.status}: ${reply.body.trim()}`, 'see the weave router\'s log (docker logs weave) for the cause');
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
      const reply = await send('POST', `/ip/weave:expose/${networkOf(podAddress)}`);
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
