import {type ChildProcess, spawn} from 'node:child_process';
import {once} from 'node:events';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {deriveSession, ephemeralKeyPair, passwordKey} from '../../src/lib/router/mesh/crypto.js';
import type {SessionKeys} from '../../src/lib/router/dataplane/sleeve/keys.js';
import type {SleeveOptions, SleeveStats} from '../../src/lib/router/dataplane/sleeve/sleeve.js';
import type {LanHost} from './lan.js';
import {Netns} from './netns.js';
import type {SleeveRequest} from './sleeve-host.js';

const HARNESS = fileURLToPath(new URL('./sleeve-host.ts', import.meta.url));

/** Pods of site i get <subnet>.<i+1>/16: one flat pod network across the simulated hosts. */
export const POD_PREFIX = 16;

/**
 * A simulated host's pod side, as the router and the CNI plugin leave it: a bridge (`weave`) in
 * the host namespace and one pod namespace plugged into it by a veth, both at the overlay's MTU.
 */
export interface Site {
  host: LanHost;
  pod: Netns;
  podIp: string;
  bridge: string;
  mtu: number;
}

export interface SiteOptions {
  bridge?: string;
  /** First three octets of the pods' addresses. */
  subnet?: string;
  mtu?: number;
}

export function createSite(host: LanHost, i: number, options: SiteOptions = {}): Site {
  const {bridge = 'weave', subnet = '10.44.0', mtu = 1376} = options;
  const pod = Netns.create('h5p');
  const podIp = `${subnet}.${i + 1}`;
  const veth = `${bridge}-p${i}`;
  try {
    host.ns.exec('ip', ['-batch', '-'], [`link add ${bridge} type bridge`, `link set ${bridge} mtu ${mtu} up`, `link add ${veth} mtu ${mtu} type veth peer name eth0 mtu ${mtu} netns ${pod.path}`, `link set ${veth} master ${bridge} up`].join('\n'));
    pod.exec('ip', ['-batch', '-'], [`addr add ${podIp}/${POD_PREFIX} dev eth0`, 'link set eth0 up'].join('\n'));
    pod.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  } catch (error) {
    pod.delete();
    throw error;
  }
  return {host, pod, podIp, bridge, mtu};
}

/**
 * Keys of one peer pair as two routers with `passwords` would derive them in their mesh
 * handshake (a fresh X25519 exchange each call): [the initiator's, the responder's].
 */
export async function handshakeKeys(passwords: [string, string] = ['sleeve test password', 'sleeve test password']): Promise<[SessionKeys, SessionKeys]> {
  const [a, b] = [ephemeralKeyPair(), ephemeralKeyPair()];
  const transcript = Buffer.concat([a.publicKey, b.publicKey]);
  const [pa, pb] = await Promise.all(passwords.map(p => passwordKey(p)));
  const initiator = deriveSession({ours: a, theirPublicKey: b.publicKey, passwordKey: pa!, transcript, role: 'initiator'});
  const responder = deriveSession({ours: b, theirPublicKey: a.publicKey, passwordKey: pb!, transcript, role: 'responder'});
  return [initiator.dataPlaneKeys, responder.dataPlaneKeys];
}

/** A Sleeve running in its own process inside a simulated host's namespace (tests/sleeve-host.ts). */
export class SleeveHost {
  private nextId = 0;
  private readonly waiting = new Map<number, {resolve: (v: unknown) => void; reject: (e: Error) => void}>();
  private stderr = '';

  private constructor(
    readonly site: Site,
    readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', d => (this.stderr += d));
    createInterface({input: child.stdout!}).on('line', line => {
      const reply = JSON.parse(line) as {id: number; result?: unknown; error?: string};
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
      else waiter?.resolve(reply.result);
    });
    child.once('exit', code => {
      for (const w of this.waiting.values()) w.reject(new Error(`the sleeve host exited (${code}): ${this.stderr}`));
      this.waiting.clear();
    });
  }

  /** `nsenter` execs node in place: the child's pid is the sleeve's (for CPU accounting). */
  static async start(site: Site, options: Partial<SleeveOptions> = {}): Promise<SleeveHost> {
    const child = spawn('nsenter', [`--net=${site.host.ns.path}`, process.execPath, '--import', 'tsx', HARNESS], {stdio: ['pipe', 'pipe', 'pipe']});
    const host = new SleeveHost(site, child);
    try {
      await host.request({op: 'start', options: {bridge: site.bridge, mtu: site.mtu, ...options}});
    } catch (error) {
      await host.stop();
      throw error;
    }
    return host;
  }

  get logs(): string {
    return this.stderr;
  }

  addPeer(peer: SleeveHost, keys: SessionKeys, name = peer.site.host.ip): Promise<unknown> {
    return this.request({op: 'addPeer', name, address: peer.site.host.ip, send: keys.send.toString('base64'), receive: keys.receive.toString('base64')});
  }

  removePeer(name: string): Promise<unknown> {
    return this.request({op: 'removePeer', name});
  }

  stats(): Promise<SleeveStats> {
    return this.request({op: 'stats'}) as Promise<SleeveStats>;
  }

  /** Stops the sleeve and its process. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.request({op: 'stop'}).catch(() => {});
    this.child.stdin!.end();
    await exited;
  }

  /** Kills the process outright, as a crash would. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  private request(request: SleeveRequest): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, {resolve, reject});
      this.child.stdin!.write(JSON.stringify({...request, id}) + '\n');
    });
  }
}

/** Connects every pair of hosts with fresh keys (the first of a pair as initiator). */
export async function meshAll(hosts: SleeveHost[]): Promise<void> {
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      const [ki, kj] = await handshakeKeys();
      await hosts[i]!.addPeer(hosts[j]!, ki);
      await hosts[j]!.addPeer(hosts[i]!, kj);
    }
  }
}
