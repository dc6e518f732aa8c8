import {writeFile} from 'node:fs/promises';
import {runInNetns} from './nsrun.js';

/**
 * Sets kernel parameters. Keys are slash-separated (`net/ipv6/conf/weave/accept_ra`) so that
 * interface names holding dots stay whole. /proc/sys/net belongs to the namespace of whoever
 * opens it: in our own, the files are written directly (no process to start); in another, one
 * `sysctl` call runs inside it.
 */
export async function setSysctls(settings: Readonly<Record<string, string>>, netns?: string): Promise<void> {
  const entries = Object.entries(settings);
  if (entries.length === 0) return;
  if (netns) {
    await runInNetns(netns, 'sysctl', ['-q', '-w', ...entries.map(([key, value]) => `${key}=${value}`)]);
    return;
  }
  const failures: string[] = [];
  await Promise.all(
    entries.map(async ([key, value]) => {
      try {
        await writeFile(`/proc/sys/${key}`, value);
      } catch (error) {
        failures.push(`${key}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }),
  );
  if (failures.length > 0) throw new Error(`cannot set ${failures.join(', ')} (is /proc/sys writable here?)`);
}
