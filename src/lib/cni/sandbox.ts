import {isOwnNetns} from '../net/netns.js';
import {CniError, ErrorCode} from './errors.js';

/** The container's namespace must exist and must not be the one we (the host) run in. */
export async function requireContainerNetns(netns: string): Promise<void> {
  let own: boolean;
  try {
    own = await isOwnNetns(netns);
  } catch {
    throw new CniError(ErrorCode.InvalidEnv, `CNI_NETNS "${netns}" does not exist`, 'the container\'s network namespace is gone or the path is wrong; recreate the container');
  }
  if (own) {
    throw new CniError(
      ErrorCode.InvalidEnv,
      'can not add a container to weave in the host network namespace',
      'the container was started with host networking (--net=host); start it with its own network namespace',
    );
  }
}
