import {constants} from 'node:fs';
import {access} from 'node:fs/promises';
import {delimiter, join} from 'node:path';
import {shellWord} from './shell-quote.js';

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(program: string, path: string | undefined): Promise<boolean> {
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    if (await isExecutable(join(dir, program))) return true;
  }
  return false;
}

/**
 * Reference plugins runtimes call beside weave-net, which weave does not ship: a runtime fails
 * every pod whose plugins it cannot find in the bin dir.
 */
const REFERENCE_PLUGINS = [
  {name: 'portmap', why: 'the weave conflist chains it for hostPort mappings'},
  {name: 'loopback', why: "containerd's CRI plugin calls it for every pod's lo before the weave network"},
] as const;

/** What the installed plugin needs from the host but weave does not ship, each with its fix. */
export async function prerequisiteWarnings(binDir: string, env: Record<string, string | undefined>): Promise<string[]> {
  const warnings: string[] = [];
  for (const plugin of REFERENCE_PLUGINS) {
    if (await isExecutable(join(binDir, plugin.name))) continue;
    warnings.push(
      `${plugin.name} is missing from ${binDir}: ${plugin.why}, and runtimes fail pods whose plugins they cannot find. ` +
        `Install the CNI reference plugins:\n` +
        `  apt-get install containernetworking-plugins && ln -s /usr/lib/cni/${plugin.name} ${shellWord(join(binDir, plugin.name))}\n` +
        `  (not Debian/Ubuntu: unpack a release of github.com/containernetworking/plugins into ${shellWord(binDir)})`,
    );
  }
  if (!(await onPath('nsenter', env.PATH))) {
    warnings.push(
      'nsenter is not in PATH: the weave-net plugin configures container namespaces through it. Install util-linux:\n' +
        '  apt-get install util-linux',
    );
  }
  if (!(await onPath('perl', env.PATH)) && !(await onPath('socat', env.PATH))) {
    warnings.push(
      'neither perl nor socat is in PATH: without one of them every CNI call starts a Node process (~100 ms) ' +
        'instead of going to the running router (the warm path). Install socat:\n  apt-get install socat',
    );
  }
  return warnings;
}
