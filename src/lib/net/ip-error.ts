import {constants} from 'node:os';

/** An iproute2 command as words, e.g. ['link', 'set', 'eth0', 'up']. */
export type IpCommand = readonly string[];

const {EEXIST, ENODEV, ENOENT} = constants.errno;

/**
 * A failed `ip` call, with the failing batch line and the kernel's reason; or the same request
 * made over netlink (net/netlink/), which knows the errno.
 */
export class IpError extends Error {
  constructor(
    readonly command: IpCommand,
    readonly reason: string,
    readonly errno?: number,
  ) {
    super(`ip ${command.join(' ')}: ${reason}`);
    this.name = 'IpError';
  }

  get exists(): boolean {
    return this.errno === EEXIST || /File exists/.test(this.reason);
  }

  get notFound(): boolean {
    return this.errno === ENODEV || this.errno === ENOENT || /Cannot find device|does not exist|No such device|No such file or directory/.test(this.reason);
  }
}
