import {CommandError} from './exec.js';
import {type IpCommand, IpError} from './ip-error.js';
import {runInNetns} from './nsrun.js';

// Apart, so that netlink's users (ps, the router) need not load node:child_process with it.
export {type IpCommand, IpError} from './ip-error.js';

/** A word iproute2's batch input would not keep whole (it splits lines on white space): empty, or holding some. */
export function batchUnsafeWord(words: readonly string[]): string | undefined {
  return words.find(word => word === '' || /\s/.test(word));
}

function assertWords(command: IpCommand): void {
  const bad = batchUnsafeWord(command);
  if (bad !== undefined) throw new Error(`invalid word ${JSON.stringify(bad)} in ip command`);
}

/**
 * Runs several commands in one `ip -batch` process (one fork instead of one per command).
 * Returns the JSON output of each `show` command in order.
 */
export async function ipBatch(commands: readonly IpCommand[], netns?: string, options: readonly string[] = []): Promise<unknown[]> {
  commands.forEach(assertWords);
  try {
    // `ip -n` only knows names under /run/netns; nsenter takes any path, e.g. /proc/<pid>/ns/net.
    const {stdout} = await runInNetns(netns, 'ip', [...options, '-j', '-d', '-batch', '-'], {input: commands.map(c => c.join(' ')).join('\n') + '\n'});
    return stdout.split('\n').filter(Boolean).map(line => JSON.parse(line) as unknown);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    const failed = /Command failed -:(\d+)/.exec(error.stderr);
    const line = failed ? Number(failed[1]) - 1 : 0;
    const reason = (error.stderr || error.stdout).replace(/Command failed -:\d+\s*/g, '').trim() || error.message;
    throw new IpError(commands[line] ?? commands[0] ?? [], reason);
  }
}

/** One `ip` command; JSON output parsed when it prints any. */
export async function ip(command: IpCommand, netns?: string): Promise<unknown> {
  const [result] = await ipBatch([command], netns);
  return result;
}
