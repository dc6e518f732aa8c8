import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {once} from 'node:events';
import {Netns} from './netns.js';
import {collect} from './spawn.js';

/** A simulated host on the LAN: its namespace, its address, and its port on the switch. */
export interface LanHost {
  ns: Netns;
  /** Its address on the LAN, e.g. 192.168.90.1. */
  ip: string;
  /** Its link, inside its namespace. */
  ifname: string;
  /** Its link's other end, on the switch. */
  port: string;
}

/** A packet capture on the switch (tcpdump); stop() flushes and ends it. */
export interface Capture {
  file: string;
  stop(): Promise<void>;
}

const BRIDGE = 'lan0';

function ipIn(ns: Netns, args: string[]): void {
  execFileSync('ip', ['-n', ns.name, ...args], {stdio: ['ignore', 'ignore', 'pipe']});
}

/**
 * Room in the kernel's neighbour tables for `hosts` hosts that each know every other, and as
 * many pods again: the tables are one for the whole machine, every namespace's entries counted
 * together (a real host keeps only its own), and past gc_thresh3 (1024 by default) the kernel
 * drops packets to new neighbours, "neighbor table overflow": 100 hosts need ~10,000. Raised,
 * never lowered (other tests' LANs may need more).
 */
function neighbourRoom(hosts: number): void {
  const needed = 2 * hosts * hosts + 1024;
  for (const family of ['ipv4', 'ipv6']) {
    const key = `net.${family}.neigh.default.gc_thresh`;
    const current = Number(execFileSync('sysctl', ['-n', `${key}3`], {encoding: 'utf8'}));
    if (current >= needed) continue;
    execFileSync('sysctl', ['-qw', `${key}1=${Math.floor(needed / 4)}`, `${key}2=${Math.floor(needed / 2)}`, `${key}3=${needed}`]);
  }
}

/**
 * A shared LAN: a bridge ("switch") in a namespace of its own, and N host namespaces each linked
 * to it with a veth whose host end is `eth0` holding 192.168.90.<i+1>/24. Nothing touches the
 * machine's own interfaces. IPv6 is off on the LAN so idle traffic counts only what hosts send.
 */
export class Lan {
  private blocking = false;

  private constructor(
    readonly switchNs: Netns,
    readonly hosts: LanHost[],
  ) {}

  static create(count: number, options: {subnet?: string} = {}): Lan {
    const subnet = options.subnet ?? '192.168.90';
    if (count < 1 || count > 250) throw new Error(`a LAN holds 1 to 250 hosts, not ${count}`);
    neighbourRoom(count);
    const switchNs = Netns.create('wls');
    const lan = new Lan(switchNs, []);
    try {
      switchNs.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      ipIn(switchNs, ['link', 'add', BRIDGE, 'type', 'bridge']);
      ipIn(switchNs, ['link', 'set', BRIDGE, 'up']);
      for (let i = 0; i < count; i++) {
        const ns = Netns.create('wlh');
        const host: LanHost = {ns, ip: `${subnet}.${i + 1}`, ifname: 'eth0', port: `p${i}`};
        lan.hosts.push(host);
        ns.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
        ipIn(switchNs, ['link', 'add', host.port, 'type', 'veth', 'peer', 'name', host.ifname, 'netns', ns.name]);
        ipIn(switchNs, ['link', 'set', host.port, 'master', BRIDGE, 'up']);
        ipIn(ns, ['addr', 'add', `${host.ip}/24`, 'dev', host.ifname]);
        ipIn(ns, ['link', 'set', host.ifname, 'up']);
      }
    } catch (error) {
      lan.destroy();
      throw error;
    }
    return lan;
  }

  /** Unplugs a host from the switch (a partition); heal() plugs it back. */
  cut(host: LanHost): void {
    ipIn(this.switchNs, ['link', 'set', host.port, 'down']);
  }

  heal(host: LanHost): void {
    ipIn(this.switchNs, ['link', 'set', host.port, 'up']);
  }

