import {collect} from './spawn.js';
import {fileURLToPath} from 'node:url';

/** The built cold plugin, as the launcher runs it (npm test builds first). */
export const CNI_MAIN = fileURLToPath(new URL('../../dist/weave-cni.cjs', import.meta.url));

export interface PluginRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** stdout parsed, when it is JSON. */
  // `any`: test code reads results freely.
  json?: Record<string, any>;
}

export interface PluginCall {
  env: Record<string, string>;
  config: unknown;
  /** Run the plugin inside this namespace, which then plays the host. */
  hostNetns?: string;
  plugin?: 'weave-net' | 'weave-ipam';
  /** Another executable to run instead of our cold entry (e.g. the reference bridge plugin). */
  executable?: string;
}

/** Runs a CNI plugin once, as a runtime does: CNI_* in the environment, the config on stdin. */
export async function runPlugin(call: PluginCall): Promise<PluginRun> {
  const command = call.executable ? [call.executable] : [process.execPath, CNI_MAIN, call.plugin ?? 'weave-net'];
  const [file, args] = call.hostNetns ? ['nsenter', [`--net=${call.hostNetns}`, ...command]] : [command[0]!, command.slice(1)];
  const run = await collect(file, args, {env: {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...call.env}, input: typeof call.config === 'string' ? call.config : JSON.stringify(call.config)});
  let json: PluginRun['json'];
  try {
    json = JSON.parse(run.stdout) as PluginRun['json'];
  } catch {
    json = undefined;
  }
  return {...run, ...(json ? {json} : {})};
}
