import type {NetConf} from './config.js';
import type {CniEnv} from './env.js';

/** One parsed CNI call: what every command and IPAM backend works from. */
export interface Invocation {
  env: CniEnv;
  conf: NetConf;
  /** The call's whole environment (PATH and the CNI_* variables), handed on to delegates. */
  processEnv: Record<string, string | undefined>;
}
