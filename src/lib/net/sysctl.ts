import {runInNetns} from './nsrun.js';

/**
 * Sets kernel parameters in one `sysctl` call. Keys are slash-separated
 * (`net/ipv6/conf/weave/accept_ra`) so that interface names holding dots stay whole;
 * /proc/sys/net belongs to the namespace of whoever opens it, hence a process inside `netns`.
 */
export async function setSysctls(settings: Readonly<Record<string, string>>, netns?: string): Promise<void> {
  const words = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  if (words.length > 0) await runInNetns(netns, 'sysctl', ['-q', '-w', ...words]);
}
