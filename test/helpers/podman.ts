import {spawnSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {withBusyboxRootfs} from './busybox.js';

export interface PodmanConfig {
  /** Run podman inside this network namespace, which then plays the host (its router, its bridge). */
  netns?: string;
  /** Where podman looks for plugins, first match wins (ours, then the reference ones). */
  pluginDirs: string[];
  /** The directory podman reads conflists from. */
  networkConfigDir: string;
}

/** A podman with its own containers.conf (CONTAINERS_CONF), so /etc stays untouched. */
export class Podman {
  private constructor(
    readonly containersConf: string,
    private readonly netns?: string,
  ) {}

  /**
   * Writes the containers.conf the CNI backend needs here: no default ulimits (runc cannot set
   * them in this sandbox), cgroupfs and file events (no systemd).
   */
  static configure(file: string, config: PodmanConfig): Podman {
    const list = (dirs: string[]) => dirs.map(d => JSON.stringify(d)).join(', ');
    writeFileSync(
      file,
      [
        '[containers]',
        'default_ulimits = []',
        '[network]',
        'network_backend = "cni"',
        `cni_plugin_dirs = [${list(config.pluginDirs)}]`,
        `network_config_dir = ${JSON.stringify(config.networkConfigDir)}`,
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        '',
      ].join('\n'),
    );
    return new Podman(file, config.netns);
  }

  /** Runs podman; its stdout, trimmed. Failure throws with podman's own message. */
  run(args: string[]): string {
    const [file, argv] = this.netns ? ['nsenter', [`--net=${this.netns}`, 'podman', ...args]] : ['podman', args];
    const out = spawnSync(file, argv, {env: {...process.env, CONTAINERS_CONF: this.containersConf}, encoding: 'utf8'});
    if (out.error) throw out.error;
    if (out.status !== 0) throw new Error(`podman ${args.join(' ')} failed (exit ${out.status}): ${(out.stderr || out.stdout).trim()}`);
    return out.stdout.trim();
  }

  /** Imports `ref` from a rootfs of busybox-static and its applet links: no registry needed. */
  importBusyboxImage(ref: string): void {
    withBusyboxRootfs(tarball => this.run(['import', '--quiet', tarball, ref]));
  }

  /** The container's IPv4 address on `network`, as the CNI result gave it to podman. */
  address(id: string, network: string): string {
    return this.run(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, id]);
  }

  /** Removes containers at once (no stop grace: `sleep` as pid 1 ignores SIGTERM). */
  remove(ids: string[]): void {
    if (ids.length > 0) this.run(['rm', '--force', '--time', '0', ...ids]);
  }
}

export interface HostLocalIpam {
  subnet: string;
  /** host-local keeps one file per allocated address under <dataDir>/<network name>. */
  dataDir: string;
}

/**
 * A copy of an installed conflist whose weave-net plugin delegates IPAM to host-local: until
 * the router runs, weave's own IPAM cannot answer. The original file is left as it is.
 */
export function writeHostLocalConflist(installed: string, target: string, ipam: HostLocalIpam): void {
  const conflist = JSON.parse(readFileSync(installed, 'utf8')) as {plugins: Record<string, unknown>[]};
  const weave = conflist.plugins.find(p => p.type === 'weave-net');
  if (!weave) throw new Error(`${installed} lists no weave-net plugin`);
  weave.ipam = {type: 'host-local', subnet: ipam.subnet, dataDir: ipam.dataDir};
  writeFileSync(target, JSON.stringify(conflist, null, 2) + '\n');
}
