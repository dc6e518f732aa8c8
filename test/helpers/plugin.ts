import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';

/** The built cold plugin entry (npm test builds first). */
export const CNI_MAIN = fileURLToPath(new URL('../../dist/lib/cni/main.js', import.meta.url));

export interface PluginRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** stdout parsed, when it is JSON. */
  json?: Record<string, unknown>;
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
export function runPlugin(call: PluginCall): Promise<PluginRun> {
  const command = call.executable ? [call.executable] : [process.execPath, CNI_MAIN, call.plugin ?? 'weave-net'];
  const [file, args] = call.hostNetns ? ['nsenter', [`--net=${call.hostNetns}`, ...command]] : [command[0]!, command.slice(1)];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {env: {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...call.env}});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('close', code => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      resolve({stdout, stderr, exitCode: code ?? -1, ...(json ? {json} : {})});
    });
    child.stdin.end(typeof call.config === 'string' ? call.config : JSON.stringify(call.config));
  });
}
