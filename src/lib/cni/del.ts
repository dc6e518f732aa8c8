import {CommandError} from '../net/exec.js';
import {isNamespaceFile} from '../net/netns.js';
import {hostVethName} from '../net/veth-names.js';
import {ipamFor} from './ipam/select.js';
import type {Invocation} from './invocation.js';

/**
 * Removes the attachment and releases its address. Runtimes call DEL again and again, also
 * after the namespace or the link is gone (CNI SPEC "DEL"), so nothing missing is an error.
 */
export async function cmdDel(call: Invocation): Promise<void> {
  // Independent, so side by side.
  await Promise.all([removeLink(call), ipamFor(call).del(call)]);
}

async function removeLink({env, net}: Invocation): Promise<void> {
  // Deleting the host end removes the container end with it, and needs no namespace.
  const removed = await net.deleteLinkPromptly(hostVethName(env.containerId));
  if (!removed && env.netnsPath && (await isNamespaceFile(env.netnsPath).catch(() => false))) {
    try {
      await net.deleteLink(env.ifname, env.netnsPath);
    } catch (error) {
      // A stale path (a dead /proc/<pid>/ns/net) cannot be entered: nothing is left in it.
      if (!(error instanceof CommandError)) throw error;
    }
  }
}
