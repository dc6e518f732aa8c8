import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import {closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {CriClient, kubeletSandboxConfig, type PortMapping} from './cri/client.js';
import type {PauseImage} from './cri/pause-image.js';
import {mountsUnder} from './dockerd.js';
import type {Netns} from './netns.js';

export interface ContainerdOptions {
  /** The namespace containerd runs in, which plays the node: the plugins it calls run there. */
  ns: Netns;
  /** CNI `bin_dir`: where `weave setup` installed, with loopback and portmap beside. */
  binDir: string;
  /** CNI `conf_dir` of the default runtime handler. */
  confDir: string;
  /** More runtime handlers (runc too), by name, each with a CNI conf dir of its own. */
  handlers?: Record<string, string>;
  image: PauseImage;
}

/** A pod sandbox containerd runs, as its status reports it. */
export interface CriPod {
  id: string;
  name: string;
  /** The pod's uid, as kubelet sends it (one per pod, here random). */
  uid: string;
  ip: string;
  /** Its network namespace, the bind mount containerd made (CNI_NETNS of its plugin calls). */
  netns: string;
  /** The sandbox's process. */
  pid: number;
}

export interface PodRequest {
  name: string;
  namespace?: string;
  ports?: PortMapping[];
  /** A runtime handler of ContainerdOptions.handlers; the default handler when absent. */
  handler?: string;
}

/** containerd's verbose sandbox status: the parts of its "info" document read here. */
interface SandboxInfo {
  pid: number;
  runtimeSpec: {linux: {namespaces: {type: string; path?: string}[]}};
}

const toml = (value: string) => JSON.stringify(value);

/** containerd 1.6's config (version 2): every path its own, the CRI plugin on, CNI where the test says. */
function renderConfig(dir: string, socket: string, options: ContainerdOptions): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const handler = (name: string, confDir?: string) => [
    `  [${cri}.containerd.runtimes.${toml(name)}]`,
    '    runtime_type = "io.containerd.runc.v2"',
    ...(confDir ? [`    cni_conf_dir = ${toml(confDir)}`, '    cni_max_conf_num = 1'] : []),
  ];
  return [
    'version = 2',
    `root = ${toml(join(dir, 'root'))}`,
    `state = ${toml(join(dir, 'state'))}`,
    // Snapshotters this kernel or host lacks; they would only log errors at every start.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
    '[grpc]',
    `  address = ${toml(socket)}`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${toml(join(dir, 'opt'))}`,
    `[${cri}]`,
    `  sandbox_image = ${toml(options.image.name)}`,
    // This sandbox lacks CAP_SYS_RESOURCE: runc fails to start anything without it.
    '  restrict_oom_score_adj = true',
    '  stream_server_port = "0"',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    ...handler('runc'),
    ...Object.entries(options.handlers ?? {}).flatMap(([name, confDir]) => handler(name, confDir)),
    `[${cri}.cni]`,
    `  bin_dir = ${toml(options.binDir)}`,
    `  conf_dir = ${toml(options.confDir)}`,
    '',
  ].join('\n');
}

/**
 * A private containerd with its CRI plugin, run the way a Kubernetes node runs it but with its
 * own config, root, state and socket under a temp dir, inside the test's network namespace
 * (with nsenter: `ip netns exec` remounts /sys). The machine's own containerd (Docker's) is
 * never touched. Pods go through `cri`, the CRI v1 API kubelet uses.
 */
export class Containerd {
  readonly socket: string;
  readonly cri: CriClient;
  private child?: ChildProcess;
  /** Namespace mounts of the pods seen, removed at destroy() should containerd have left any. */
  private readonly netnsPaths = new Set<string>();

  private constructor(
    readonly options: ContainerdOptions,
    readonly dir: string,
  ) {
    this.socket = join(dir, 'containerd.sock');
    this.cri = CriClient.connect(this.socket);
  }

  /** Starts it, waits until its CRI service answers, and imports the pause image. */
  static async start(options: ContainerdOptions): Promise<Containerd> {
    // Short: the socket path must fit 108 bytes.
    const containerd = new Containerd(options, mkdtempSync('/tmp/wcd-'));
    writeFileSync(join(containerd.dir, 'config.toml'), renderConfig(containerd.dir, containerd.socket, options));
    try {
      await containerd.launch();
      const ctr = spawnSync('ctr', ['--address', containerd.socket, '--namespace', 'k8s.io', 'images', 'import', options.image.archive], {encoding: 'utf8'});
      if (ctr.status !== 0) throw new Error(`ctr images import ${options.image.archive} failed (exit ${ctr.status}): ${(ctr.stderr || String(ctr.error)).trim()}`);
    } catch (error) {
      await containerd.destroy();
      throw error;
    }
    return containerd;
  }

  get log(): string {
    const file = join(this.dir, 'containerd.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  private async launch(timeoutMs = 30_000): Promise<void> {
    const log = openSync(join(this.dir, 'containerd.log'), 'a');
    // Its own session, as a node's service: the test runner's signals are not its own.
    const child = spawn('nsenter', [`--net=${this.options.ns.path}`, 'containerd', '--config', join(this.dir, 'config.toml')], {stdio: ['ignore', log, log], detached: true});
    closeSync(log);
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`containerd exited (${child.exitCode ?? child.signalCode}):\n${this.log.slice(-3000)}`);
      try {
        await this.cri.version(2000);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`containerd's CRI service did not answer within ${timeoutMs} ms (${(error as Error).message}):\n${this.log.slice(-3000)}`);
      }
      await new Promise(resolve => setTimeout(resolve, 200));
    }
  }

  /** Stops containerd alone (SIGTERM, by its pid): shims and pods keep running, as on a node. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise(resolve => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  /** containerd stopped and started again over the same state, as a node's service restart. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** RunPodSandbox with what kubelet sends, then its status: address, namespace and pid. */
  async runPod(request: PodRequest): Promise<CriPod> {
    const config = kubeletSandboxConfig({
      name: request.name,
      namespace: request.namespace ?? 'default',
      uid: randomUUID(),
      ...(request.ports ? {ports: request.ports} : {}),
      logRoot: join(this.dir, 'pods'),
    });
    const id = await this.cri.runPodSandbox(config, request.handler ?? '');
    return this.pod(id);
  }

  /** A running pod as its status reports it. */
  async pod(id: string): Promise<CriPod> {
    const {status, info} = await this.cri.podSandboxStatus(id, true);
    const sandbox = JSON.parse(info.info ?? '{}') as SandboxInfo;
    const netns = sandbox.runtimeSpec?.linux.namespaces.find(n => n.type === 'network')?.path;
    if (!netns) throw new Error(`containerd reports no network namespace for sandbox ${id}: ${info.info}`);
    this.netnsPaths.add(netns);
    return {id, name: status.metadata.name, uid: status.metadata.uid, ip: status.network?.ip ?? '', netns, pid: sandbox.pid};
  }

  /** What kubelet does to a pod going away: StopPodSandbox (the CNI DEL), then RemovePodSandbox. */
  async removePod(id: string): Promise<void> {
    await this.cri.stopPodSandbox(id);
    await this.cri.removePodSandbox(id);
  }

  /**
   * Removes every pod through CRI, stops containerd, then anything a failure left: its shims
   * and their sandbox processes (found by its socket in their command lines), namespace
   * mounts, and the mounts under its directory.
   */
  async destroy(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      try {
        for (const pod of await this.cri.listPodSandbox()) await this.removePod(pod.id).catch(() => undefined);
      } catch {
        // not answering: what it ran goes below
      }
    }
    this.cri.close();
    await this.stop();
    for (const pid of this.leftoverProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const path of this.netnsPaths) {
      if (!existsSync(path)) continue;
      spawnSync('umount', ['-l', path]);
      rmSync(path, {force: true});
    }
    for (const mount of mountsUnder(this.dir).reverse()) spawnSync('umount', ['-l', mount]);
    rmSync(this.dir, {recursive: true, force: true});
  }

  /** This containerd's shims (their -address is our socket) and the processes they run. */
  private leftoverProcesses(): number[] {
    const procs = readdirSync('/proc').filter(p => /^\d+$/.test(p)).map(Number);
    const read = (pid: number, file: string) => {
      try {
        return readFileSync(`/proc/${pid}/${file}`, 'utf8');
      } catch {
        return '';
      }
    };
    const shims = new Set(procs.filter(pid => read(pid, 'cmdline').split('\0').includes(this.socket)));
    // The parent pid is the 4th field of stat, after the command name in parentheses.
    const parent = (pid: number) => Number(read(pid, 'stat').replace(/^.*\) /s, '').split(' ')[1]);
    return [...shims, ...procs.filter(pid => shims.has(parent(pid)))];
  }
}
