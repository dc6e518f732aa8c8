import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {runWeave} from './setup-cli.js';

/** `weave setup-cni` into a fresh temporary directory: the launcher and its links in bin/, the conflist in conf/. */
export class InstalledPlugin {
  readonly dir = mkdtempSync(join(tmpdir(), 'weave-cni-'));
  readonly binDir = join(this.dir, 'bin');
  readonly confDir = join(this.dir, 'conf');

  constructor() {
    mkdirSync(this.binDir);
    mkdirSync(this.confDir);
    const setup = runWeave(['setup-cni', '--cni-bin-dir', this.binDir, '--cni-conf-dir', this.confDir]);
    assert.equal(setup.exitCode, 0, setup.stderr);
  }

  /** The installed plugin under one of its names. */
  plugin(name: 'weave-net' | 'weave-ipam' = 'weave-net'): string {
    return join(this.binDir, name);
  }

  /**
   * A PATH of `tools` linked from this machine, then /usr/sbin, and no perl: the launcher then
   * takes the socat client when `tools` has socat, else runs the plugin cold.
   */
  pathWith(name: string, tools: readonly string[]): string {
    const farm = join(this.dir, name);
    mkdirSync(farm);
    for (const tool of tools) symlinkSync(execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], {encoding: 'utf8'}).trim(), join(farm, tool));
    return `${farm}:/usr/sbin`;
  }

  remove(): void {
    rmSync(this.dir, {recursive: true, force: true});
  }
}

/** What the launcher's socat client runs, besides socat itself. */
export const SOCAT_CLIENT_TOOLS = ['nsenter', 'readlink', 'socat', 'cat', 'stat', 'sed', 'head'];
