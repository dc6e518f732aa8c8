import {readdir, readFile} from 'node:fs/promises';

/** What the original's Prometheus client read of its own process (client_golang's process collector). */
export interface ProcessSample {
  cpuSeconds: number;
  openFds: number;
  maxFds: number;
  residentBytes: number;
  startTimeSeconds: number;
  virtualBytes: number;
  /** -1 when unlimited, as the original showed it. */
  virtualMaxBytes: number;
}

/** Clock ticks per second of /proc's times: fixed at 100 for user space on Linux (procfs assumes it too). */
const USER_HZ = 100;

let bootTimeSeconds: number | undefined;

/** Fields 3 onwards of /proc/self/stat, after the command name (which may hold spaces). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A soft limit of /proc/self/limits; -1 for unlimited. */
function softLimit(limits: string, name: string): number {
  const line = limits.split('\n').find(l => l.startsWith(name));
  const soft = line?.slice(name.length).trim().split(/\s+/)[0];
  return soft === undefined || soft === 'unlimited' ? -1 : Number(soft);
}

/**
 * Reads the process_* figures from /proc/self when /metrics is scraped: a few small reads, and
 * nothing at all while the router starts.
 */
export async function readProcessSample(): Promise<ProcessSample> {
  const [stat, limits, fds] = await Promise.all([readFile('/proc/self/stat', 'utf8'), readFile('/proc/self/limits', 'utf8'), readdir('/proc/self/fd')]);
  const field = (n: number) => Number(statFields(stat)[n - 3]);
  bootTimeSeconds ??= Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1]);
  return {
    cpuSeconds: (field(14) + field(15)) / USER_HZ,
    openFds: fds.length,
    maxFds: softLimit(limits, 'Max open files'),
    residentBytes: process.memoryUsage.rss(),
    startTimeSeconds: bootTimeSeconds + field(22) / USER_HZ,
    virtualBytes: field(23),
    virtualMaxBytes: softLimit(limits, 'Max address space'),
  };
}
