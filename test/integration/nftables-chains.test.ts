import assert from 'node:assert/strict';
import {constants} from 'node:os';
import {after, before, describe, it} from 'mocha';
import {type ChainName, chainsExist} from '../../src/lib/net/netlink/nftables.js';
import {loadNetlinkAddon, type NetlinkAddon, NetlinkError} from '../../src/lib/net/netlink/socket.js';
import {Iptables} from '../../src/lib/router/dataplane/iptables.js';
import {CANARY_CHAIN, CANARY_TABLES} from '../../src/lib/router/dataplane/rules.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot, requireTool} from '../helpers/root.js';

const {ENOENT} = constants.errno;
const canaries: ChainName[] = CANARY_TABLES.map(table => ({table, chain: CANARY_CHAIN}));

/**
 * The router looks for its canary chains over nfnetlink in its own process; iptables-save is
 * what it asked before, and stays its fallback. Both must say the same of every chain.
 */
describe('iptables chains over nfnetlink, against iptables-save', function () {
  requireRoot();
  requireTool('iptables-save', 'iptables');
  requireTool('nft', 'nftables');
  this.timeout(30_000);
  let ns: Netns;
  let addon: NetlinkAddon;

  /** What iptables-save says of each chain, and what netlink says. */
  async function both(chains: readonly ChainName[]): Promise<{saved: boolean[]; netlink: boolean[]}> {
    const saved = await new Iptables(ns.path).save();
    return {saved: chains.map(({table, chain}) => saved.hasChain(table, chain)), netlink: await chainsExist(addon, ns.path, chains)};
  }

  before(() => {
    const loaded = loadNetlinkAddon('netfilter');
    if (typeof loaded === 'string') throw new Error(`the router's addon is needed: ${loaded}`);
    addon = loaded;
    ns = Netns.create('wnft');
  });

  after(() => ns?.delete());

  it('finds no chain in a namespace whose tables were never made', async () => {
    assert.deepEqual(await both(canaries), {saved: [false, false, false], netlink: [false, false, false]});
  });

  it('finds the three canaries, and tells a chain that never was', async () => {
    for (const table of CANARY_TABLES) ns.exec('iptables', ['-t', table, '-N', CANARY_CHAIN]);
    ns.exec('iptables', ['-t', 'nat', '-N', 'WEAVE']);
    const chains = [...canaries, {table: 'nat', chain: 'WEAVE'}, {table: 'nat', chain: 'WEAVE-NONE'}];
    assert.deepEqual(await both(chains), {saved: [true, true, true, true, false], netlink: [true, true, true, true, false]});
  });

  it('sees the nat canary go after it is flushed and deleted, the others stay', async () => {
    ns.exec('iptables', ['-t', 'nat', '-A', CANARY_CHAIN, '-j', 'RETURN']);
    ns.exec('iptables', ['-t', 'nat', '-F', CANARY_CHAIN]);
    ns.exec('iptables', ['-t', 'nat', '-X', CANARY_CHAIN]);
    assert.deepEqual(await both(canaries), {saved: [true, false, true], netlink: [true, false, true]});
  });

  it('sees a whole table gone', async () => {
    ns.exec('iptables', ['-t', 'nat', '-N', CANARY_CHAIN]);
    ns.exec('nft', ['delete', 'table', 'ip', 'mangle']);
    assert.deepEqual(await both(canaries), {saved: [false, true, true], netlink: [false, true, true]});
  });

  it('sees every canary gone after nft flush ruleset', async () => {
    ns.exec('iptables', ['-t', 'mangle', '-N', CANARY_CHAIN]);
    assert.deepEqual(await both(canaries), {saved: [true, true, true], netlink: [true, true, true]});
    ns.exec('nft', ['flush', 'ruleset']);
    assert.deepEqual(await both(canaries), {saved: [false, false, false], netlink: [false, false, false]});
  });

  it('answers in our own namespace too, where the test chain is not', async () => {
    assert.deepEqual(await chainsExist(addon, undefined, [{table: 'filter', chain: `WEAVE-${ns.name}`}]), [false]);
  });

  it('throws a refusal other than "not found" (a name longer than nftables allows), never "absent"', async () => {
    await assert.rejects(chainsExist(addon, ns.path, [{table: 'nat', chain: 'C'.repeat(300)}]), (error: unknown) => {
      assert.ok(error instanceof NetlinkError, String(error));
      assert.notEqual(error.errno, ENOENT);
      assert.match(error.message, /^nfnetlink, as `nft list chain ip nat C+`: /);
      return true;
    });
  });

  it('names a namespace path that does not exist, and does not answer "absent"', async () => {
    const path = `/run/netns/${ns.name}-gone`;
    await assert.rejects(chainsExist(addon, path, canaries), (error: unknown) => {
      assert.ok(error instanceof NetlinkError, String(error));
      assert.ok(error.message.includes(`cannot open the network namespace ${path}`), error.message);
      return true;
    });
  });
});
