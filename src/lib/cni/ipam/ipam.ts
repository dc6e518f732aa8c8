import type {Invocation} from '../invocation.js';
import type {Result} from '../result.js';

/** Where pod addresses come from: weave's router, or a plugin named by `ipam.type`. */
export interface Ipam {
  add(call: Invocation): Promise<Result>;
  /** Idempotent: releasing what is already free succeeds. */
  del(call: Invocation): Promise<void>;
  check(call: Invocation): Promise<void>;
  gc(call: Invocation): Promise<void>;
  status(call: Invocation): Promise<void>;
  /**
   * Gives the bridge an address in the pod's subnet and exposes it, returning it as the
   * gateway: how weave IPAM makes pods reach the host with no gateway configured.
   */
  exposeBridge?(call: Invocation, podAddress: string): Promise<string>;
}
