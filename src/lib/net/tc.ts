import {CommandError} from './exec.js';
import {runInNetns} from './nsrun.js';

/** A failed `tc` call, with the kernel's reason. */
export class TcError extends Error {
  constructor(readonly reason: string) {
    super(`tc: ${reason}`);
    this.name = 'TcError';
  }
}

/** Runs several `tc` commands (as words) in one `tc -batch` process. */
export async function tcBatch(commands: readonly (readonly string[])[], netns?: string): Promise<void> {
  if (commands.length === 0) return;
  try {
    await runInNetns(netns, 'tc', ['-batch', '-'], {input: commands.map(c => c.join(' ')).join('\n') + '\n'});
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new TcError((error.stderr || error.stdout).trim() || error.message);
  }
}

/**
 * Every frame `dev` receives is sent out of it again (a tc redirect from its ingress to its own
 * egress): a VXLAN device so set forwards what it receives to its remotes, as a relay. The
 * kernel of this project has u32 but not matchall: `match u32 0 0` matches every frame.
 */
export function reflectCommands(dev: string): string[][] {
  return [
    ['qdisc', 'add', 'dev', dev, 'clsact'],
    ['filter', 'add', 'dev', dev, 'ingress', 'protocol', 'all', 'prio', '1', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', dev],
  ];
}

/** Every frame `dev` receives goes its way as usual, and a copy out of `to` (a tc mirror from `dev`'s ingress to `to`'s egress). */
export function mirrorCommands(dev: string, to: string): string[][] {
  return [
    ['qdisc', 'add', 'dev', dev, 'clsact'],
    ['filter', 'add', 'dev', dev, 'ingress', 'protocol', 'all', 'prio', '1', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'mirror', 'dev', to],
  ];
}
