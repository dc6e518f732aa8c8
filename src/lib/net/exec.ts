import {type ChildProcessWithoutNullStreams, spawn, type StdioOptions} from 'node:child_process';

/**
 * Runs a program with an argument array, never through a shell. Built on node:child_process
 * rather than execa because importing execa costs the CNI plugin ~120 ms per pod here.
 */
export class CommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super(`${command.join(' ')} failed${exitCode === null ? '' : ` (exit ${exitCode})`}: ${(stderr || stdout).trim() || 'no output'}`);
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  /** Killed (SIGKILL) after this long; RUN_TIMEOUT_MS by default. */
  timeoutMs?: number;
  /** An open file descriptor of ours the child gets as its fd 3 (the same open file, not a copy). */
  fd3?: number;
}

/**
 * Every program we run is bounded: these take milliseconds, and one that hangs (a namespace
 * that cannot be entered, a lock held elsewhere) must fail a CNI call, not hold it for ever.
 */
export const RUN_TIMEOUT_MS = 20_000;

export interface RunOutput {
  stdout: string;
  stderr: string;
}

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? RUN_TIMEOUT_MS;
    const stdio: StdioOptions = ['pipe', 'pipe', 'pipe', ...(options.fd3 === undefined ? [] : [options.fd3])];
    // Pipes on 0 to 2, so its streams exist whatever follows.
    const child = spawn(file, args, {env: options.env ?? process.env, stdio, timeout: timeoutMs, killSignal: 'SIGKILL'}) as ChildProcessWithoutNullStreams;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', error => {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new CommandError([file, ...args], null, missing ? `${file} was not found in PATH: install it` : error.message));
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({stdout, stderr});
      else if (signal === 'SIGKILL' && child.killed) reject(new CommandError([file, ...args], null, `did not finish within ${timeoutMs / 1000} s and was killed`));
      else reject(new CommandError([file, ...args], code, stderr, stdout));
    });
    // A child that exits before reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
