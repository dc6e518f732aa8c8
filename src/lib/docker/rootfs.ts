import {constants} from 'node:fs';
import {access, copyFile, lstat, mkdir, readdir, realpath, symlink, writeFile} from 'node:fs/promises';
import {basename, delimiter, dirname, join} from 'node:path';
import {run} from '../net/exec.js';
import {DockerOperatorError} from './errors.js';

/** A program of this machine the router runs, and the path it gets in the image. */
interface Tool {
  /** A command looked up in PATH, or an absolute path. */
  host: string;
  image: string;
  /** The apt package to install when it is missing. */
  apt: string;
}

/** What the router executes: node, iproute2, iptables (nft), nsenter, flock (its state lock), setpriv, sysctl, and a /bin/sh. */
function tools(node: string): Tool[] {
  return [
    {host: node, image: '/usr/bin/node', apt: 'nodejs'},
    {host: 'ip', image: '/usr/sbin/ip', apt: 'iproute2'},
    {host: 'bridge', image: '/usr/sbin/bridge', apt: 'iproute2'},
    {host: 'xtables-nft-multi', image: '/usr/sbin/xtables-nft-multi', apt: 'iptables'},
    {host: 'nsenter', image: '/usr/bin/nsenter', apt: 'util-linux'},
    {host: 'flock', image: '/usr/bin/flock', apt: 'util-linux'},
    // Ties the router's long-running `ip monitor` to its life (--pdeathsig).
    {host: 'setpriv', image: '/usr/bin/setpriv', apt: 'util-linux'},
    {host: 'sysctl', image: '/usr/sbin/sysctl', apt: 'procps'},
    {host: 'dash', image: '/usr/bin/dash', apt: 'dash'},
  ];
}

/** Names under which one binary serves (xtables-nft-multi dispatches on its argv[0]). */
const LINKS: Record<string, string> = {
  '/usr/sbin/iptables': 'xtables-nft-multi',
  '/usr/sbin/iptables-save': 'xtables-nft-multi',
  '/usr/sbin/iptables-restore': 'xtables-nft-multi',
  '/usr/bin/sh': 'dash',
};

/** The merged-/usr layout of Debian 12 and most distributions: old paths are links into /usr. */
const MERGED_DIRS: Record<string, string> = {'/bin': 'usr/bin', '/sbin': 'usr/sbin', '/lib': 'usr/lib', '/lib64': 'usr/lib64'};

/** Small files of /etc that the tools read when present (iptables names protocols from /etc/protocols). */
const ETC_FILES = ['/etc/protocols'];

async function which(command: string, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Promise<string | undefined> {
  if (command.startsWith('/')) return command;
  // sbin is searched too: a non-root PATH often lacks it, yet ip and sysctl live there.
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin']) {
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The shared libraries `ldd` lists for a binary or library, as absolute paths. */
async function sharedLibraries(file: string): Promise<string[]> {
  let stdout: string;
  try {
    ({stdout} = await run('ldd', [file]));
  } catch (error) {
    // "not a dynamic executable": a static binary needs nothing more.
    if (/not a dynamic executable|statically linked/.test(String((error as {stderr?: string}).stderr ?? error))) return [];
    throw error;
  }
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    if (/=> not found/.test(line)) throw new DockerOperatorError(`cannot build the router image: ${file} needs ${line.trim().split(' ')[0]}, which is not installed`);
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/**
 * A root file system for the router image, assembled from this machine's own binaries and the
 * libraries they load: no registry and no base image needed. Paths mirror the host's, so every
 * library resolves inside the image as it does here.
 */
export class Rootfs {
  private readonly placed = new Set<string>();

  constructor(readonly dir: string) {}

  /** Copies a host file to the same place in the image, keeping the symlink that named it. */
  private async place(hostPath: string): Promise<void> {
    if (this.placed.has(hostPath)) return;
    this.placed.add(hostPath);
    const real = await realpath(hostPath);
    const canonical = join(await realpath(dirname(hostPath)), basename(hostPath));
    await mkdir(join(this.dir, dirname(real)), {recursive: true});
    await copyFile(real, join(this.dir, real));
    if (canonical !== real) {
      await mkdir(join(this.dir, dirname(canonical)), {recursive: true});
      await symlink(dirname(canonical) === dirname(real) ? basename(real) : real, join(this.dir, canonical)).catch(ignoreExists);
    }
  }

  private async placeWithLibraries(file: string): Promise<void> {
    await this.place(file);
    for (const lib of await sharedLibraries(file)) await this.place(lib);
  }

  /** Lays out the directories, the tools, their libraries and the iptables extensions. */
  async addTools(node: string): Promise<void> {
    for (const dir of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc', 'run', 'proc', 'sys', 'dev', 'weavedb']) await mkdir(join(this.dir, dir), {recursive: true});
    await mkdir(join(this.dir, 'tmp'), {mode: 0o1777});
    for (const [link, target] of Object.entries(MERGED_DIRS)) {
      if ((await lstat(link).catch(() => undefined))?.isSymbolicLink()) await symlink(target, join(this.dir, link));
    }
    for (const tool of tools(node)) {
      const found = await which(tool.host);
      if (!found) throw new DockerOperatorError(`cannot build the router image: ${tool.host} is missing on this machine: apt-get install -y ${tool.apt}`);
      const real = await realpath(found);
      await this.placeWithLibraries(real);
      const at = join(this.dir, tool.image);
      await mkdir(dirname(at), {recursive: true});
      if (real !== tool.image) await symlink(real, at).catch(ignoreExists);
    }
    for (const [link, target] of Object.entries(LINKS)) await symlink(target, join(this.dir, link)).catch(ignoreExists);
    await this.addXtablesModules();
    for (const file of ETC_FILES) await copyFile(file, join(this.dir, file)).catch(() => undefined);
    await writeFile(join(this.dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(join(this.dir, 'etc/group'), 'root:x:0:\n');
  }

  /** iptables loads its match and target extensions from the xtables directory beside libxtables. */
  private async addXtablesModules(): Promise<void> {
    const libxtables = (await sharedLibraries(await realpath((await which('xtables-nft-multi'))!))).find(l => basename(l).startsWith('libxtables.so'));
    if (!libxtables) return;
    const dir = join(dirname(await realpath(libxtables)), 'xtables');
    const modules = (await readdir(dir)).filter(name => name.endsWith('.so'));
    for (const module of modules) await this.placeWithLibraries(join(dir, module));
  }

  /** A tar stream of the tree, root-owned whatever the builder's ids. */
  static tarArgs(dir: string): string[] {
    return ['-C', dir, '--numeric-owner', '--owner=0', '--group=0', '-c', '.'];
  }
}

function ignoreExists(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EEXIST') throw error;
}
