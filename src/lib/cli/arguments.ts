import {ArgumentError} from '../errors.js';
import {interfaceNameProblem} from '../net/ifname.js';
import {PeerAddressError, parsePeerAddress} from '../router/mesh/address.js';

/** Checks each peer as the router will (`host[:port]`), naming the first bad one. */
export function checkPeers(peers: readonly string[], command: string): void {
  for (const peer of peers) {
    try {
      parsePeerAddress(peer);
    } catch (error) {
      if (!(error instanceof PeerAddressError)) throw error;
      throw new ArgumentError(`invalid peer "${peer}" for 'weave ${command}': ${error.why}; a peer is <ip_address_or_fqdn>[:<port>]`, 1, {cause: error});
    }
  }
}

/** Words that name something (a peer's nickname, a container id): not empty, no white space or control characters. */
export function checkNames(names: readonly string[], what: string, command: string): void {
  for (const name of names) {
    if (name === '' || /[\s\x00-\x1f\x7f]/.test(name)) throw new ArgumentError(`invalid ${what} "${name}" for 'weave ${command}': it is empty or holds white space`);
  }
}

/** A flag naming a network interface, checked by the kernel's rule. */
export function checkInterfaceName(name: string, flag: string, command: string): void {
  const problem = interfaceNameProblem(name);
  if (problem) throw new ArgumentError(`invalid ${flag} "${name}" for 'weave ${command}': ${problem}`);
}
