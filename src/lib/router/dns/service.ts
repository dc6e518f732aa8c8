import type {Gossip} from '../mesh/gossip.js';
import type {Logger} from '../log.js';
import type {DnsStatus} from '../state.js';
import {DnsEntries, type DnsEntry, type EntryMatch} from './entries.js';
import {DNS_CHANNEL, DnsGossipData, DnsGossiper} from './gossip.js';
import {DnsResolver} from './resolver.js';
import {DnsServer} from './server.js';
import {readNameservers} from './upstream.js';
import type {Gossiper} from '../mesh/gossip.js';

/** As the original: a deletion is remembered this long (every peer hears of it meanwhile), checked this often. */
const TOMBSTONE_SECONDS = 10 * 60;
const EXPIRY_INTERVAL_MS = 60_000;

export interface DnsOptions {
  /** With the trailing dot: `weave.local.`. */
  domain: string;
  ttl: number;
  host: string;
  port: number;
  /** The address was chosen by us, not asked for: a busy port is then a warning, not a failure. */
  defaulted: boolean;
  fallbackTimeoutMs: number;
  resolvConf: string;
}

/** What weaveDNS needs of the mesh. */
export interface DnsMesh {
  ourName: string;
  newGossip(channel: string, gossiper: Gossiper): Gossip;
  onPeerRemoved(listener: (peer: string) => void): void;
}

/** Lower case, trailing dot: names compare so. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/**
 * weaveDNS: the entries, shared with every peer over a mesh channel, and the server that answers
 * from them. Changes made here are broadcast at once; peers that miss one get it with the
 * periodic gossip.
 */
export class DnsService {
  readonly entries: DnsEntries;
  private readonly gossip: Gossip;
  private server?: DnsServer;
  private readonly upstream: string[];
  private expiry?: NodeJS.Timeout;
  /** Where we listen; empty when the default address was busy. */
  listening = '';

  constructor(
    readonly options: DnsOptions,
    mesh: DnsMesh,
    private readonly log: Logger,
  ) {
    this.entries = new DnsEntries(mesh.ourName);
    this.gossip = mesh.newGossip(DNS_CHANNEL, new DnsGossiper(this.entries));
    mesh.onPeerRemoved(peer => {
      const removed = this.entries.removeOrigin(peer);
      if (removed > 0) log.info('weaveDNS: forgot the names of a removed peer', {peer, entries: removed});
    });
    this.upstream = readNameservers(options.resolvConf);
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  async start(): Promise<void> {
    const {options} = this;
    const resolver = new DnsResolver(this.entries, {
      domain: options.domain.replace(/\.$/, '').toLowerCase(),
      ttl: options.ttl,
      upstream: () => this.upstream,
      fallbackTimeoutMs: options.fallbackTimeoutMs,
    });
    try {
      this.server = await DnsServer.start(options.host, options.port, resolver, this.log);
      this.listening = this.address;
      this.log.info('weaveDNS listening', {addr: this.address, domain: options.domain, upstream: this.upstream});
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the port is in use (another DNS server on this host?)' : (error as Error).message;
      if (!options.defaulted) throw new Error(`cannot listen on ${this.address} for weaveDNS: ${why}; give another --dns-listen-address, or --no-dns`);
      this.log.warning(`weaveDNS cannot listen on ${this.address}: ${why}; names are still shared with peers, but not served here: give --dns-listen-address`);
    }
    this.expiry = setInterval(() => this.entries.expireTombstones(TOMBSTONE_SECONDS), EXPIRY_INTERVAL_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.expiry);
    await this.server?.stop();
  }

  /** Whether `fqdn` is in our domain (names outside it are ignored, as the original does). */
  inDomain(fqdn: string): boolean {
    const name = canonicalName(fqdn);
    const domain = canonicalName(this.options.domain);
    return name.endsWith(`.${domain}`);
  }

  /** A name relative to our domain, made fully qualified. */
  qualify(name: string): string {
    return `${name.replace(/\.$/, '')}.${this.options.domain}`;
  }

  /** Adds a name; false when it is outside our domain and so ignored. */
  add(fqdn: string, containerId: string, address: string): boolean {
    if (!this.inDomain(fqdn)) return false;
    const hostname = fqdn.endsWith('.') ? fqdn : `${fqdn}.`;
    const entry = this.entries.add(hostname, containerId, address);
    if (entry) this.broadcast([entry]);
    return true;
  }

  /** Deletes our matching names; returns how many. */
  delete(match: EntryMatch): number {
    const deleted = this.entries.delete(match.hostname === undefined ? match : {...match, hostname: canonicalName(match.hostname)});
    if (deleted.length > 0) this.broadcast(deleted);
    return deleted.length;
  }

  private broadcast(entries: DnsEntry[]): void {
    this.gossip.gossipBroadcast(new DnsGossipData(entries));
  }

  status(): DnsStatus {
    return {domain: this.options.domain, upstream: this.upstream, address: this.listening, ttl: this.options.ttl, entries: this.entries.sorted()};
  }
}
