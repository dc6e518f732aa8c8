import {OperatorError} from '../errors.js';

/** What `weave env` and `weave config` answer: the original pointed Docker at its API proxy, which this weave has not. */
export function noProxy(command: 'env' | 'config'): OperatorError {
  const what = command === 'env' ? 'DOCKER_HOST to export' : '-H flag to give docker';
  return new OperatorError(
    `There is no Docker API proxy in this weave, so there is no ${what}. To give a container weaveDNS, pass it to docker run: docker run $(weave dns-args) ...; to put it on the network: weave attach <container>.`,
  );
}

/**
 * `weave env --restore`, client-side as in the original: DOCKER_HOST back to what it was before an
 * earlier `eval $(weave env)` (ORIG_DOCKER_HOST), or unset when it was not set.
 */
export function restoreLine(env: Record<string, string | undefined>): string {
  const orig = env.ORIG_DOCKER_HOST;
  return orig ? `export DOCKER_HOST=${orig}\n` : 'unset DOCKER_HOST\n';
}
