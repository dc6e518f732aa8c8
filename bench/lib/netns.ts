import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {Netns} from '../../test/helpers/netns.js';

/**
 * Runs this same benchmark again inside a network namespace of its own (nsenter execs node
 * there), with `marker` set in its environment so it knows; its exit code becomes ours, and the
 * namespace goes after.
 */
export async function rerunInNamespace(prefix: string, marker: string): Promise<void> {
  const ns = Netns.create(prefix);
  try {
    const child = spawn('nsenter', [`--net=${ns.path}`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {stdio: 'inherit', env: {...process.env, [marker]: '1'}});
    const [code] = (await once(child, 'exit')) as [number | null];
    process.exitCode = code ?? 1;
  } finally {
    ns.delete();
  }
}
