import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {Netns} from './netns.js';

export interface DockerRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * A Docker engine of its own for one simulated host: dockerd started inside that host's
 * network namespace (with nsenter, as ENVIRONMENT.md says: `ip netns exec` remounts /sys and
 * dockerd then fails), with its own data-root, exec-root, socket, pidfile and containerd
 * namespaces, no bridge and no iptables rules. A `--net=host` container of it sees only the
 * namespace's interfaces. Its directory is short-named: containerd's socket path must fit 108 bytes.
 */
export class Dockerd {
  readonly socket: string;
  private readonly logFile: string;

  private constructor(
    readonly ns: Netns,
    readonly dir: string,
    private readonly ownsNs: boolean,
    private readonly child: ChildProcess,
  ) {
    this.socket = join(dir, 'docker.sock');
    this.logFile = join(dir, 'dockerd.log');
  }

  /**
   * Starts an engine in `ns` (a new namespace when none is given) and waits until it answers.
   * `tcp` adds a listener such as tcp://127.0.0.1:2375 (inside that namespace) to its socket.
   */
  static async start(ns?: Netns, options: {tcp?: string; timeoutMs?: number} = {}): Promise<Dockerd> {
    const host = ns ?? Netns.create('wdh');
    const dir = mkdtempSync('/tmp/wd-');
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    const child = spawn(
      'nsenter',
      [
        `--net=${host.path}`,
        'dockerd',
        '--data-root', join(dir, 'root'),
        '--exec-root', join(dir, 'exec'),
        '-H', `unix://${join(dir, 'docker.sock')}`,
        ...(options.tcp ? ['-H', options.tcp] : []),
        '--pidfile', join(dir, 'docker.pid'),
        '--bridge=none',
        '--iptables=false',
        '--ip-forward=false',
        '--containerd-namespace', host.name,
        '--containerd-plugins-namespace', `${host.name}p`,
      ],
      // Its own session: the engine must not get the test runner's signals.
      {stdio: ['ignore', log, log], detached: true},
    );
    closeSync(log);
    const engine = new Dockerd(host, dir, ns === undefined, child);
    await engine.waitReady(options.timeoutMs ?? 30_000);
    return engine;
  }

  /** DOCKER_HOST for clients of this engine. */
  get dockerHost(): string {
    return `unix://${this.socket}`;
  }

  get log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`dockerd exited (${this.child.exitCode}):\n${this.log.slice(-3000)}`);
      if (this.docker(['version', '--format', '{{.Server.Version}}']).exitCode === 0) return;
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    throw new Error(`dockerd did not answer within ${timeoutMs} ms:\n${this.log.slice(-3000)}`);
  }

  /** The docker CLI against this engine. */
  docker(args: string[], input?: string | Buffer): DockerRun {
    const out = spawnSync('docker', ['-H', this.dockerHost, ...args], {encoding: 'utf8', input, maxBuffer: 64 << 20});
    if (out.error) throw out.error;
    return {stdout: out.stdout, stderr: out.stderr, exitCode: out.status ?? -1};
  }

  /** As docker(), throwing with docker's message on failure; stdout trimmed. */
  must(args: string[]): string {
    const out = this.docker(args);
    if (out.exitCode !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${out.exitCode}): ${out.stderr.trim()}`);
    return out.stdout.trim();
  }

  /** Whether the engine lists `image`. */
  hasImage(image: string): boolean {
    return this.docker(['image', 'inspect', image]).exitCode === 0;
  }

  /** Saves `image` to a tarball, for loadImage() into other engines: there is no registry. */
  saveImage(image: string, file: string): void {
    this.must(['save', '--output', file, image]);
  }

  loadImage(file: string): void {
    this.must(['load', '--quiet', '--input', file]);
  }

  /** Stops the engine (its containers stop with it), removes its files, and its namespace if it made it. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise(resolve => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    // Mounts the engine left behind (a killed engine leaves its overlays) would make rm fail.
    for (const mount of mountsUnder(this.dir).reverse()) spawnSync('umount', ['-l', mount]);
    rmSync(this.dir, {recursive: true, force: true});
    if (this.ownsNs) this.ns.delete();
  }
}

/** Mount points at or below `dir`, from this process's mount table. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map(line => line.split(' ')[4] ?? '')
    .filter(point => point === dir || point.startsWith(`${dir}/`));
}
