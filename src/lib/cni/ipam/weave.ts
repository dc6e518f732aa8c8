import {CniError, ErrorCode} from '../errors.js';
import type {Invocation} from '../invocation.js';
import type {Ipam} from './ipam.js';

/** Said whenever weave IPAM is needed and no router answers. */
export function routerDown(): CniError {
  return new CniError(
    ErrorCode.TryAgainLater,
    'the weave router must be running to allocate addresses with weave IPAM',
    'start it with `weave launch`, or set "ipam": {"type": "host-local", ...} in the network config',
  );
}

/**
 * Weave's own IPAM, served by the router. Until a router exists to answer, every call
 * reports that it must be launched (the runtime retries on code 11).
 */
export class WeaveIpam implements Ipam {
  async add(_call: Invocation): Promise<never> {
    throw routerDown();
  }

  async del(_call: Invocation): Promise<void> {
    throw routerDown();
  }

  async check(_call: Invocation): Promise<void> {
    throw routerDown();
  }

  async gc(_call: Invocation): Promise<void> {
    throw routerDown();
  }

  async status(_call: Invocation): Promise<void> {
    const down = routerDown();
    throw new CniError(ErrorCode.NotAvailable, down.message, down.details);
  }
}
