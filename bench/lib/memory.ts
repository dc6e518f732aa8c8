import {readFileSync} from 'node:fs';
import {BenchError} from './options.js';

/** Resident memory of a running process, in MB (VmRSS). */
export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new BenchError(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}
