import {execFileSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';

/**
 * A real local user made with useradd (no home, no login shell), for what non-root users may
 * and may not do; argv() runs a command as that user (setpriv, from util-linux). remove() deletes it.
 */
export class TestUser {
  private constructor(
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
  ) {}

  static create(): TestUser {
    const name = `wtu${randomBytes(3).toString('hex')}`;
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name]);
    const id = (flag: string) => Number(execFileSync('id', [flag, name], {encoding: 'utf8'}).trim());
    return new TestUser(name, id('-u'), id('-g'));
  }

  /** `command` as this user, with its groups only. */
  argv(command: readonly string[]): string[] {
    return ['setpriv', `--reuid=${this.uid}`, `--regid=${this.gid}`, '--init-groups', '--', ...command];
  }

  remove(): void {
    try {
      execFileSync('userdel', [this.name], {stdio: 'ignore'});
    } catch {
      // already gone
    }
  }
}
