/**
 * The router's iptables canary check, every 10 s in every router: over nfnetlink in its own
 * process (ours) against `iptables-save` read for the chains (the reference, and the fallback).
 * Measured in a network namespace of its own holding the router's rules, from a process inside
 * it as a router runs, in interleaved rounds: the wall time of a check, and how long Node's
 * thread was busy during it (the event loop's active time: a spawn blocks it until the child has
 * exec'd, which a loaded host stretches).
 *
 *   npx tsx bench/canary.ts [--checks 200]
 */
import {loadavg} from 'node:os';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {chainsExist} from '../src/lib/net/netlink/nftables.js';
import {loadNetlinkAddon, type NetlinkAddon} from '../src/lib/net/netlink/socket.js';
import {Iptables} from '../src/lib/router/dataplane/iptables.js';
import {installScript} from '../src/lib/router/dataplane/plan.js';
import {baseRules, CANARY_CHAIN, CANARY_TABLES} from '../src/lib/router/dataplane/rules.js';
import {requireTool} from '../test/helpers/root.js';
import {rerunInNamespace} from './lib/netns.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/canary.ts [options]   (as root: it makes a network namespace)
  --checks N   checks of each kind, interleaved; medians are reported (default 200)`;

const INSIDE = 'WEAVE_BENCH_CANARY_NETNS';
const canaries = CANARY_TABLES.map(table => ({table, chain: CANARY_CHAIN}));

interface Sample {
  wallMs: number;
  busyMs: number;
}

/** One check's wall time and the event loop's active time meanwhile; it must find every canary. */
async function sample(check: () => Promise<boolean>): Promise<Sample> {
  const loop = performance.eventLoopUtilization();
  const start = performance.now();
  const present = await check();
  const wallMs = performance.now() - start;
  if (!present) throw new BenchError('a check did not find the canary chains');
  return {wallMs, busyMs: performance.eventLoopUtilization(loop).active};
}

const KINDS = ['netlink', 'netlink, namespace by path', 'iptables-save'] as const;
type Kind = (typeof KINDS)[number];

async function measure(checks: number, addon: NetlinkAddon): Promise<Record<Kind, Sample[]>> {
  const iptables = new Iptables();
  await iptables.restore(installScript(await iptables.save(), baseRules({bridge: 'weave', meshPort: 6783, httpPort: 6784}), []));
  const kinds: Record<Kind, () => Promise<boolean>> = {
    netlink: async () => (await chainsExist(addon, undefined, canaries)).every(Boolean),
    // As the data plane's `netns` option has it: a thread enters the namespace to open the socket.
    'netlink, namespace by path': async () => (await chainsExist(addon, '/proc/self/ns/net', canaries)).every(Boolean),
    'iptables-save': async () => {
      const saved = await iptables.save();
      return CANARY_TABLES.every(table => saved.hasChain(table, CANARY_CHAIN));
    },
  };
  const samples: Record<Kind, Sample[]> = {netlink: [], 'netlink, namespace by path': [], 'iptables-save': []};
  for (let i = 0; i < checks; i++) for (const kind of KINDS) samples[kind].push(await sample(kinds[kind]));
  return samples;
}

function report(checks: number, samples: Record<Kind, Sample[]>): void {
  const m = (kind: Kind, key: keyof Sample) => median(samples[kind].map(s => s[key]));
  const reference = (key: keyof Sample) => m('iptables-save', key);
  console.log(`\nThe router's canary check (three chains), ${checks} checks of each kind interleaved, medians, ms`);
  console.log(`node ${process.version}; one namespace holding the router's rules; load average ${loadavg()[0]!.toFixed(1)}\n`);
  console.log(
    table(
      ['check', 'wall', 'vs iptables-save', 'event loop busy', 'vs iptables-save'],
      KINDS.map(kind => [kind, m(kind, 'wallMs').toFixed(2), ratio(m(kind, 'wallMs'), reference('wallMs')), m(kind, 'busyMs').toFixed(2), ratio(m(kind, 'busyMs'), reference('busyMs'))]),
    ),
  );
  console.log(`\n${jsonLine({bench: 'canary', checks, medians: Object.fromEntries(KINDS.map(kind => [kind, {wallMs: m(kind, 'wallMs'), busyMs: m(kind, 'busyMs')}]))})}`);
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {checks: {type: 'string'}, help: {type: 'boolean', short: 'h'}}}));
  const checks = count(values.checks, 'checks', 200, 1, USAGE);
  if (process.env[INSIDE]) {
    const addon = loadNetlinkAddon('netfilter');
    if (typeof addon === 'string') throw new BenchError(`the router's addon is needed: ${addon}`);
    report(checks, await measure(checks, addon));
    return;
  }
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark makes a network namespace');
  requireTool('iptables-save', 'iptables');
  // Inside a namespace of its own, as a router runs (nsenter execs node there): its rules only.
  await rerunInNamespace('wbc', INSIDE);
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
