import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {connectDocker} from '../../src/lib/docker/client.js';
import {ensureImage} from '../../src/lib/docker/image.js';
import {defaultImage, parseImageRef} from '../../src/lib/docker/image-ref.js';
import {VERSION} from '../../src/lib/package.js';
import {Dockerd} from './dockerd.js';
import type {Netns} from './netns.js';
import {type CliRun, WEAVE_BIN} from './setup-cli.js';
import {collect} from './spawn.js';

/** The router image a launch uses by default. */
export const ROUTER_IMAGE = defaultImage(VERSION);

let imageTarball: string | undefined;

/**
 * Puts the router image on `engine`: built once per test process (as `weave launch` builds
 * it, from this machine, no registry), then copied to every other engine by save and load.
 */
export async function provideRouterImage(engine: Dockerd): Promise<void> {
  if (engine.hasImage(ROUTER_IMAGE)) return;
  if (imageTarball && existsSync(imageTarball)) {
    engine.loadImage(imageTarball);
    return;
  }
  const {docker} = await connectDocker({DOCKER_HOST: engine.dockerHost});
  await ensureImage(docker, parseImageRef(ROUTER_IMAGE));
  const dir = mkdtempSync(join(tmpdir(), 'weave-image-tar-'));
  imageTarball = join(dir, 'router.tar');
  engine.saveImage(ROUTER_IMAGE, imageTarball);
  process.once('exit', () => rmSync(dir, {recursive: true, force: true}));
}

/**
 * One simulated host driven through Docker: a network namespace with its own dockerd, and
 * scratch CNI directories (so the machine's /opt/cni and /etc/cni stay untouched). `weave`
 * runs inside the namespace with DOCKER_HOST pointing at that engine, as an operator's shell
 * on that host would.
 */
export class DockerHost {
  readonly cniDir = mkdtempSync(join(tmpdir(), 'weave-dh-cni-'));
  readonly binDir = join(this.cniDir, 'bin');
  readonly confDir = join(this.cniDir, 'conf');

  private constructor(readonly engine: Dockerd) {
    mkdirSync(this.binDir);
    mkdirSync(this.confDir);
  }

  /**
   * `image: false` leaves the engine without the router image; `tcp` adds a TCP listener to the
   * engine; `ns` runs it in a namespace of the caller's (a LAN host), else in one of its own.
   */
  static async start(options: {image?: boolean; tcp?: string; ns?: Netns} = {}): Promise<DockerHost> {
    const host = new DockerHost(await Dockerd.start(options.ns, options.tcp ? {tcp: options.tcp} : {}));
    if (options.image !== false) await provideRouterImage(host.engine);
    return host;
  }

  get ns(): Netns {
    return this.engine.ns;
  }

  /** The environment of a `weave` run on this host. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WEAVE_') && k !== 'DOCKER_HOST')) as Record<string, string>;
    return {...base, DOCKER_HOST: this.engine.dockerHost, WEAVE_CNI_PLUGIN_DIR: this.binDir, WEAVE_CNI_CONF_DIR: this.confDir, NO_COLOR: '1', ...extra};
  }

  /** `weave <args>` inside the host's namespace. */
  weave(args: string[], env: Record<string, string> = {}): CliRun {
    const out = spawnSync('nsenter', [`--net=${this.ns.path}`, process.execPath, WEAVE_BIN, ...args], {env: this.env(env), encoding: 'utf8'});
    if (out.error) throw out.error;
    return {stdout: out.stdout, stderr: out.stderr, exitCode: out.status ?? -1};
  }

  /** As weave(), without blocking the test's event loop (for runs that wait on timers). */
  weaveAsync(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return collect('nsenter', [`--net=${this.ns.path}`, process.execPath, WEAVE_BIN, ...args], {env: this.env(env)});
  }

  /** An HTTP call to the router's control API from inside the namespace: [status, body]; status 0 when nothing answers. */
  api(method: string, path: string): [number, string] {
    const out = spawnSync('nsenter', [`--net=${this.ns.path}`, 'curl', '-s', '-m', '5', '-X', method, '-w', '\n%{http_code}', `http://127.0.0.1:6784${path}`], {encoding: 'utf8'});
    const cut = out.stdout.lastIndexOf('\n');
    return [Number(out.stdout.slice(cut + 1)) || 0, out.stdout.slice(0, cut)];
  }

  /** `docker inspect` of a container, parsed; undefined when absent. */
  inspect(name = 'weave'): DockerInspect | undefined {
    const out = this.engine.docker(['container', 'inspect', name]);
    return out.exitCode === 0 ? (JSON.parse(out.stdout) as DockerInspect[])[0] : undefined;
  }

  /** Waits until `check` holds, polling every 100 ms. */
  async until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise(resolve => setTimeout(resolve, 100));
    }
  }

  ip(args: string[]): string {
    return this.ns.exec('ip', args);
  }

  /** Removes whatever a test left (reset --force), then the engine, its namespace and the scratch directories. */
  async destroy(): Promise<void> {
    try {
      this.weave(['reset', '--force']);
    } finally {
      await this.engine.stop();
      rmSync(this.cniDir, {recursive: true, force: true});
    }
  }
}

/** The parts of `docker inspect` the tests read. */
export interface DockerInspect {
  Id: string;
  Args: string[];
  RestartCount: number;
  State: {Status: string; Running: boolean; Restarting: boolean; Pid: number};
  Config: {Image: string; Cmd: string[]; Env: string[]; Labels: Record<string, string>};
  HostConfig: {
    Privileged: boolean;
    NetworkMode: string;
    PidMode: string;
    CapAdd: string[] | null;
    CapDrop: string[] | null;
    RestartPolicy: {Name: string};
    ReadonlyPaths: string[] | null;
    Devices: {PathOnHost: string; PathInContainer: string; CgroupPermissions: string}[] | null;
  };
  Mounts: {Type: string; Name?: string; Source: string; Destination: string; Propagation: string; RW: boolean}[];
}
