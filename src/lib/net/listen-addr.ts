import {RouterConfigError} from '../errors.js';

export type ListenAddr = {host: string; port: number} | {socket: string};

/** `host:port`, `:port` or a unix socket path (leading `/`), as the original's --http-addr. */
export function parseListenAddr(flag: string, value: string): ListenAddr {
  if (value.startsWith('/')) return {socket: value};
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new RouterConfigError(`invalid ${flag} "${value}": expected host:port (e.g. 127.0.0.1:6784) or a unix socket path`);
  }
  return {host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port};
}
