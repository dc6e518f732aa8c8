import {addAddress, deleteAddress, ipv4Addresses} from '../../net/address.js';
import {announceAddress} from '../../net/arp.js';
import type {Logger} from '../log.js';
import type {Iptables} from './iptables.js';
import {exposeScript, hideScript} from './plan.js';
import {networkText} from '../../net/cidr.js';

export interface ExposeContext {
  bridge: string;
  netns?: string;
  iptables: Iptables;
  log: Logger;
}

/** Gratuitous ARP for a bridge address; a failure only costs neighbours a stale entry for a while. */
export async function announce(ctx: ExposeContext, cidr: string): Promise<void> {
  const address = cidr.split('/')[0]!;
  try {
    if (!(await announceAddress(ctx.bridge, address, ctx.netns))) ctx.log.debug('no arping tool: gratuitous ARP skipped', {address});
  } catch (error) {
    ctx.log.warning('gratuitous ARP failed', {address, error: (error as Error).message});
  }
}

/**
 * The original's net.Expose: the address onto the bridge (already there is fine), then
 * masquerading for its network unless `nat` is false, and the forward-accept rule. Idempotent.
 */
export async function exposeAddress(ctx: ExposeContext, cidr: string, nat: boolean): Promise<void> {
  const network = networkText(cidr);
  await addAddress(ctx.bridge, cidr, ctx.netns);
  const rules = async () => ctx.iptables.restore(exposeScript(await ctx.iptables.save(), {network, nat}));
  await Promise.all([rules(), announce(ctx, cidr)]);
}

/**
 * The original's client-side `hide`, done here: the address off the bridge, and its network's
 * rules unless another bridge address still lies in that network. Idempotent.
 */
export async function hideAddress(ctx: ExposeContext, cidr: string): Promise<void> {
  const network = networkText(cidr);
  await deleteAddress(ctx.bridge, cidr, ctx.netns);
  const remaining = await ipv4Addresses(ctx.bridge, ctx.netns);
  if (remaining.some(other => networkText(other) === network)) return;
  await ctx.iptables.restore(hideScript(await ctx.iptables.save(), network));
}
