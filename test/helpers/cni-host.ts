import {execFileSync} from 'node:child_process';
import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Netns} from './netns.js';
import {type PluginRun, runPlugin} from './plugin.js';

/**
 * A simulated host for CNI tests: a network namespace the plugin runs in (so the machine's
 * own links are never touched), a host-local data dir, and pods as namespaces of their own.
 */
export class CniHost {
  readonly ns = Netns.create('wth');
  readonly dataDir = mkdtempSync(join(tmpdir(), 'weave-hl-'));
  private readonly pods: Netns[] = [];

  constructor(readonly network = 'weave') {}

  pod(): Netns {
    const pod = Netns.create('wtp');
    this.pods.push(pod);
    return pod;
  }

  /** A weave-net config with host-local IPAM over `subnet`, in `cniVersion`. */
  config(cniVersion: string, subnet: string, extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}): Record<string, unknown> {
    return {cniVersion, name: this.network, type: 'weave-net', ...extra, ipam: {type: 'host-local', subnet, dataDir: this.dataDir, ...ipam}};
  }

  env(command: string, pod: Netns | undefined, containerId: string, ifname = 'eth0'): Record<string, string> {
    return {CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: pod?.path ?? '', CNI_IFNAME: ifname, CNI_PATH: '/usr/lib/cni'};
  }

  run(env: Record<string, string>, config: unknown, plugin: 'weave-net' | 'weave-ipam' = 'weave-net'): Promise<PluginRun> {
    return runPlugin({env, config, hostNetns: this.ns.path, plugin});
  }

  /** Addresses host-local holds for our network: one file per allocated IP. */
  allocations(): string[] {
    try {
      return readdirSync(join(this.dataDir, this.network)).filter(f => /^[\d.]+$|:/.test(f));
    } catch {
      return [];
    }
  }

  vethLinks(): string[] {
    return this.ns.links().filter(l => l.startsWith('vethwepl'));
  }

  exec(file: string, args: string[]): string {
    return this.ns.exec(file, args);
  }

  destroy(): void {
    for (const pod of this.pods) pod.delete();
    this.ns.delete();
    rmSync(this.dataDir, {recursive: true, force: true});
  }
}

/** Ping once from inside `ns` (any namespace path: a runtime's pods are no Netns of ours); true when answered. */
export function pings(ns: Pick<Netns, 'path'>, address: string): boolean {
  try {
    execFileSync('nsenter', [`--net=${ns.path}`, 'ping', '-c', '1', '-W', '2', address], {stdio: 'ignore'});
    return true;
  } catch {
    return false;
  }
}
