import type {RouterState} from '../state.js';
import {formatGoFloat} from './govalue.js';
import type {ProcessSample} from './process-sample.js';

/** Content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Sample {
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Sample[];
}

/** The encrypted data path's counters since its start (the sleeve's stats()), for /metrics. */
export interface SleeveCounters {
  peers: readonly {name: string; sentFrames: number; sentBytes: number; receivedFrames: number; receivedBytes: number; floodedFrames: number}[];
  /** Frames passed on from one peer to another (relayed). */
  relayed: number;
  /** Frames and datagrams dropped, by reason (replayed, unauthenticated, unknownSession, ...). */
  dropped: Readonly<Record<string, number>>;
}

const CONNECTION_STATES = ['established', 'pending', 'retrying', 'failed', 'connecting'];

/** One sample per (state, type, encryption), as the original counts its connections. */
function connectionSamples(state: RouterState): Sample[] {
  const counts = new Map<string, Sample>();
  for (const c of state.connections) {
    if (!CONNECTION_STATES.includes(c.state)) continue;
    const type = typeof c.attrs.name === 'string' ? c.attrs.name : 'unknown';
    const encrypted = c.attrs.encrypted === true;
    // The original emits both encryption values for every (state, type) it has seen.
    for (const encryption of ['yes', '']) {
      const key = `${c.state}\0${type}\0${encryption}`;
      const sample = counts.get(key) ?? {labels: {encryption, state: c.state, type}, value: 0};
      if ((encryption === 'yes') === encrypted) sample.value++;
      counts.set(key, sample);
    }
  }
  return [...counts.values()];
}

function ipamFamilies(state: RouterState): Family[] {
  const {ipam} = state;
  if (!ipam) return [];
  const unreachable = ipam.owned.filter(o => !o.reachable);
  const unreachableIps = unreachable.reduce((sum, o) => sum + o.ips, 0);
  const gauge = (name: string, help: string, value: number, labels: Record<string, string> = {}): Family => ({
    name,
    help,
    type: 'gauge',
    samples: [{labels, value}],
  });
  return [
    gauge('weave_ips', 'Number of IP addresses.', ipam.activeIps, {state: 'local-used'}),
    gauge('weave_max_ips', 'Size of IP address space used by allocator.', ipam.rangeNumIps),
    gauge('weave_ipam_unreachable_count', 'Number of unreachable peers.', unreachable.length),
    // The double space is the original's help text.
    gauge('weave_ipam_unreachable_percentage', 'Percentage of IP addresses owned  by unreachable peers.', ipam.rangeNumIps ? (unreachableIps * 100) / ipam.rangeNumIps : 0),
    gauge('weave_ipam_pending_allocates', 'Number of pending allocates.', ipam.pendingAllocates.length),
    gauge('weave_ipam_pending_claims', 'Number of pending claims.', ipam.pendingClaims.length),
  ];
}

const snakeCase = (s: string) => s.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);

/** Per peer and direction, the sleeve's frames (one per datagram: a TCP super-frame counts once per MTU-sized piece) and bytes; its drops by reason. */
function sleeveFamilies(sleeve: SleeveCounters | undefined): Family[] {
  if (!sleeve) return [];
  const perPeer = (sent: 'sentFrames' | 'sentBytes', received: 'receivedFrames' | 'receivedBytes'): Sample[] =>
    sleeve.peers.flatMap(p => [
      {labels: {direction: 'received', peer: p.name}, value: p[received]},
      {labels: {direction: 'sent', peer: p.name}, value: p[sent]},
    ]);
  return [
    {name: 'weave_sleeve_bytes_total', help: 'Bytes of pod frames carried by the encrypted data path (sleeve).', type: 'counter', samples: perPeer('sentBytes', 'receivedBytes')},
    {name: 'weave_sleeve_frames_total', help: 'Pod frames carried by the encrypted data path (sleeve).', type: 'counter', samples: perPeer('sentFrames', 'receivedFrames')},
    {
      name: 'weave_sleeve_flooded_frames_total',
      help: "Broadcasts and unknown unicast the encrypted data path sent to each peer: ours, and other peers' passed on down their spanning trees.",
      type: 'counter',
      samples: sleeve.peers.map(p => ({labels: {peer: p.name}, value: p.floodedFrames})),
    },
    {
      name: 'weave_sleeve_dropped_total',
      help: 'Frames and datagrams the encrypted data path dropped, by reason.',
      type: 'counter',
      samples: Object.entries(sleeve.dropped).map(([reason, value]) => ({labels: {reason: snakeCase(reason)}, value})),
    },
    {name: 'weave_sleeve_relayed_frames_total', help: 'Frames the encrypted data path passed on between two peers with no connection to each other.', type: 'counter', samples: [{labels: {}, value: sleeve.relayed}]},
  ];
}

/** The original's process_* families: names, help texts and types of client_golang's process collector. */
function processFamilies(p: ProcessSample | undefined): Family[] {
  if (!p) return [];
  const family = (name: string, help: string, value: number, type: Family['type'] = 'gauge'): Family => ({name, help, type, samples: [{labels: {}, value}]});
  return [
    family('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', p.cpuSeconds, 'counter'),
    family('process_max_fds', 'Maximum number of open file descriptors.', p.maxFds),
    family('process_open_fds', 'Number of open file descriptors.', p.openFds),
    family('process_resident_memory_bytes', 'Resident memory size in bytes.', p.residentBytes),
    family('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', p.startTimeSeconds),
    family('process_virtual_memory_bytes', 'Virtual memory size in bytes.', p.virtualBytes),
    family('process_virtual_memory_max_bytes', 'Maximum amount of virtual memory available in bytes.', p.virtualMaxBytes),
  ];
}

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function sampleLine(name: string, sample: Sample): string {
  const names = Object.keys(sample.labels).sort();
  const labels = names.length ? `{${names.map(n => `${n}="${escapeLabel(sample.labels[n]!)}"`).join(',')}}` : '';
  return `${name}${labels} ${formatGoFloat(sample.value)}\n`;
}

/**
 * `GET /metrics`: the original router's series in Prometheus text format, families sorted by
 * name and samples by label values as client_golang writes them; families without samples are
 * left out. No `weave_flows`: this router has no ODP fast datapath.
 * With a running sleeve, its counters too (`weave_sleeve_*`, ours); with a process sample, the
 * original's `process_*` (not its `go_*`: this is no Go program).
 */
export function metricsText(state: RouterState, sleeve?: SleeveCounters, process?: ProcessSample): string {
  const families: Family[] = [
    ...processFamilies(process),
    {name: 'weave_connections', help: 'Number of peer-to-peer connections.', type: 'gauge', samples: connectionSamples(state)},
    {name: 'weave_connection_terminations_total', help: 'Number of peer-to-peer connections terminated.', type: 'counter', samples: [{labels: {}, value: state.terminationCount}]},
    ...ipamFamilies(state),
    ...(state.dns ? [{name: 'weave_dns_entries', help: 'Number of DNS entries.', type: 'gauge' as const, samples: [{labels: {}, value: state.dns.entries.filter(e => e.tombstone === 0).length}]}] : []),
    ...sleeveFamilies(sleeve),
  ];
  return families
    .filter(f => f.samples.length > 0)
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map(f => {
      const samples = [...f.samples].sort((a, b) => {
        const key = (s: Sample) => Object.keys(s.labels).sort().map(k => s.labels[k]).join('\0');
        return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
      });
      return `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n${samples.map(s => sampleLine(f.name, s)).join('')}`;
    })
    .join('');
}
