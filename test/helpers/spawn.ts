import {spawn} from 'node:child_process';

export interface Collected {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a program to its end without blocking the event loop; its output and exit code. */
export function collect(file: string, args: readonly string[], options: {env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', d => (stdout += d));
    child.stderr!.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('close', code => resolve({stdout, stderr, exitCode: code ?? -1}));
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}
