import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {once} from 'node:events';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, before, describe, it} from 'mocha';
import {SLEEVE_OVERHEAD} from '../../src/lib/router/dataplane/sleeve/packet.js';
import {pings} from '../helpers/cni-host.js';
import {Lan} from '../helpers/lan.js';
import type {Netns} from '../helpers/netns.js';
import {waitUntil} from '../helpers/mesh-router.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {createSite, handshakeKeys, meshAll, type Site, SleeveHost} from '../helpers/sleeve.js';
import {ipv4Packets, isFragment} from '../helpers/pcap.js';
import {collect} from '../helpers/spawn.js';
import {tcpSend, tcpTransfer} from '../helpers/transfer.js';

const PORT = 6783;
const MB = 1024 * 1024;
/** The MTU of the simulated LAN's links (veth's default). */
const LAN_MTU = 1500;

/** The payloads of the whole (unfragmented) UDP datagrams of a capture. */
function udpPayloads(file: string): Buffer[] {
  return ipv4Packets(file)
    .filter(ip => ip[9] === 17 && !isFragment(ip))
    .map(ip => {
      const udp = ip.subarray((ip[0]! & 0xf) * 4);
      return udp.subarray(8, udp.readUInt16BE(4));
    });
}

/** Sends `payload` as one UDP datagram from inside a host's namespace (its LAN address as source). */
async function inject(site: Site, payload: Buffer, to: string): Promise<void> {
  const script = "const s = require('dgram').createSocket('udp4'); s.send(Buffer.from(process.argv[1], 'hex'), Number(process.argv[2]), process.argv[3], e => { if (e) throw e; s.close(); });";
  const sent = await collect('nsenter', [`--net=${site.host.ns.path}`, process.execPath, '-e', script, payload.toString('hex'), String(PORT), to]);
  assert.equal(sent.exitCode, 0, sent.stderr);
}

