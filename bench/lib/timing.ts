import {performance} from 'node:perf_hooks';
import {run, type RunOptions, type RunOutput} from '../../src/lib/net/exec.js';
import {childrenCpuMs} from './cpu.js';

/** Wall-clock milliseconds of one awaited call, with its value. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ms: number; value: T}> {
  const start = performance.now();
  const value = await fn();
  return {ms: performance.now() - start, value};
}

export interface CommandTiming {
  /** Wall-clock, from spawn to the close of its output. */
  ms: number;
  /** CPU used by the program and its children; in 10 ms steps, so only its mean over many runs means much. */
  cpuMs: number;
  value: RunOutput;
}

/**
 * Runs a program to its exit and times it. A non-zero exit rejects with the project's
 * CommandError (which carries stdout and stderr). Run one at a time: the CPU time counts every
 * child reaped meanwhile.
 */
export async function timeCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandTiming> {
  const [file, ...args] = argv;
  if (!file) throw new Error('timeCommand needs a program to run');
  const cpuBefore = childrenCpuMs();
  const {ms, value} = await timed(() => run(file, args, options));
  return {ms, cpuMs: childrenCpuMs() - cpuBefore, value};
}

/** Wall-clock and CPU samples collected under names, e.g. "ours ADD", in the order first recorded. */
export class Samples {
  private readonly byName = new Map<string, {wall: number[]; cpu: number[]}>();

  add(name: string, timing: {ms: number; cpuMs: number}): void {
    const entry = this.byName.get(name) ?? {wall: [], cpu: []};
    entry.wall.push(timing.ms);
    entry.cpu.push(timing.cpuMs);
    this.byName.set(name, entry);
  }

  private entry(name: string): {wall: number[]; cpu: number[]} {
    const entry = this.byName.get(name);
    if (!entry || entry.wall.length === 0) throw new Error(`no samples recorded for "${name}"`);
    return entry;
  }

  wall(name: string): number[] {
    return this.entry(name).wall;
  }

  /** Mean CPU milliseconds per run: the 10 ms steps of single readings even out over many. */
  meanCpu(name: string): number {
    const {cpu} = this.entry(name);
    return cpu.reduce((a, b) => a + b, 0) / cpu.length;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
