import {chmod, mkdir, readFile, realpath} from 'node:fs/promises';
import {run} from '../net/exec.js';
import {DockerOperatorError} from './errors.js';

/** Where runtimes bind network namespaces (CNI_NETNS paths such as /run/netns/cni-...). */
export const NETNS_DIR = '/run/netns';

/** The propagation of the mount at `point` ("shared", "slave", "private"), or undefined when nothing is mounted there. */
export function mountPropagation(mountinfo: string, point: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== point) continue;
    // Optional fields sit between the 6th field and the "-" separator.
    const optional = fields.slice(6, fields.indexOf('-'));
    if (optional.some(f => f.startsWith('shared:'))) return 'shared';
    if (optional.some(f => f.startsWith('master:'))) return 'slave';
    return 'private';
  }
  return undefined;
}

async function mount(args: string[]): Promise<void> {
  try {
    await run('mount', args);
  } catch (error) {
    throw new DockerOperatorError(`cannot prepare ${NETNS_DIR} for the router container (mount ${args.join(' ')}): ${(error as Error).message}`);
  }
}

/**
 * The router container sees namespaces created after it started only through a bind of the
 * host's /run/netns with slave propagation, and Docker accepts that only over a shared or
 * slave mount. As `ip netns add` does, /run/netns becomes a shared bind mount of itself.
 */
export async function prepareNetnsDir(dir = NETNS_DIR): Promise<void> {
  await mkdir(dir, {recursive: true, mode: 0o755});
  const point = await realpath(dir);
  const propagation = mountPropagation(await readFile('/proc/self/mountinfo', 'utf8'), point);
  if (propagation === undefined) await mount(['--bind', point, point]);
  if (propagation !== 'shared' && propagation !== 'slave') await mount(['--make-shared', point]);
}

/** The warm CNI socket directory, root-only as the router keeps it, before Docker binds it. */
export async function prepareSocketDir(dir: string): Promise<void> {
  await mkdir(dir, {recursive: true, mode: 0o700});
  await chmod(dir, 0o700);
}
