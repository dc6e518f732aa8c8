import type {Invocation} from '../invocation.js';
import {DelegatedIpam} from './delegate.js';
import type {Ipam} from './ipam.js';

/** `ipam.type` names a delegate plugin; without it weave's router allocates. */
export function ipamFor(call: Invocation): Ipam {
  return call.conf.ipam.type ? new DelegatedIpam(call.conf.ipam.type) : call.weaveIpam;
}