describe('sleeve: encrypted pod traffic between simulated hosts', function () {
  requireRoot();
  requireTool('socat', 'socat');
  requireTool('tcpdump', 'tcpdump');
  requireTool('ping', 'iputils-ping');
  requireTool('python3', 'python3');
  this.timeout(120_000);

  let lan: Lan | undefined;
  let sites: Site[] = [];
  let hosts: SleeveHost[] = [];
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-sleeve-'));
  });

  after(() => rmSync(dir, {recursive: true, force: true}));

  async function start(count: number): Promise<SleeveHost[]> {
    lan = Lan.create(count);
    sites = lan.hosts.map((host, i) => createSite(host, i));
    for (const site of sites) hosts.push(await SleeveHost.start(site));
    return hosts;
  }

  afterEach(async () => {
    await Promise.all(hosts.map(h => h.stop()));
    hosts = [];
    for (const site of sites) site.pod.delete();
    sites = [];
    lan?.destroy();
    lan = undefined;
  });

  it('refuses a missing bridge, a TAP in use and keys used before, saying what to do', async () => {
    lan = Lan.create(1);
    sites = [createSite(lan.hosts[0]!, 0)];
    await assert.rejects(SleeveHost.start(sites[0]!, {bridge: 'nobridge'}), /bridge nobridge does not exist: create the weave bridge before the sleeve/);
    const host = await SleeveHost.start(sites[0]!);
    hosts.push(host);
    await assert.rejects(SleeveHost.start(sites[0]!), /cannot create the TAP device sleeve-6783: TUNSETIFF: Device or resource busy/);
    const [keys] = await handshakeKeys();
    await host.addPeer(host, keys);
    await assert.rejects(host.addPeer(host, keys), /keys for .* were used before: derive new ones from a new handshake/);
  });

  /** Whether a ping of `size` bytes of payload from one namespace gets an answer. */
  async function pingsWith(ns: Netns, address: string, size: number): Promise<boolean> {
    return (await collect('nsenter', [`--net=${ns.path}`, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '-s', String(size), address])).exitCode === 0;
  }

  /**
   * Sends 2500 bytes from one pod to another in one send() with UDP_SEGMENT at 1000 (the TAP gets
   * it as a UDP super-frame); the sizes of the datagrams that arrive.
   */
  async function udpSegmented(from: Site, to: Site): Promise<number[]> {
    const receiver = "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',5002))\ns.settimeout(5)\nprint('ready',flush=True)\ntry:\n  for _ in range(3): print(len(s.recv(65536)),flush=True)\nexcept socket.timeout: pass";
    const sender = "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_UDP,103,1000)\ns.sendto(b'x'*2500,(sys.argv[1],5002))";
    const child = spawn('nsenter', [`--net=${to.pod.path}`, 'python3', '-c', receiver], {stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const exited = once(child, 'exit');
    await waitUntil('the UDP receiver', async () => out.startsWith('ready'), 10_000, 50);
    const sent = await collect('nsenter', [`--net=${from.pod.path}`, 'python3', '-c', sender, to.podIp]);
    assert.equal(sent.exitCode, 0, sent.stderr);
    await exited;
    return out.split('\n').slice(1).filter(Boolean).map(Number);
  }

  /** The sleeve's datagrams and any fragment crossing the LAN, their IP headers only, while `work` runs. */
  async function captured(file: string, work: () => Promise<void>): Promise<Buffer[]> {
    const capture = await lan!.capture(join(dir, file), ['udp', 'port', String(PORT), 'or', '(ip[6:2] & 0x3fff != 0)'], 64);
    try {
      await work();
    } finally {
      await capture.stop();
    }
    return ipv4Packets(capture.file);
  }

  /** No fragment, no datagram over the LAN's MTU nor over what one sealed pod frame needs. */
  function assertWhole(packets: Buffer[], mtu: number): void {
    assert.equal(packets.filter(isFragment).length, 0, 'no IP fragments on the LAN');
    const largest = packets.reduce((most, ip) => Math.max(most, ip.readUInt16BE(2)), 0);
    assert.ok(largest <= mtu + SLEEVE_OVERHEAD && largest <= LAN_MTU, `no datagram over the path MTU (the largest: ${largest} bytes)`);
  }

  it('two hosts, IP fragments dropped on the LAN: 100 MB cross intact, in datagrams within the path MTU', async () => {
    const [a, b] = await start(2);
    await lan!.dropFragments();
    await meshAll([a!, b!]);
    assert.ok(pings(sites[0]!.pod, sites[1]!.podIp), 'pod A reaches pod B');
    assert.ok(pings(sites[1]!.pod, sites[0]!.podIp), 'pod B reaches pod A');
    let transferred: [string, string] = ['', 'not run'];
    const packets = await captured('whole.pcap', async () => {
      transferred = await tcpTransfer(sites[0]!.pod, sites[1]!.pod, sites[1]!.podIp, 100 * MB);
    });
    assert.equal(transferred[1], transferred[0], 'the receiver got the same bytes');
    assertWhole(packets, sites[0]!.mtu);
    const stats = await b!.stats();
    const {receivedBytes, receivedFrames} = stats.peers[0]!;
    assert.ok(receivedBytes > 100 * MB, `B received the transfer through the sleeve (${receivedBytes} bytes)`);
    // The TAP hands over 64 KB super-frames: that B opened a datagram per MSS says they were cut.
    assert.ok(receivedFrames > (100 * MB) / (sites[0]!.mtu - 40), `in MTU-sized datagrams (${receivedFrames})`);
    assert.ok(packets.length > 1000, `the capture holds them (${packets.length})`);
    assert.deepEqual({replayed: stats.dropped.replayed, unauthenticated: stats.dropped.unauthenticated}, {replayed: 0, unauthenticated: 0});
    assert.deepEqual(await udpSegmented(sites[0]!, sites[1]!), [1000, 1000, 500], 'a UDP super-frame (UDP_SEGMENT) arrives as its datagrams');
  });

  it('without offloads, fragments dropped: one datagram per frame, the same bytes', async () => {
    lan = Lan.create(2);
    sites = lan.hosts.map((host, i) => createSite(host, i));
    for (const site of sites) hosts.push(await SleeveHost.start(site, {offloads: false}));
    await lan!.dropFragments();
    await meshAll(hosts);
    assert.ok(pings(sites[0]!.pod, sites[1]!.podIp), 'warm-up');
    let transferred: [string, string] = ['', 'not run'];
    const packets = await captured('plain.pcap', async () => {
      transferred = await tcpTransfer(sites[0]!.pod, sites[1]!.pod, sites[1]!.podIp, 10 * MB);
    });
    assert.equal(transferred[1], transferred[0], 'the receiver got the same bytes');
    assertWhole(packets, sites[0]!.mtu);
    const stats = await hosts[1]!.stats();
    assert.equal(stats.offloads, false);
    assert.ok(stats.peers[0]!.receivedBytes > 10 * MB);
    assert.ok(stats.peers[0]!.receivedFrames > (10 * MB) / (sites[0]!.mtu - 40), `a datagram per MTU-sized frame (${stats.peers[0]!.receivedFrames})`);
  });

  it("a path too small for the datagrams: Don't Fragment, so they are refused and counted, never fragmented", async () => {
    const [a, b] = await start(2);
    await meshAll([a!, b!]);
    assert.ok(pings(sites[0]!.pod, sites[1]!.podIp), 'warm-up');
    // A's link 60 bytes short of what a full pod frame needs: small packets pass, full ones cannot.
    sites[0]!.host.ns.exec('ip', ['link', 'set', 'dev', sites[0]!.host.ifname, 'mtu', String(sites[0]!.mtu + SLEEVE_OVERHEAD - 60)]);
    const before = (await a!.stats()).dropped.sendFailed;
    let delivered = {small: false, full: true};
    const packets = await captured('small-path.pcap', async () => {
      delivered = {small: await pingsWith(sites[0]!.pod, sites[1]!.podIp, 56), full: await pingsWith(sites[0]!.pod, sites[1]!.podIp, sites[0]!.mtu - 28)};
    });
    assert.deepEqual(delivered, {small: true, full: false});
    assert.ok((await a!.stats()).dropped.sendFailed > before, 'A counted the datagrams the kernel refused');
    assert.equal(packets.filter(isFragment).length, 0, 'no IP fragments on the LAN');
  });

  it('the LAN carries neither the payload nor the pod addresses in clear', async () => {
    const [a, b] = await start(2);
    await meshAll([a!, b!]);
    assert.ok(pings(sites[0]!.pod, sites[1]!.podIp), 'warm-up');
    const marker = `weave-sleeve-marker-${randomBytes(4).toString('hex')}`;
    const capture = await lan!.capture(join(dir, 'clear.pcap'));
    try {
      // The marker in ICMP payloads and in a TCP stream, both ways.
      sites[0]!.pod.exec('ping', ['-c', '3', '-i', '0.2', '-p', Buffer.from(marker.slice(0, 16)).toString('hex'), sites[1]!.podIp]);
      await tcpSend(sites[0]!.pod, sites[1]!.pod, sites[1]!.podIp, marker.repeat(1000));
    } finally {
      await capture.stop();
    }
    const pcap = readFileSync(capture.file);
    const sleeved = udpPayloads(capture.file).filter(p => p.length > 32);
    assert.ok(sleeved.length >= 6, `the capture holds the sleeve's datagrams (${sleeved.length})`);
    assert.ok(!pcap.includes(marker.slice(0, 16)), 'no plaintext payload on the LAN');
    for (const site of sites) {
      const binary = Buffer.from(site.podIp.split('.').map(Number));
      assert.ok(!pcap.includes(binary), `pod address ${site.podIp} not on the LAN (binary)`);
      assert.ok(!pcap.includes(site.podIp), `pod address ${site.podIp} not on the LAN (text)`);
    }
  });

  it('a replayed datagram is dropped and counted', async () => {
    const [a, b] = await start(2);
    await meshAll([a!, b!]);
    assert.ok(pings(sites[0]!.pod, sites[1]!.podIp), 'warm-up');
    const capture = await lan!.capture(join(dir, 'replay.pcap'), ['udp', 'and', 'src', 'host', sites[0]!.host.ip, 'and', 'dst', 'port', String(PORT)]);
    try {
      assert.ok(pings(sites[0]!.pod, sites[1]!.podIp));
    } finally {
      await capture.stop();
    }
    const [datagram] = udpPayloads(capture.file);
    assert.ok(datagram, 'captured a datagram from A to B');
    const before = await b!.stats();
    await inject(sites[0]!, datagram, sites[1]!.host.ip);
    await waitUntil('B to count the replay', async () => (await b!.stats()).dropped.replayed === before.dropped.replayed + 1, 5000);
    const afterReplay = await b!.stats();
    assert.equal(afterReplay.peers[0]!.receivedFrames, before.peers[0]!.receivedFrames, 'the replayed frame was not delivered');
    // A datagram altered under a counter not yet seen fails its tag.
    const altered = Buffer.from(datagram);
    altered.writeUInt32BE(altered.readUInt32BE(12) + 1000, 12);
    altered[20] ^= 1;
    await inject(sites[0]!, altered, sites[1]!.host.ip);
    await waitUntil('B to count the forgery', async () => (await b!.stats()).dropped.unauthenticated === 1, 5000);
    assert.ok(pings(sites[0]!.pod, sites[1]!.podIp), 'traffic still flows');
  });

  it('a peer with another password gets no traffic through', async () => {
    const [a, b] = await start(2);
    const [ka, kb] = await handshakeKeys(['the right password', 'a wrong password']);
    await a!.addPeer(b!, ka);
    await b!.addPeer(a!, kb);
    assert.ok(!pings(sites[0]!.pod, sites[1]!.podIp), 'no ping gets through');
    const stats = await b!.stats();
    assert.equal(stats.peers[0]!.receivedFrames, 0);
    assert.ok(stats.dropped.unknownSession + stats.dropped.unauthenticated > 0, `B refused what A sent (${JSON.stringify(stats.dropped)})`);
  });

  it('a restarted sleeve gets new keys and traffic resumes', async () => {
    const [a, b] = await start(2);
    await meshAll([a!, b!]);
    assert.ok(pings(sites[0]!.pod, sites[1]!.podIp), 'before the restart');
    const capture = await lan!.capture(join(dir, 'old.pcap'), ['udp', 'and', 'src', 'host', sites[0]!.host.ip, 'and', 'dst', 'port', String(PORT)]);
    try {
      assert.ok(pings(sites[0]!.pod, sites[1]!.podIp));
    } finally {
      await capture.stop();
    }
    const [old] = udpPayloads(capture.file);
    assert.ok(old, 'captured a datagram under the old keys');

    await a!.kill();
    await waitUntil('the TAP to go with its process', async () => !sites[0]!.host.ns.links().includes('sleeve-6783'), 5000);
    const restarted = await SleeveHost.start(sites[0]!);
    hosts[0] = restarted;
    // What the router does on a new mesh connection: a fresh handshake, its keys to both ends.
    const [ka, kb] = await handshakeKeys();
    await restarted.addPeer(b!, ka);
    await b!.addPeer(restarted, kb);
    await waitUntil('pods to reach each other again', async () => pings(sites[0]!.pod, sites[1]!.podIp), 10_000);
    assert.ok(pings(sites[1]!.pod, sites[0]!.podIp), 'both ways');

    const before = await b!.stats();
    await inject(sites[0]!, old, sites[1]!.host.ip);
    await waitUntil('B to refuse the old datagram', async () => {
      const now = (await b!.stats()).dropped;
      return now.replayed + now.unknownSession > before.dropped.replayed + before.dropped.unknownSession;
    }, 5000);
  });

  it('three hosts: every pod reaches every other, unicast goes only to its peer', async () => {
    const all = await start(3);
    await meshAll(all);
    for (const from of sites) for (const to of sites) if (from !== to) assert.ok(pings(from.pod, to.podIp), `${from.podIp} -> ${to.podIp}`);
    const before = await all[1]!.stats();
    const [sent, received] = await tcpTransfer(sites[0]!.pod, sites[2]!.pod, sites[2]!.podIp, 100 * MB);
    assert.equal(received, sent, 'the receiver got the same bytes');
    const third = (await all[2]!.stats()).peers.find(p => p.address === sites[0]!.host.ip)!;
    assert.ok(third.receivedBytes > 100 * MB, `C received the transfer (${third.receivedBytes} bytes)`);
    const bystander = await all[1]!.stats();
    const seen = bystander.peers.reduce((sum, p) => sum + p.receivedBytes, 0) - before.peers.reduce((sum, p) => sum + p.receivedBytes, 0);
    assert.ok(seen < MB, `B, not a party to it, received only ${seen} bytes of it (learned MACs, no flooding)`);
  });
});
