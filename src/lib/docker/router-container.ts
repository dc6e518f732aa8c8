import type Dockerode from 'dockerode';
import {DockerOperatorError, engineMessage, statusOf} from './errors.js';
import {ROUTER_LABEL} from './spec.js';

export type ContainerInfo = Dockerode.ContainerInspectInfo;

/** The container named `name`, or undefined when there is none. */
export async function inspectContainer(docker: Dockerode, name: string): Promise<ContainerInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw new DockerOperatorError(`cannot inspect container ${name}: ${engineMessage(error)}`);
  }
}

/** A router of ours: launched by this CLI (label), or running an image of the repository in use (as the original matched). */
export function isRouterContainer(info: ContainerInfo, imageRepository: string): boolean {
  return info.Config.Labels?.[ROUTER_LABEL] !== undefined || info.Config.Image === imageRepository || info.Config.Image.startsWith(`${imageRepository}:`);
}

/** Running and answering to Docker: not paused, not between two restarts. */
export function isRunning(info: ContainerInfo): boolean {
  return info.State.Running && !info.State.Paused && !info.State.Restarting;
}

/**
 * check_not_running of the original: a router already there stops the launch (3 running;
 * 1 created, paused or restarting; 2 someone else's container holds the name); one that
 * exited or died is removed and the launch goes on.
 */
export async function checkNotRunning(docker: Dockerode, name: string, imageRepository: string): Promise<void> {
  const info = await inspectContainer(docker, name);
  if (!info) return;
  if (!isRouterContainer(info, imageRepository)) {
    throw new DockerOperatorError(info.State.Running ? `Found another running container named '${name}'. Aborting.` : `Found another container named '${name}'. Aborting.`, 2);
  }
  if (isRunning(info)) throw new DockerOperatorError(`${name} is already running; you can stop it with 'weave stop'.`, 3);
  if (info.State.Status === 'exited' || info.State.Status === 'dead') {
    await removeContainer(docker, name);
    return;
  }
  throw new DockerOperatorError(`${name} is created, paused, or restarting; you can stop it with 'weave stop'.`, 1);
}

/** Removes the container and its anonymous volumes (not the named state volume); gone already is fine. */
export async function removeContainer(docker: Dockerode, name: string): Promise<boolean> {
  try {
    await docker.getContainer(name).remove({force: true, v: true});
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw new DockerOperatorError(`cannot remove container ${name}: ${engineMessage(error)}`);
  }
}

/**
 * Splits Docker's multiplexed log stream (a container without a TTY): each frame is an
 * 8-byte header (stream, 3 zero bytes, big-endian length) and that many bytes.
 */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buffer.length && buffer[at]! <= 2 && buffer[at + 1] === 0 && buffer[at + 2] === 0 && buffer[at + 3] === 0) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return at === 0 ? buffer.toString() : Buffer.concat(parts).toString();
}

/** The container's last `lines` lines of output (both streams, interleaved as written). */
export async function lastLogLines(docker: Dockerode, name: string, lines = 20): Promise<string> {
  try {
    const raw = await docker.getContainer(name).logs({stdout: true, stderr: true, tail: lines, follow: false});
    return demuxLogs(raw).trimEnd();
  } catch (error) {
    return `(its logs cannot be read: ${engineMessage(error)})`;
  }
}
