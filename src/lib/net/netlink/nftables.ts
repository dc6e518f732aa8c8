import {constants} from 'node:os';
import {cstring} from './message.js';
import {type NetlinkAddon, NetlinkError, type NetlinkSocket, withNetlinkSocket} from './socket.js';

/**
 * nftables over nfnetlink (linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h,
 * linux/netfilter.h): whether iptables-nft's chains exist, asked in this process instead of
 * reading all of `iptables-save`.
 */
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_GETCHAIN = 4;
const NFTA_CHAIN = {TABLE: 1, NAME: 3} as const;
/** iptables-nft keeps iptables' tables in the nftables family ip. */
const NFPROTO_IPV4 = 2;
const NFNETLINK_V0 = 0;

const {ENOENT} = constants.errno;

/** An iptables chain by its table, e.g. {table: 'nat', chain: 'WEAVE-CANARY'}. */
export interface ChainName {
  table: string;
  chain: string;
}

/** struct nfgenmsg: the family, nfnetlink's version, and a resource id (big-endian; 0, as requests outside a batch have it). */
const nfgenmsg = (family: number): Buffer => Buffer.from([family, NFNETLINK_V0, 0, 0]);

/**
 * Whether the chain exists in family ip: the kernel answers with it, or says ENOENT when the
 * chain or its whole table is gone. Any other refusal (no nf_tables in this kernel) is thrown.
 */
export async function chainExists(socket: NetlinkSocket, {table, chain}: ChainName): Promise<boolean> {
  const attrs = [
    {type: NFTA_CHAIN.TABLE, value: cstring(table)},
    {type: NFTA_CHAIN.NAME, value: cstring(chain)},
  ];
  try {
    await socket.request(['list', 'chain', 'ip', table, chain], (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN, 0, nfgenmsg(NFPROTO_IPV4), attrs);
    return true;
  } catch (error) {
    if (error instanceof NetlinkError && error.errno === ENOENT) return false;
    throw error;
  }
}

/**
 * chainExists() for each chain, over one socket in the network namespace `netns` (a path;
 * undefined: ours). A namespace that cannot be entered is an error naming it, never "absent".
 */
export function chainsExist(addon: NetlinkAddon, netns: string | undefined, chains: readonly ChainName[]): Promise<boolean[]> {
  return withNetlinkSocket(addon, 'netfilter', netns, ['list', 'chains', 'ip'], async socket => {
    const found: boolean[] = [];
    // One request at a time: a socket matches answers to the request under way.
    for (const chain of chains) found.push(await chainExists(socket, chain));
    return found;
  });
}
