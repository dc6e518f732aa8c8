import {readFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type Dockerode from 'dockerode';
import {DockerOperatorError} from './errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where the engine listens, from DOCKER_HOST as the docker CLI reads it. */
export type DockerEndpoint =
  | {kind: 'unix'; socketPath: string}
  | {kind: 'tcp'; host: string; port: number; tls: boolean; certPath?: string};

export function describeEndpoint(endpoint: DockerEndpoint): string {
  return endpoint.kind === 'unix' ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}

/** DOCKER_HOST: unset (the default socket), unix:///path or tcp://host:port; TLS as the docker CLI decides it. */
export function dockerEndpoint(env: Record<string, string | undefined>): DockerEndpoint {
  const host = env.DOCKER_HOST;
  if (!host) return {kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET};
  if (host.startsWith('unix://')) return {kind: 'unix', socketPath: host.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET};
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/.exec(host);
  if (!m) {
    throw new DockerOperatorError(`DOCKER_HOST=${host} is not supported: use unix:///path/to/docker.sock or tcp://<host>:<port>`);
  }
  const port = m[2] ? Number(m[2]) : env.DOCKER_TLS_VERIFY ? 2376 : 2375;
  const tls = Boolean(env.DOCKER_TLS_VERIFY) || port === 2376;
  return {kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port, tls, ...(tls ? {certPath: env.DOCKER_CERT_PATH || join(homedir(), '.docker')} : {})};
}

function connectionOptions(endpoint: DockerEndpoint): Dockerode.DockerOptions {
  // host cleared: dockerode lays its own reading of process.env under these options.
  if (endpoint.kind === 'unix') return {socketPath: endpoint.socketPath, host: undefined};
  const options: Dockerode.DockerOptions = {host: endpoint.host, port: endpoint.port, protocol: endpoint.tls ? 'https' : 'http'};
  if (endpoint.certPath) {
    const read = (name: string) => {
      const file = join(endpoint.certPath!, name);
      try {
        return readFileSync(file);
      } catch (error) {
        throw new DockerOperatorError(`cannot read ${file} for TLS to the Docker engine (${(error as NodeJS.ErrnoException).code}): set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem`);
      }
    };
    Object.assign(options, {ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem')});
  }
  return options;
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
 * A dockerode client for DOCKER_HOST, once the engine has answered a ping. dockerode (with its
 * gRPC session code) costs ~250 ms to import, so only the commands that drive Docker load it.
 */
export async function connectDocker(env: Record<string, string | undefined> = process.env): Promise<DockerConnection> {
  const endpoint = dockerEndpoint(env);
  const {default: Docker} = await import('dockerode');
  const docker = new Docker(connectionOptions(endpoint));
  try {
    // Bounded: a wedged engine must not hang the CLI (the typings omit ping's options).
    const ping = docker.ping.bind(docker) as unknown as (options: {abortSignal: AbortSignal}) => Promise<unknown>;
    await ping({abortSignal: AbortSignal.timeout(5000)});
  } catch (error) {
    throw engineUnreachable(endpoint, error);
  }
  return {docker, endpoint};
}
