import type Dockerode from 'dockerode';
import {DEFAULTS} from '../defaults.js';

/** The router container's name, as the original: WEAVE_CONTAINER_NAME, else `weave`. */
export function containerName(env: Record<string, string | undefined>): string {
  return env.WEAVE_CONTAINER_NAME || 'weave';
}

/** The named volume of the router's state (IPAM ring, peer name): `<name>db`, as the original's weavedb. */
export function stateVolume(name: string): string {
  return `${name}db`;
}

/** Marks a container as a router this CLI launched (the original matched the image name instead). */
export const ROUTER_LABEL = 'net.weave.router';

/** Mount point of the state volume: the router's default --db-prefix lives under it. */
export const STATE_DIR = DEFAULTS.dbPrefix.slice(0, DEFAULTS.dbPrefix.lastIndexOf('/'));

/**
 * The capabilities the router needs instead of --privileged, all others dropped. Measured:
 * NET_ADMIN for links, addresses and iptables; SYS_ADMIN for the setns(2) of nsenter into pod
 * namespaces (the warm CNI path); SYS_PTRACE to open the pod namespaces that the launcher's client
 * holds open, as /proc/<pid>/fd/<n> (and a CNI_NETNS of the form /proc/<pid>/ns/net);
 * NET_BIND_SERVICE for weaveDNS on port 53. NET_RAW is not needed: the image has no arping.
 */
export const ROUTER_CAPABILITIES = ['NET_ADMIN', 'NET_BIND_SERVICE', 'SYS_ADMIN', 'SYS_PTRACE'];

/**
 * Docker's read-only /proc paths without /proc/sys: the router tunes the bridge through
 * /proc/sys/net (accept_ra, ARP timers), which Docker otherwise mounts read-only.
 */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sysrq-trigger'];

/** Where the router finds the Docker engine's socket, as the original's container did. */
export const ROUTER_DOCKER_SOCKET = '/var/run/docker.sock';

/** The TUN/TAP device: the encrypted data path (sleeve) opens its TAP through it (with NET_ADMIN). */
export const TUN_DEVICE = '/dev/net/tun';

export interface RouterSpecInput {
  name: string;
  image: string;
  /** Router flags and peers (routerArgs()). */
  args: string[];
  /** Restart policy `always`; false for --no-restart. */
  restart: boolean;
  /** Reaches the router as WEAVE_PASSWORD in its environment, never in its arguments. */
  password?: string;
  /** The host directory of the warm CNI sockets, where the host's CNI shim looks. */
  cniSocketDir?: string;
  /** The engine's unix socket on the host, mounted for the router's check-alive (launch-args.ts passes --docker-api). */
  dockerSocket?: string;
  /** Variables handed to the router when set here (the original passed these too). */
  env?: Record<string, string | undefined>;
  version: string;
}

/**
 * Where the router sees the host's /etc and /var/lib/dbus (read-only), as the original's
 * container did: its default peer name hashes the host's machine id, not the image's.
 */
export const HOST_ROOT = '/host';

const PASSED_ENV = ['CHECKPOINT_DISABLE', 'WEAVE_DEBUG'];

/** The router container as Docker create options: data, so tests can read what a launch asks for. */
export function routerContainerSpec(input: RouterSpecInput): Dockerode.ContainerCreateOptions {
  const socketDir = input.cniSocketDir ?? DEFAULTS.cniSocketDir;
  const env = PASSED_ENV.filter(name => input.env?.[name] !== undefined).map(name => `${name}=${input.env![name]}`);
  if (input.password) env.push(`WEAVE_PASSWORD=${input.password}`);
  return {
    name: input.name,
    Image: input.image,
    Cmd: ['--host-root', HOST_ROOT, ...input.args],
    Env: env,
    Labels: {[ROUTER_LABEL]: input.version},
    HostConfig: {
      NetworkMode: 'host',
      PidMode: 'host',
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: ROUTER_CAPABILITIES,
      ReadonlyPaths: READONLY_PATHS,
      Devices: [{PathOnHost: TUN_DEVICE, PathInContainer: TUN_DEVICE, CgroupPermissions: 'rwm'}],
      RestartPolicy: {Name: input.restart ? 'always' : 'no'},
      // Binds, not Mounts: the engine creates a missing /var/lib/dbus, as with the original's -v.
      Binds: [
        `/etc:${HOST_ROOT}/etc:ro`,
        `/var/lib/dbus:${HOST_ROOT}/var/lib/dbus:ro`,
        ...(input.dockerSocket ? [`${input.dockerSocket}:${ROUTER_DOCKER_SOCKET}`] : []),
      ],
      Mounts: [
        {Type: 'volume', Source: stateVolume(input.name), Target: STATE_DIR},
        // No namespace directory: the launcher's client hands each pod's namespace over as an
        // open file the router reaches through /proc (PidMode host, SYS_PTRACE).
        {Type: 'bind', Source: socketDir, Target: DEFAULTS.cniSocketDir},
      ],
    },
  };
}
