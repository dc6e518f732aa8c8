import {readFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type Dockerode from 'dockerode';
import {DockerOperatorError} from './errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where the engine listens, as docker-modem read DOCKER_HOST. */
export type DockerEndpoint = {kind: 'unix'; socketPath: string} | {kind: 'tcp'; host: string; port: number; tls: boolean};

export function describeEndpoint(endpoint: DockerEndpoint): string {
  if (endpoint.kind === 'unix') return `unix://${endpoint.socketPath}`;
  return `tcp://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}

/** Whether DOCKER_HOST names a unix socket (unset: the default one), which the router container can be given. */
export const isUnixEndpoint = (env: Record<string, string | undefined>): boolean => !env.DOCKER_HOST || env.DOCKER_HOST.startsWith('unix://');

/** The variables docker-modem reads from process.env, and nothing else. */
const MODEM_ENV = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CLIENT_TIMEOUT', 'DOCKER_PATH_PREFIX'] as const;

/**
 * Runs `make` with `env`'s Docker variables in process.env: docker-modem reads DOCKER_HOST
 * there alone, in its (synchronous) constructor, and a test or a simulated host passes its own.
 */
function withDockerEnv<T>(env: Record<string, string | undefined>, make: () => T): T {
  if (env === process.env) return make();
  const saved = MODEM_ENV.map(name => [name, process.env[name]] as const);
  const put = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  for (const name of MODEM_ENV) put(name, env[name]);
  try {
    return make();
  } finally {
    for (const [name, value] of saved) put(name, value);
  }
}

/** The connection fields of docker-modem's Modem that say where it dials. */
interface ModemTarget {
  socketPath?: string | (() => Promise<string>);
  host?: string;
  port?: number | string;
  protocol?: 'http' | 'https' | 'ssh';
  ca?: unknown;
  cert?: unknown;
  key?: unknown;
  getSocketPath(): Promise<string | undefined>;
}

/**
 * What docker-modem leaves to the docker CLI's defaults, filled in as the CLI does: a TCP
 * address without a port is 2375 (2376 with TLS), not HTTP's 80; TLS without DOCKER_CERT_PATH
 * uses ~/.docker.
 */
function completeModem(modem: ModemTarget, env: Record<string, string | undefined>): void {
  if (!modem.host) return;
  if (!modem.port) modem.port = modem.protocol === 'https' ? 2376 : 2375;
  if (modem.protocol !== 'https' || modem.ca !== undefined) return;
  const dir = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  Object.assign(modem, {ca: readCert(dir, 'ca.pem'), cert: readCert(dir, 'cert.pem'), key: readCert(dir, 'key.pem')});
}

const certUnreadable = (file: string, code: string | undefined): DockerOperatorError =>
  new DockerOperatorError(`cannot read ${file} for TLS to the Docker engine (${code}): set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem`);

function readCert(dir: string, name: string): Buffer {
  const file = join(dir, name);
  try {
    return readFileSync(file);
  } catch (error) {
    throw certUnreadable(file, (error as NodeJS.ErrnoException).code);
  }
}

const unsupported = (env: Record<string, string | undefined>): DockerOperatorError =>
  new DockerOperatorError(`DOCKER_HOST=${env.DOCKER_HOST} is not supported: use unix:///path/to/docker.sock or tcp://<host>:<port>`);

async function endpointOf(modem: ModemTarget): Promise<DockerEndpoint> {
  if (!modem.host) return {kind: 'unix', socketPath: (await modem.getSocketPath()) ?? DEFAULT_DOCKER_SOCKET};
  // docker-modem keeps an IPv6 address in the URL's brackets; the endpoint holds the address itself.
  return {kind: 'tcp', host: modem.host.replace(/^\[(.*)\]$/, '$1'), port: Number(modem.port), tls: modem.protocol === 'https'};
}

const START_HINT =
  'Start it (`systemctl start docker`, or `setsid dockerd >/var/log/dockerd.log 2>&1 &` where there is no init system), ' +
  'or set DOCKER_HOST to where it listens (unix:///path/to/docker.sock or tcp://<host>:<port>).';

/** The engine does not answer: says which endpoint, why, and how to start one. */
export function engineUnreachable(endpoint: DockerEndpoint, error: unknown): DockerOperatorError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = describeEndpoint(endpoint);
  const why =
    code === 'ENOENT' ? 'no such socket'
    : code === 'ECONNREFUSED' ? 'connection refused'
    : code === 'EACCES' ? 'permission denied (run as root, or as a member of the docker group)'
    : code === 'ABORT_ERR' || (error as Error).name === 'AbortError' || code === 'ETIMEDOUT' ? 'no answer within 5 s'
    : (error as Error).message;
  return new DockerOperatorError(`Cannot connect to the Docker engine at ${where}: ${why}. Is dockerd running? ${START_HINT}`);
}

export interface DockerConnection {
  docker: Dockerode;
  endpoint: DockerEndpoint;
}

/**
 * A dockerode client for `env`'s DOCKER_HOST (read by docker-modem, as the docker CLI reads
 * it: unix, tcp with TLS), not yet contacted. dockerode (with its gRPC session code) costs
 * ~250 ms to import, so only the commands that drive Docker load it.
 */
export async function openDocker(env: Record<string, string | undefined> = process.env): Promise<DockerConnection> {
  const {default: Docker} = await import('dockerode');
  let docker: Dockerode;
  try {
    docker = withDockerEnv(env, () => new Docker());
  } catch (error) {
    // It throws for an address it cannot parse, and for a certificate under DOCKER_CERT_PATH it cannot read.
    const {code, path, message} = error as NodeJS.ErrnoException;
    if (path) throw certUnreadable(path, code);
    if (!message.startsWith('DOCKER_HOST')) throw new DockerOperatorError(`cannot use the TLS files in DOCKER_CERT_PATH=${env.DOCKER_CERT_PATH}: ${message}`);
    throw unsupported(env);
  }
  const modem = docker.modem as unknown as ModemTarget;
  // docker-modem would dial ssh:// through ssh2 and an SSH agent, which nothing here tests: refused.
  if (modem.protocol === 'ssh') throw unsupported(env);
  completeModem(modem, env);
  return {docker, endpoint: await endpointOf(modem)};
}

/** A dockerode client for DOCKER_HOST, once the engine has answered a ping. */
export async function connectDocker(env: Record<string, string | undefined> = process.env): Promise<DockerConnection> {
  const connection = await openDocker(env);
  try {
    // Bounded: a wedged engine must not hang the CLI (the typings omit ping's options).
    const ping = connection.docker.ping.bind(connection.docker) as unknown as (options: {abortSignal: AbortSignal}) => Promise<unknown>;
    await ping({abortSignal: AbortSignal.timeout(5000)});
  } catch (error) {
    throw engineUnreachable(connection.endpoint, error);
  }
  return connection;
}
