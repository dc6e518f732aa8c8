import type {NetConf} from './config.js';
import type {CniEnv} from './env.js';

/** A pod's name in weaveDNS: inside the router's domain (`relative`), or fully qualified. */
export interface PodName {
  name: string;
  relative: boolean;
}

/** What may stand in a DNS label: anything else (a podman name's "_" stays) becomes "-". */
const label = (text: string) => text.toLowerCase().replace(/[^a-z0-9_.-]/g, '-').replace(/^[.-]+|[.-]+$/g, '');

/**
 * The pod's name: `<pod>.<namespace>` from Kubernetes' CNI_ARGS (K8S_POD_NAME, K8S_POD_NAMESPACE;
 * podman passes the container's name as K8S_POD_NAME alone, giving `<name>`), else CNI_ARGS
 * WEAVE_DNS_NAME, else the first 12 characters of the container id; under the conflist's
 * `weaveDns.domain`, else the router's domain. Undefined when the conflist says `"weaveDns": false`.
 */
export function podDnsName(env: CniEnv, conf: NetConf): PodName | undefined {
  if (!conf.weaveDns.enabled) return undefined;
  const {K8S_POD_NAME: pod, K8S_POD_NAMESPACE: namespace, WEAVE_DNS_NAME: given} = env.args;
  const parts = pod ? [pod, ...(namespace ? [namespace] : [])] : [given || env.containerId.slice(0, 12)];
  const name = parts.map(label).filter(Boolean).join('.');
  if (!name) return undefined;
  const {domain} = conf.weaveDns;
  return domain ? {name: `${name}.${domain.replace(/\.?$/, '.')}`, relative: false} : {name, relative: true};
}
