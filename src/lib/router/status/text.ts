import type {ConnectionState, RouterState} from '../state.js';
import {sprintfJs} from './gofmt.js';
import {formatValue, fromJs} from './govalue.js';
import {PROTOCOL} from '../mesh/protocol.js';

/** Order in which `Connections:` counts its states, as the original does. */
const CONNECTION_STATES: readonly ConnectionState[] = ['established', 'pending', 'retrying', 'failed', 'connecting'];

/** `label: value` with the colon in column 16. */
const row = (label: string, value: string | number) => `${label.padStart(15)}: ${value}\n`;

const printState = (enabled: boolean) => (enabled ? 'enabled' : 'disabled');
const printList = (list: readonly string[]) => (list.length === 0 ? 'none' : list.join(', '));

/** `1 established, 2 failed`: each state present, in `order`. */
function printCounts(counts: Map<string, number>, order: readonly string[]): string {
  return order.flatMap(k => (counts.has(k) ? [`${counts.get(k)} ${k}`] : [])).join(', ');
}

function tally(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

function connectionsLine(state: RouterState): string {
  const counts = printCounts(tally(state.connections.map(c => c.state)), CONNECTION_STATES);
  return `${state.connections.length}${counts ? ` (${counts})` : ''}`;
}

function peersLine(state: RouterState): string {
  const links = state.peers.flatMap(p => p.connections.map(c => (c.established ? 'established' : 'pending')));
  const counts = printCounts(tally(links), ['established', 'pending']);
  return `${state.peers.length}${counts ? ` (with ${counts} connections)` : ''}`;
}

/**
 * `GET /status`: the router block, then the IPAM and DNS blocks when they are on. The CLI adds
 * the blank first and last lines; this router has no proxy or plugin block.
 */
export function statusText(state: RouterState): string {
  const {protocolMinVersion: min, protocolMaxVersion: max} = state;
  let out =
    row('Version', `${state.version} (version check update disabled)`) +
    '\n' +
    row('Service', 'router') +
    row('Protocol', `${PROTOCOL} ${min === max ? max : `${min}..${max}`}`) +
    row('Name', `${state.name}(${state.nickName})`) +
    row('Encryption', printState(state.encryption)) +
    row('PeerDiscovery', printState(state.peerDiscovery)) +
    row('Targets', state.targets.length) +
    row('Connections', connectionsLine(state)) +
    row('Peers', peersLine(state)) +
    row('TrustedSubnets', printList(state.trustedSubnets));
  if (state.ipam) {
    out += '\n' + row('Service', 'ipam') + row('Status', state.ipam.status) + row('Range', state.ipam.range) + row('DefaultSubnet', state.ipam.defaultSubnet);
  }
  if (state.dns) {
    const {dns} = state;
    const live = dns.entries.filter(e => e.tombstone === 0).length;
    out += '\n' + row('Service', 'dns') + row('Domain', dns.domain) + row('Upstream', printList(dns.upstream)) + row('TTL', dns.ttl) + row('Entries', live);
  }
  return out;
}

/** `GET /status/targets`: one target per line, as given. */
export function targetsText(state: RouterState): string {
  return state.targets.map(t => `${t}\n`).join('');
}

/** `GET /status/connections`: direction, address, state, info, then `k=v` attributes (not `name`), unseparated. */
export function connectionsText(state: RouterState): string {
  return state.connections
    .map(c => {
      const attrs = Object.keys(c.attrs)
        .sort()
        .filter(k => k !== 'name')
        .map(k => `${k}=${formatValue(fromJs(c.attrs[k]))}`)
        .join('');
      return `${c.outbound ? '->' : '<-'} ${sprintfJs('%-21v', c.address)} ${sprintfJs('%-11v', c.state)} ${c.info} ${attrs}\n`;
    })
    .join('');
}

/** `GET /status/peers`: each peer, then its connections indented. */
export function peersText(state: RouterState): string {
  return state.peers
    .map(
      p =>
        `${p.name}(${p.nickName})\n` +
        p.connections
          .map(c => `   ${c.outbound ? '->' : '<-'} ${sprintfJs('%-21v', c.address)} ${sprintfJs('%-37v', `${c.name}(${c.nickName})`)} ${c.established ? 'established' : 'pending'}\n`)
          .join(''),
    )
    .join('');
}

/**
 * `GET /status/ipam`: addresses owned per peer, ours first with the active count, others with
 * `- unreachable!` or nothing (the trailing space stays). Undefined when IPAM is off, which the
 * original answers with a template error.
 */
export function ipamText(state: RouterState): string | undefined {
  const {ipam} = state;
  if (!ipam) return undefined;
  const line = (name: string, nick: string, ips: number, info: string) => {
    // The original computes the share in float32.
    const share = Math.fround(Math.fround(ips) * 100 / Math.fround(ipam.rangeNumIps));
    return `${sprintfJs('%-37v %8d IPs (%04.1f%% of total) ', `${name}(${nick})`, ips, share)}${info}\n`;
  };
  const ours = ipam.owned.filter(o => o.peer === state.name);
  const others = ipam.owned.filter(o => o.peer !== state.name);
  return [
    ...ours.map(o => line(o.peer, o.nickname, o.ips, `(${ipam.activeIps} active)`)),
    ...others.map(o => line(o.peer, o.nickname, o.ips, o.reachable ? '' : '- unreachable!')),
  ].join('');
}

/**
 * `GET /status/dns`: each live name without the domain, its address, container id (12 characters)
 * and origin peer. Undefined with --no-dns, which the original answers with a template error.
 */
export function dnsText(state: RouterState): string | undefined {
  const {dns} = state;
  if (!dns) return undefined;
  const suffix = `.${dns.domain}`;
  return dns.entries
    .filter(e => e.tombstone === 0)
    .map(e => {
      const name = e.hostname.toLowerCase().endsWith(suffix.toLowerCase()) ? e.hostname.slice(0, -suffix.length) : e.hostname;
      return `${sprintfJs('%-12v %-15v %12.12v', name, e.address, e.containerId)} ${e.origin}\n`;
    })
    .join('');
}
