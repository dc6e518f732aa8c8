import {CniError, ErrorCode} from './errors.js';
import {ipamFor} from './ipam/select.js';
import type {Invocation} from './invocation.js';
import {compareVersions} from './version.js';

function require11(call: Invocation, command: string): void {
  if (compareVersions(call.conf.cniVersion, '1.1.0') < 0) {
    throw new CniError(ErrorCode.IncompatibleVersion, `${command} needs cniVersion 1.1.0, the config is ${call.conf.cniVersion}`, 'raise the network config\'s cniVersion to 1.1.0');
  }
}

/** GC (CNI 1.1): releases every address whose attachment is not in cni.dev/valid-attachments. */
export async function cmdGc(call: Invocation): Promise<void> {
  require11(call, 'GC');
  await ipamFor(call.conf).gc(call);
}

/** STATUS (CNI 1.1): succeeds when an ADD would be able to allocate an address now. */
export async function cmdStatus(call: Invocation): Promise<void> {
  require11(call, 'STATUS');
  await ipamFor(call.conf).status(call);
}
