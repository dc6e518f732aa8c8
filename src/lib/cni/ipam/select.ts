import type {NetConf} from '../config.js';
import {DelegatedIpam} from './delegate.js';
import type {Ipam} from './ipam.js';
import {WeaveIpam} from './weave.js';

/** `ipam.type` names a delegate plugin; without it weave's router allocates. */
export function ipamFor(conf: NetConf): Ipam {
  return conf.ipam.type ? new DelegatedIpam(conf.ipam.type) : new WeaveIpam();
}