  /**
   * Drops everything between two hosts on the switch (an nftables bridge rule each way), as a
   * firewall between them would; unblock() lets it through again.
   */
  block(a: LanHost, b: LanHost): void {
    const nft = (args: string[]) => this.switchNs.exec('nft', args);
    if (!this.blocking) {
      nft(['add', 'table', 'bridge', 'lanfilter']);
      nft(['add', 'chain', 'bridge', 'lanfilter', 'forward', '{', 'type', 'filter', 'hook', 'forward', 'priority', '0;', '}']);
      this.blocking = true;
    }
    for (const [from, to] of [[a, b], [b, a]] as const) nft(['add', 'rule', 'bridge', 'lanfilter', 'forward', 'iifname', from.port, 'oifname', to.port, 'drop', 'comment', `"${a.port}-${b.port}"`]);
  }

  unblock(a: LanHost, b: LanHost): void {
    const listed = JSON.parse(this.switchNs.exec('nft', ['-j', '-a', 'list', 'chain', 'bridge', 'lanfilter', 'forward'])) as {nftables: {rule?: {handle: number; comment?: string}}[]};
    for (const {rule} of listed.nftables) if (rule?.comment === `${a.port}-${b.port}`) this.switchNs.exec('nft', ['delete', 'rule', 'bridge', 'lanfilter', 'forward', 'handle', String(rule.handle)]);
  }

  /** Bytes each host has sent onto the LAN so far, in host order (its switch port's received bytes). */
  sentBytes(): number[] {
    const links = JSON.parse(this.switchNs.exec('ip', ['-s', '-j', 'link', 'show'])) as {ifname: string; stats64: {rx: {bytes: number}}}[];
    const byName = new Map(links.map(l => [l.ifname, l.stats64.rx.bytes]));
    return this.hosts.map(h => byName.get(h.port) ?? 0);
  }

  /**
   * Drops IP fragments crossing the switch, as many clouds and firewalls do: iptables on the
   * bridged traffic (br_netfilter, switched on for this namespace alone). Checks that it does,
   * between the first two hosts: a ping too big for one frame crosses before and not after,
   * while one that fits still does.
   */
  async dropFragments(): Promise<void> {
    const [a, b] = this.hosts;
    if (!a || !b) throw new Error('dropFragments() checks itself between two hosts: create the LAN with at least two');
    const pings = async (size: number) => (await collect('nsenter', [`--net=${a.ns.path}`, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '-s', String(size), b.ip])).exitCode === 0;
    if (!(await pings(3000))) throw new Error('the LAN does not carry fragmented pings even before dropping fragments');
    this.switchNs.exec('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']);
    this.switchNs.exec('iptables', ['-A', 'FORWARD', '-f', '-j', 'DROP']);
    if (await pings(3000)) throw new Error('the LAN still carries IP fragments after the iptables rule');
    if (!(await pings(1000))) throw new Error('the LAN no longer carries whole packets after dropping fragments');
  }

  /**
   * Starts tcpdump on every port of the switch (frames forwarded between ports never reach the
   * bridge device itself), writing frames (their first `snaplen` bytes; 0: whole) to `file`;
   * resolves once it listens.
   */
  async capture(file: string, filter: string[] = [], snaplen = 0): Promise<Capture> {
    const child: ChildProcess = spawn('nsenter', [`--net=${this.switchNs.path}`, 'tcpdump', '-i', 'any', '--immediate-mode', '-U', '-s', String(snaplen), '-w', file, ...filter], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d;
        if (stderr.includes('listening on')) resolve();
      });
      child.once('exit', code => reject(new Error(`tcpdump exited (${code}): ${stderr}`)));
    });
    return {
      file,
      stop: async () => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGINT');
        await exited;
      },
    };
  }

  destroy(): void {
    for (const h of this.hosts) h.ns.delete();
    this.switchNs.delete();
  }
}
