import type {Netns} from './netns.js';
import {collect} from './spawn.js';
import {type CliRun, WEAVE_BIN} from './setup-cli.js';

export interface WeaveOptions {
  env?: Record<string, string>;
  /** Run the CLI inside this network namespace (a simulated host). */
  netns?: Netns;
}

/**
 * Runs `weave <args>` as a user would, without blocking the test's event loop (unlike
 * runWeave), so a server in the test process can answer it. WEAVE_HTTP_ADDR is dropped from
 * the inherited environment: only what the test sets applies.
 */
export function weave(args: string[], options: WeaveOptions = {}): Promise<CliRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'WEAVE_HTTP_ADDR'));
  const command = [process.execPath, WEAVE_BIN, ...args];
  const [file, argv] = options.netns ? ['nsenter', [`--net=${options.netns.path}`, ...command]] : [command[0]!, command.slice(1)];
  return collect(file, argv, {env: {...base, ...options.env}});
}
