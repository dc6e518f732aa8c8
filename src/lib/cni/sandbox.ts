import type {Stats} from 'node:fs';
import {stat} from 'node:fs/promises';
import {fileId, isNamespaceFile, isOwnNetns} from '../net/netns.js';
import type {CniEnv} from './env.js';
import {CniError, ErrorCode} from './errors.js';

const PASS_A_NETNS = 'pass the path of the container\'s network namespace, such as /run/netns/NAME or /proc/PID/ns/net';

function kindOf(st: Stats | undefined): string {
  if (!st) return 'not a file';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'a regular file';
}

function gone(netns: string): CniError {
  return new CniError(ErrorCode.InvalidEnv, `CNI_NETNS "${netns}" does not exist`, 'the container\'s network namespace is gone or the path is wrong; recreate the container');
}

/** The host opened the namespace but the router, which took the call, cannot see it. */
function unseen(netns: string, path: string, why: string): CniError {
  return new CniError(
    ErrorCode.InvalidEnv,
    `the weave router cannot see the network namespace CNI_NETNS "${netns}" that the host opened (${path}: ${why})`,
    'run the router in the host\'s PID namespace with CAP_SYS_PTRACE, as `weave launch` does; or stop it (`weave stop`) so the plugin runs on the host',
  );
}

/**
 * The container's namespace must be a network namespace the call can enter, and not the one
 * we (the host) run in. Nothing here opens the path: a FIFO or a device is refused unopened.
 */
export async function requireContainerNetns(env: CniEnv): Promise<void> {
  const {netns, netnsPath, netnsHandle} = env;
  if (netnsHandle.error) {
    const [errno, ...text] = netnsHandle.error.split(' ');
    if (errno === '2') throw gone(netns);
    throw new CniError(ErrorCode.InvalidEnv, `cannot open CNI_NETNS "${netns}": ${text.join(' ')}`, PASS_A_NETNS);
  }
  const handed = netnsPath !== netns;
  let isNs: boolean;
  try {
    isNs = await isNamespaceFile(netnsPath);
  } catch (error) {
    if (handed) throw unseen(netns, netnsPath, (error as Error).message);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw gone(netns);
    throw new CniError(ErrorCode.InvalidEnv, `cannot open CNI_NETNS "${netns}": ${(error as Error).message}`, PASS_A_NETNS);
  }
  if (!isNs) {
    const kind = kindOf(await stat(netnsPath).catch(() => undefined));
    throw new CniError(ErrorCode.InvalidEnv, `CNI_NETNS "${netns}" is not a network namespace: it is ${kind}`, PASS_A_NETNS);
  }
  if (netnsHandle.id && netnsHandle.id !== fileId(await stat(netnsPath))) {
    throw unseen(netns, netnsPath, 'it leads to another file here: the router runs in another PID namespace');
  }
  if (await isOwnNetns(netnsPath)) {
    throw new CniError(
      ErrorCode.InvalidEnv,
      'can not add a container to weave in the host network namespace',
      'the container was started with host networking (--net=host); start it with its own network namespace',
    );
  }
}
