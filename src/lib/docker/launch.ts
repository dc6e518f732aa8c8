import {hostname} from 'node:os';
import type Dockerode from 'dockerode';
import {RouterClient} from '../api/client.js';
import {HttpStatusError} from '../api/errors.js';
import type {Step} from '../display/task-list.js';
import {VERSION} from '../package.js';
import {DEFAULTS} from '../defaults.js';
import {parseListenAddr} from '../net/listen-addr.js';
import {mkdirCommand} from '../setup/dirs.js';
import {installCni} from '../setup/install.js';
import {connectDocker, describeEndpoint, type DockerConnection} from './client.js';
import {DockerOperatorError, engineMessage} from './errors.js';
import {prepareSocketDir} from './host-dirs.js';
import {ensureImage, imageSummary} from './image.js';
import {chooseImage, formatImageRef, type ImageRef} from './image-ref.js';
import {checkRouterArgs, controlAddr, ipallocRange, type LaunchArgs, launchEnvWarnings, meshPort, parseLaunchArgs, routerArgs, routerFlagWarnings} from './launch-args.js';
import {checkPortsFree, type TcpEndpoint} from '../host/port-check.js';
import {checkRange, hostRoutes} from '../host/route-check.js';
import {checkNotRunning, inspectContainer, isRunning, lastLogLines} from './router-container.js';
import {containerName, routerContainerSpec} from './spec.js';

export interface LaunchOptions {
  env?: Record<string, string | undefined>;
  /** How long the router may take to answer /status before launch gives up. */
  readyTimeoutMs?: number;
}

const POLL_MS = 100;

/** `weave launch`: check, image, CNI install, container, wait; each a step of its own. */
export class RouterLaunch {
  readonly args: LaunchArgs;
  readonly name: string;
  readonly image: ImageRef;
  /** The router's command line, checked when launch is constructed. */
  readonly routerArgv: string[];
  /** Lines for stderr once the steps are done (an overlapping chosen range, a CNI directory missing). */
  readonly warnings: string[] = [];
  private connection?: DockerConnection;
  private id?: string;
  private readonly env: Record<string, string | undefined>;
  private readonly client: RouterClient;

  constructor(
    argv: readonly string[],
    private readonly options: LaunchOptions = {},
  ) {
    this.env = options.env ?? process.env;
    this.args = parseLaunchArgs(argv);
    this.routerArgv = routerArgs(this.args, {env: this.env, hostname: hostname()});
    checkRouterArgs(this.routerArgv);
    this.name = containerName(this.env);
    this.image = chooseImage(this.args.image, this.env, VERSION);
    this.client = new RouterClient(controlAddr(this.args, this.env), 1000);
    this.warnings.push(...launchEnvWarnings(this.env));
  }

  /** The full id of the started container. */
  get containerId(): string {
    if (!this.id) throw new Error('the router container is not started yet');
    return this.id;
  }

  steps(): Step[] {
    return [
      {title: 'Connect to the Docker engine', run: retitle => this.connect(retitle)},
      {title: 'Check that no router runs here', run: () => this.preflight()},
      {title: `Router image ${formatImageRef(this.image)}`, run: retitle => this.ensureImage(retitle)},
      {title: 'Install the weave CNI plugin', run: retitle => this.installCni(retitle)},
      {title: `Start the router container '${this.name}'`, run: retitle => this.start(retitle)},
      {title: 'Wait for the router to answer', run: () => this.waitReady()},
    ];
  }

  private get engine(): Dockerode {
    if (!this.connection) throw new Error('not connected to Docker');
    return this.connection.docker;
  }

  private async connect(retitle: (title: string) => void): Promise<void> {
    this.connection = await connectDocker(this.env);
    retitle(`Connected to the Docker engine at ${describeEndpoint(this.connection.endpoint)}`);
  }

  private async preflight(): Promise<void> {
    await checkNotRunning(this.engine, this.name, this.image.repository);
    if (await this.routerAnswers()) throw new DockerOperatorError('Weave Net is already running', 1);
    const {range, chosen} = ipallocRange(this.args);
    this.warnings.push(...checkRange(range, chosen, await hostRoutes(), DEFAULTS.weaveBridge).warnings);
    await checkPortsFree(this.ports());
  }

