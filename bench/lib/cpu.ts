import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';

let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system, in ms) used by every child this process has reaped so far, and by
 * their reaped children: cutime + cstime of /proc/self/stat. Unlike wall-clock time it leaves
 * out waiting for a busy CPU, so it stays meaningful on a machine loaded by other work.
 * The kernel reports it in clock ticks (10 ms): read it around many calls, not one.
 */
export function childrenCpuMs(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim());
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces; field 3 first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cutime = Number(fields[16 - 3]);
  const cstime = Number(fields[17 - 3]);
  return ((cutime + cstime) * 1000) / ticksPerSecond;
}
