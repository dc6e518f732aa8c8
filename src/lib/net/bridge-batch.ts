import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process';
import {once} from 'node:events';
import {batchUnsafeWord} from './ip.js';

/**
 * Ends each request: a command that always fails, on a device that cannot exist (interface names
 * hold 15 bytes at most), so its `Command failed -:<line>` on stderr says every line before it ran.
 */
const SENTINEL = 'fdb show dev weave-batch-end-of-request';

/** How long one request may take before the process is taken for hung and killed. */
const REQUEST_TIMEOUT_MS = 10_000;

/** The process ended, or never answered: what it said last, if anything. */
export class BridgeBatchError extends Error {
  constructor(message: string) {
    super(`bridge -batch: ${message}`);
    this.name = 'BridgeBatchError';
  }
}

interface Request {
  /** Line numbers (the process counts from 1) of the request's first line and of its sentinel. */
  first: number;
  sentinel: number;
  failures: Map<number, string>;
  resolve(failures: Map<number, string>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One `bridge -force -batch -` process kept running and fed commands line by line, started when
 * first needed and again after it ends. Forking the router (~60 MB) costs ~9 ms of CPU each time,
 * and a forming mesh changes the overlay's forwarding entries many times over. With -force every
 * line runs whatever the others did; each failure is reported on stderr in order, its reason on
 * the line before `Command failed -:<line>`.
 */
export class BridgeBatch {
  private child?: ChildProcessWithoutNullStreams;
  /** Lines written to the current process. */
  private written = 0;
  private partial = '';
  private lastText = '';
  private request?: Request;
  private queue: Promise<unknown> = Promise.resolve();

  /** `netns`: run inside that network namespace (entered with nsenter) rather than ours. */
  constructor(private readonly netns?: string) {}

  /** Runs the commands in order, one at a time with other calls; resolves with each failed line's reason, by index. */
  run(commands: readonly (readonly string[])[]): Promise<Map<number, string>> {
    const result = this.queue.then(() => this.send(commands));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Ends the process (it exits on end of input) and waits for it. */
  async close(): Promise<void> {
    await this.queue;
    const {child} = this;
    if (!child) return;
    this.child = undefined;
    const exited = once(child, 'exit');
    child.stdin.end();
    await exited;
  }

  private send(commands: readonly (readonly string[])[]): Promise<Map<number, string>> {
    const bad = batchUnsafeWord(commands.flat());
    if (bad !== undefined) throw new BridgeBatchError(`invalid word ${JSON.stringify(bad)} in a command`);
    const child = this.child ?? this.start();
    const first = this.written + 1;
    this.written += commands.length + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new BridgeBatchError(`no answer in ${REQUEST_TIMEOUT_MS / 1000} s`));
        child.kill('SIGKILL');
      }, REQUEST_TIMEOUT_MS);
      this.request = {first, sentinel: this.written, failures: new Map(), resolve, reject, timer};
      child.stdin.write([...commands.map(c => c.join(' ')), SENTINEL].join('\n') + '\n');
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    const args = ['-force', '-batch', '-'];
    const child = this.netns ? spawn('nsenter', [`--net=${this.netns}`, 'bridge', ...args]) : spawn('bridge', args);
    this.child = child;
    this.written = 0;
    this.partial = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (text: string) => this.onStderr(text));
    // A write after the process died must not crash us with EPIPE: the exit reports it.
    child.stdin.on('error', () => {});
    child.on('error', error => {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      this.ended(child, missing ? `${this.netns ? 'nsenter' : 'bridge'} was not found in PATH: install iproute2` : error.message);
    });
    child.on('exit', (code, signal) => this.ended(child, `exited (${signal ?? `code ${code}`})${this.lastText ? `: ${this.lastText}` : ''}`));
    return child;
  }

  private ended(child: ChildProcessWithoutNullStreams, reason: string): void {
    if (this.child === child) this.child = undefined;
    this.fail(new BridgeBatchError(reason));
  }

  private fail(error: Error): void {
    const {request} = this;
    if (!request) return;
    this.request = undefined;
    clearTimeout(request.timer);
    request.reject(error);
  }

  private onStderr(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      const failed = /^Command failed -:(\d+)$/.exec(line);
      if (!failed) {
        if (line.trim()) this.lastText = line.trim();
        continue;
      }
      const {request} = this;
      const number = Number(failed[1]);
      if (!request || number < request.first) continue;
      if (number !== request.sentinel) {
        request.failures.set(number - request.first, this.lastText);
        continue;
      }
      this.request = undefined;
      clearTimeout(request.timer);
      request.resolve(request.failures);
    }
  }
}
