import {CommandError} from './exec.js';
import {runInNetns} from './nsrun.js';

// iputils' arping and busybox's take the same flags; the first one installed is used.
const TOOLS: readonly (readonly string[])[] = [['arping'], ['busybox', 'arping']];
/** Where to start looking: a missing tool costs a fork at every call, so skip it once known. */
let first = 0;

function missingTool(error: unknown): boolean {
  // Run directly, a missing program fails to spawn; through nsenter, nsenter exits 127.
  return error instanceof CommandError && (error.exitCode === null || error.exitCode === 127);
}

/**
 * Sends one gratuitous ARP for `address` on `dev`, so neighbours drop a stale MAC for it.
 * Best effort, as in the original: false when no arping tool is installed.
 */
export async function announceAddress(dev: string, address: string, netns?: string): Promise<boolean> {
  for (let i = first; i < TOOLS.length; i++) {
    const [file, ...pre] = TOOLS[i]!;
    try {
      await runInNetns(netns, file!, [...pre, '-U', '-c', '1', '-I', dev, address]);
      first = i;
      return true;
    } catch (error) {
      if (!missingTool(error)) throw error;
    }
  }
  return false;
}