  /** /status already 2xx: a router that is not this container (e.g. weave-kube's) serves this host. */
  private async routerAnswers(): Promise<boolean> {
    try {
      await this.client.status();
      return true;
    } catch {
      return false;
    }
  }

  private ports(): TcpEndpoint[] {
    const ports: TcpEndpoint[] = [{host: '0.0.0.0', port: meshPort(this.args, this.env), use: 'the peer mesh, --port'}];
    const control = parseListenAddr('--http-addr', controlAddr(this.args, this.env));
    if ('port' in control) ports.push({host: control.host, port: control.port, use: 'the control API, --http-addr'});
    return ports;
  }

  private async ensureImage(retitle: (title: string) => void): Promise<void> {
    const result = await ensureImage(this.engine, this.image, {onStep: text => retitle(`Router image: ${text}`)});
    retitle(`Router image ${imageSummary(result)}`);
  }

  private async installCni(retitle: (title: string) => void): Promise<void> {
    const report = await installCni({env: this.env});
    if (report.missing.length > 0) {
      const which = report.missing.length === 1 ? `${report.missing[0]} does not exist` : `${report.missing.join(' and ')} do not exist`;
      this.warnings.push(`WARNING: weave CNI plugin not installed: ${which}. Create ${report.missing.length === 1 ? 'it' : 'them'}, then run \`weave setup\`:`, `  ${mkdirCommand(report.missing)}`);
      retitle('Install the weave CNI plugin (skipped: directories missing)');
      return;
    }
    this.warnings.push(...report.warnings.map(w => `WARNING: ${w}`));
    retitle(report.changes.length > 0 ? `Installed the weave CNI plugin in ${report.binDir}` : `weave CNI plugin already installed in ${report.binDir}`);
  }

  private async start(retitle: (title: string) => void): Promise<void> {
    await prepareSocketDir(DEFAULTS.cniSocketDir);
    this.warnings.push(...routerFlagWarnings(this.routerArgv));
    const {endpoint} = this.connection!;
    const spec = routerContainerSpec({
      name: this.name,
      image: formatImageRef(this.image),
      args: this.routerArgv,
      restart: !this.args.noRestart,
      password: this.args.password ?? this.env.WEAVE_PASSWORD,
      ...(endpoint.kind === 'unix' ? {dockerSocket: endpoint.socketPath} : {}),
      env: this.env,
      version: VERSION,
    });
    let container: Dockerode.Container;
    try {
      container = await this.engine.createContainer(spec);
    } catch (error) {
      throw new DockerOperatorError(`cannot create the router container '${this.name}': ${engineMessage(error)}`);
    }
    try {
      await container.start();
    } catch (error) {
      // A container left in "created" would block the next launch.
      await container.remove({force: true}).catch(() => undefined);
      throw new DockerOperatorError(`cannot start the router container '${this.name}': ${engineMessage(error)}`);
    }
    this.id = container.id;
    retitle(`Started the router container '${this.name}' (${container.id.slice(0, 12)})`);
  }

  /** Polls /status until 2xx (503: still starting); a container that stops or restarts meanwhile has died. */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 120_000);
    for (let i = 0; Date.now() < deadline; i++) {
      try {
        await this.client.status();
        return;
      } catch (error) {
        if (error instanceof HttpStatusError && error.status !== 503) throw new DockerOperatorError(`the router answered /status with HTTP ${error.status}: ${error.body.trim()}`);
      }
      if (i % 5 === 0) await this.checkAlive();
      await new Promise(resolve => setTimeout(resolve, POLL_MS));
    }
    throw new DockerOperatorError(`The weave router did not answer /status within ${Math.round((this.options.readyTimeoutMs ?? 120_000) / 1000)} s. Its last log lines:\n${await lastLogLines(this.engine, this.containerId)}`);
  }

  private async checkAlive(): Promise<void> {
    const info = await inspectContainer(this.engine, this.containerId);
    if (info && isRunning(info) && info.RestartCount === 0) return;
    // A stop (unlike a kill) also ends a restart loop; the container stays for `docker logs`.
    await this.engine.getContainer(this.containerId).stop({t: 0}).catch(() => undefined);
    const logs = await lastLogLines(this.engine, this.containerId);
    throw new DockerOperatorError(`The weave container has died. Consult the container logs for further details.\nIts last log lines (docker logs ${this.name}):\n${logs}`);
  }
}
