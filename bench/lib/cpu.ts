import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';

let ticksPerSecond: number | undefined;

/**
 * Fields 14-17 of /proc/<pid>/stat (utime, stime, cutime, cstime), in ms. The kernel reports
 * them in clock ticks (10 ms): read them around much work, not one call.
 */
function cpuTimesMs(pid: number | 'self'): {utime: number; stime: number; cutime: number; cstime: number} {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim());
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces; field 3 first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ms = (field: number) => (Number(fields[field - 3]) * 1000) / ticksPerSecond!;
  return {utime: ms(14), stime: ms(15), cutime: ms(16), cstime: ms(17)};
}

/**
 * CPU time (user + system, in ms) used by every child this process has reaped so far, and by
 * their reaped children: cutime + cstime of /proc/self/stat. Unlike wall-clock time it leaves
 * out waiting for a busy CPU, so it stays meaningful on a machine loaded by other work.
 */
export function childrenCpuMs(): number {
  const t = cpuTimesMs('self');
  return t.cutime + t.cstime;
}

/** CPU time (user + system, in ms) a running process has used so far, with its reaped children. */
export function processCpuMs(pid: number): number {
  const t = cpuTimesMs(pid);
  return t.utime + t.stime + t.cutime + t.cstime;
}
