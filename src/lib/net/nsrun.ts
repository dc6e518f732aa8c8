import {run, type RunOptions, type RunOutput} from './exec.js';

/**
 * Runs a program inside the network namespace at `netns` (any path, e.g. /proc/<pid>/ns/net,
 * entered with nsenter), or in our own when none is given.
 */
export function runInNetns(netns: string | undefined, file: string, args: readonly string[], options?: RunOptions): Promise<RunOutput> {
  return netns ? run('nsenter', [`--net=${netns}`, file, ...args], options) : run(file, args, options);
}
