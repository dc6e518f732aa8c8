import {execFileSync} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/** A small tmpfs of its own (root): a disk that really fills up. */
export class Tmpfs {
  private fillers = 0;

  private constructor(readonly dir: string) {}

  static mount(size: string): Tmpfs {
    const dir = mkdtempSync(join(tmpdir(), 'weave-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    return new Tmpfs(dir);
  }

  /** Writes a file until the file system is full, leaving `leave` bytes free; returns its path. */
  fill(leave = 0): string {
    const path = join(this.dir, `filler-${this.fillers++}`);
    const fd = openSync(path, 'w');
    const chunk = Buffer.alloc(64 << 10, 1);
    try {
      for (;;) {
        const {bavail, bsize} = statfsSync(this.dir);
        const room = bavail * bsize - leave;
        if (room <= 0) break;
        writeSync(fd, chunk, 0, Math.min(chunk.length, room));
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
    return path;
  }

  unmount(): void {
    execFileSync('umount', [this.dir]);
    rmSync(this.dir, {recursive: true, force: true});
  }
}

