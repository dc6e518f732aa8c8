import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';

/** A short unique name, fit for namespaces and links (15 bytes at most). */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`.slice(0, 15);
}

/** A named network namespace under /run/netns, with loopback up. */
export class Netns {
  readonly path: string;

  private constructor(readonly name: string) {
    this.path = `/run/netns/${name}`;
  }

  static create(prefix = 'wt'): Netns {
    const ns = new Netns(uniqueName(prefix));
    execFileSync('ip', ['netns', 'add', ns.name]);
    ns.exec('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a program inside the namespace (nsenter, which unlike `ip netns exec` leaves /sys alone). */
  exec(file: string, args: string[], input?: string): string {
    return execFileSync('nsenter', [`--net=${this.path}`, file, ...args], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']});
  }

  /** Starts a long-running program inside the namespace; the caller kills it. */
  spawnDetached(file: string, args: string[]): ChildProcess {
    return spawn('nsenter', [`--net=${this.path}`, file, ...args], {stdio: 'ignore'});
  }

  /** Link names in the namespace. */
  links(): string[] {
    return (JSON.parse(this.exec('ip', ['-j', 'link', 'show'])) as {ifname: string}[]).map(l => l.ifname);
  }

  delete(): void {
    try {
      execFileSync('ip', ['netns', 'del', this.name], {stdio: 'ignore'});
    } catch {
      // already gone
    }
  }
}
