import {readlink} from 'node:fs/promises';
import {join} from 'node:path';

/**
 * The warm CNI socket of the router serving this network namespace. Several routers run on
 * one machine in tests (one per simulated host), so the path carries the namespace's inode:
 * the shell shim derives the same name from `readlink /proc/self/ns/net`.
 */
export async function cniSocketPath(dir: string): Promise<string> {
  const link = await readlink('/proc/self/ns/net');
  const inode = /\[(\d+)\]/.exec(link)?.[1];
  if (!inode) throw new Error(`cannot read this process's network namespace (${link})`);
  return join(dir, `cni-${inode}.sock`);
}
