import {ip, IpError} from './ip.js';

/** The fields of `ip -j -d link show` the plugin reads. */
export interface LinkInfo {
  ifname: string;
  address: string;
  mtu: number;
  master?: string;
  flags: string[];
  linkinfo?: {info_kind?: string; info_slave_data?: {hairpin?: boolean}};
}

/** The link named `name`, or undefined when there is none. */
export async function showLink(name: string, netns?: string): Promise<LinkInfo | undefined> {
  try {
    const [link] = (await ip(['link', 'show', 'dev', name], netns)) as LinkInfo[];
    return link;
  } catch (error) {
    if (error instanceof IpError && error.notFound) return undefined;
    throw error;
  }
}

/** Deletes a link; false when it was already gone (DEL must be idempotent). */
export async function deleteLink(name: string, netns?: string): Promise<boolean> {
  try {
    await ip(['link', 'del', 'dev', name], netns);
    return true;
  } catch (error) {
    if (error instanceof IpError && error.notFound) return false;
    throw error;
  }
}
