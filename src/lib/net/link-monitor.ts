import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process';

/** One line of `ip -o monitor link`: a link as it is now, or as it was when deleted. */
export interface LinkEvent {
  deleted: boolean;
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu?: number;
  address?: string;
}

const EVENT = /^(Deleted )?(\d+): ([^:@\s]+)(?:@\S+)?: <([^>]*)>(?:.* mtu (\d+))?(?:.*link\/ether ([0-9a-f:]{17}))?/;

export function parseLinkEvent(line: string): LinkEvent | undefined {
  const m = EVENT.exec(line);
  if (!m) return undefined;
  return {
    deleted: m[1] !== undefined,
    ifindex: Number(m[2]),
    ifname: m[3]!,
    flags: m[4] ? m[4].split(',') : [],
    ...(m[5] ? {mtu: Number(m[5])} : {}),
    ...(m[6] ? {address: m[6]} : {}),
  };
}

/** How long to wait before running `ip monitor` again after it ended. */
const RESTART_MS = 1000;

/**
 * `ip -o monitor link` kept running: every change of a link (created, changed, deleted) as it
 * happens, at no cost while nothing changes, where a poll would fork every few seconds. Run
 * again when it ends; `onRestart` then says events may have been missed.
 */
export class LinkMonitor {
  private child?: ChildProcessWithoutNullStreams;
  private partial = '';
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly onEvent: (event: LinkEvent) => void,
    private readonly onRestart: (reason: string) => void,
    /** Run inside this network namespace (entered with nsenter) rather than ours. */
    private readonly netns?: string,
  ) {}

  start(): void {
    // Killed when we die, even by SIGKILL: it reads no input that would end, and would otherwise
    // live on, and keep its network namespace alive, until a link changes there.
    const command = ['setpriv', '--pdeathsig', 'KILL', 'ip', '-o', 'monitor', 'link'];
    const child = this.netns ? spawn('nsenter', [`--net=${this.netns}`, ...command]) : spawn(command[0]!, command.slice(1));
    this.child = child;
    this.partial = '';
    child.stdin.end();
    child.stderr.resume();
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        const event = parseLinkEvent(line);
        if (event) this.onEvent(event);
      }
    });
    child.on('error', error => this.ended(child, error.message));
    child.on('exit', (code, signal) => this.ended(child, `exited (${signal ?? `code ${code}`})`));
  }

  private ended(child: ChildProcessWithoutNullStreams, reason: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.start();
      this.onRestart(reason);
    }, RESTART_MS);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const {child} = this;
    this.child = undefined;
    child?.kill();
  }
}
