import type Dockerode from 'dockerode';
import {DockerOperatorError, engineMessage, statusOf} from './errors.js';

/** What `weave attach` and `detach` need of a Docker container. */
export interface DockerContainer {
  /** The full id: the owner of its addresses in IPAM. */
  id: string;
  /** Its process, whose network namespace is /proc/<pid>/ns/net; 0 when it is not running. */
  pid: number;
  running: boolean;
  /** The host file Docker bind-mounts on the container's /etc/hosts. */
  hostsPath: string;
  hostname: string;
  domainname: string;
}

/**
 * The container `nameOrId` names (a name, a full id or a unique prefix of one), as the
 * original's `container-id`: its words when Docker does not know it, exit 1.
 */
export async function findContainer(docker: Dockerode, nameOrId: string): Promise<DockerContainer> {
  let info: Dockerode.ContainerInspectInfo;
  try {
    info = await docker.getContainer(nameOrId).inspect();
  } catch (error) {
    const why = statusOf(error) === 404 ? `No such container: ${nameOrId}` : engineMessage(error);
    throw new DockerOperatorError(`unable to inspect container ${nameOrId}: ${why}`, 1, {cause: error});
  }
  const {State, Config} = info;
  return {
    id: info.Id,
    pid: State.Pid,
    running: State.Running && !State.Restarting && State.Pid > 0,
    hostsPath: info.HostsPath,
    hostname: Config.Hostname,
    domainname: Config.Domainname,
  };
}

/** The network namespace of a running container, as the host sees it. */
export function containerNetns(container: DockerContainer): string {
  return `/proc/${container.pid}/ns/net`;
}

/**
 * The container's name in weaveDNS as the original derives it: `<hostname>.<domainname>`, kept
 * only when it is a fully qualified name (a domain, or a hostname with a dot in it).
 */
export function containerFqdn(container: Pick<DockerContainer, 'hostname' | 'domainname'>): string | undefined {
  const fqdn = `${container.hostname}.${container.domainname}`;
  const name = fqdn.slice(0, fqdn.indexOf('.'));
  return name === fqdn || `${name}.` === fqdn ? undefined : fqdn;
}
