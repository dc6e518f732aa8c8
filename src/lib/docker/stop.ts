import type Dockerode from 'dockerode';
import {run} from '../net/exec.js';
import {DockerOperatorError, engineMessage, statusOf} from './errors.js';

/** What `weave stop` found: a router stopped now, one already stopped, or none at all. */
export type StopOutcome = 'stopped' | 'already-stopped' | 'absent';

/** The original's text when there is nothing to stop; stop still exits 0. */
export const NOT_RUNNING_MESSAGE = 'Weave is not running (ignore on Kubernetes).';

/** Stops the router container, giving it 10 s to shut down cleanly (as `docker stop`). */
export async function stopRouter(docker: Dockerode, name: string): Promise<StopOutcome> {
  try {
    await docker.getContainer(name).stop({t: 10});
    return 'stopped';
  } catch (error) {
    if (statusOf(error) === 404) return 'absent';
    // 304 Not Modified: the container exists but is not running.
    if (statusOf(error) === 304) return 'already-stopped';
    throw new DockerOperatorError(`cannot stop container ${name}: ${engineMessage(error)}`);
  }
}

/**
 * As the original after a stop: drop conntrack entries of the sleeve's UDP port, which would
 * otherwise keep steering peers' packets to a router that is gone. Best effort: no conntrack, no harm.
 */
export async function forgetUdpFlows(port: number): Promise<void> {
  try {
    await run('conntrack', ['-D', '-p', 'udp', '--dport', String(port)]);
  } catch {
    // conntrack exits 1 when nothing matched, and may not be installed.
  }
}
