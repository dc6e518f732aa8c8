import {rm} from 'node:fs/promises';
import type Dockerode from 'dockerode';
import {RouterClient} from '../api/client.js';
import {cniSocketPath} from '../router/cni/socket-path.js';
import {DEFAULTS} from '../defaults.js';
import {teardownDataplane} from '../router/dataplane/teardown.js';
import {DockerOperatorError, engineMessage, statusOf} from './errors.js';
import {type ContainerInfo, inspectContainer, isRunning, removeContainer} from './router-container.js';
import {stateVolume} from './spec.js';
import {forgetUdpFlows, stopRouter} from './stop.js';

export interface ResetTarget {
  name: string;
  volume: string;
  container?: ContainerInfo;
}

export async function resetTarget(docker: Dockerode, name: string): Promise<ResetTarget> {
  const container = await inspectContainer(docker, name);
  return {name, volume: stateVolume(name), ...(container ? {container} : {})};
}

/** What a reset destroys, for the confirmation question: one line each. */
export function resetLosses(target: ResetTarget): string[] {
  const lines: string[] = [];
  if (target.container) {
    lines.push(`the router container '${target.name}'${isRunning(target.container) ? ' (running: it first hands its address ranges to another peer)' : ''}`);
  }
  lines.push(
    `the state volume '${target.volume}': this peer's name and its IPAM records (addresses it owns are forgotten here)`,
    `the '${DEFAULTS.weaveBridge}' bridge and weave's iptables chains: attached containers lose their weave network`,
    "every leftover 'vethwe*' link",
  );
  return lines;
}

/** The mesh port the router ran with (its --port), for the rules that name it. */
export function routerPort(container: ContainerInfo | undefined, env: Record<string, string | undefined>): number {
  const args = container?.Args ?? [];
  for (let i = args.length - 1; i >= 0; i--) {
    const word = args[i]!;
    const inline = /^--?port=(\d+)$/.exec(word);
    if (inline) return Number(inline[1]);
    if (/^--?port$/.test(word) && /^\d+$/.test(args[i + 1] ?? '')) return Number(args[i + 1]);
  }
  return Number(env.WEAVE_PORT) || DEFAULTS.port;
}

export interface ResetOptions {
  force: boolean;
  httpAddr: string;
  env?: Record<string, string | undefined>;
}

/** The original's refusal when the router exists but is not running to hand its ranges over. */
export const STOPPED_REFUSAL = 'ERROR: weave is not running; unable to remove from cluster.\nRe-launch weave before reset or use --force to override.';

/**
 * `weave reset`: a running router first hands its address ranges to another peer (DELETE
 * /peer); then the container, its state volume, the bridge, the iptables chains and every
 * vethwe* link go. Each removal tolerates what is already gone, so a reset can be repeated.
 */
export async function resetRouter(docker: Dockerode, target: ResetTarget, options: ResetOptions): Promise<void> {
  const {container, name} = target;
  if (container && isRunning(container)) {
    // As the original (`|| true`): a router with IPAM off (404) or not answering has nothing to hand over.
    await new RouterClient(options.httpAddr).leave().catch(() => undefined);
    // Lets the hand-over reach the other peers before the router goes.
    await new Promise(resolve => setTimeout(resolve, 500));
  } else if (container && !options.force) {
    throw new DockerOperatorError(STOPPED_REFUSAL, 1);
  }
  const port = routerPort(container, options.env ?? process.env);
  if (container) {
    await stopRouter(docker, name);
    await removeContainer(docker, name);
  }
  await forgetUdpFlows(port);
  await removeVolume(docker, target.volume);
  await teardownDataplane({bridge: DEFAULTS.weaveBridge, meshPort: port});
  // A killed router leaves its warm CNI socket; the host's shim would find nobody listening.
  await rm(await cniSocketPath(DEFAULTS.cniSocketDir), {force: true});
}

async function removeVolume(docker: Dockerode, volume: string): Promise<void> {
  try {
    await docker.getVolume(volume).remove();
  } catch (error) {
    if (statusOf(error) === 404) return;
    throw new DockerOperatorError(`cannot remove volume ${volume}: ${engineMessage(error)}`);
  }
}
