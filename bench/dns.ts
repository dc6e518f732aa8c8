/**
 * weaveDNS benchmark, in one simulated host (a network namespace):
 *   - answers per second and latency for names on the network (dnsperf, Debian's load tool), from
 *     our router and from dnsmasq serving the same names from a hosts file, in interleaved rounds;
 *   - the router's memory (RSS) before and after 10,000 names;
 *   - what the DNS wire library (dns-packet) adds to the router's bundle and start.
 *
 *   npm run bench:dns [-- --seconds 3 --rounds 5 --names 10000]
 */
import {type ChildProcess, execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {request} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {build} from 'esbuild';
import {PACKAGE_ROOT} from '../src/lib/package.js';
import {Netns} from '../test/helpers/netns.js';
import {RouterProcess} from '../test/helpers/router.js';
import {rssMb} from './lib/memory.js';
import {BenchError, benchArgs, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/dns.ts [options]   (npm run build first: the router runs from dist)
  --seconds N  length of each dnsperf run (default 3)
  --rounds N   runs against each server, interleaved; medians are reported (default 5)
  --names N    names registered, and served by both (default 10000)`;

const OURS = '127.0.0.1';
const REFERENCE = '127.0.0.2';

/** The i-th name and address: `n<i>.weave.local` at 10.40.x.y. */
const nameOf = (i: number) => `n${i}.weave.local`;
const addressOf = (i: number) => `10.40.${(i >> 8) & 255}.${i & 255}`;

/** PUT /name for every name over the router's API socket, `parallel` at a time. */
async function register(socketPath: string, names: number, parallel = 16): Promise<void> {
  const put = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = `fqdn=${nameOf(i)}.`;
      const req = request({socketPath, method: 'PUT', path: `/name/bench${i}/${addressOf(i)}`, headers: {'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length}}, res => {
        res.resume();
        res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new BenchError(`PUT /name answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  await Promise.all(Array.from({length: parallel}, async () => {
    while (next < names) await put(next++);
  }));
}

interface Run {
  qps: number;
  latencyMs: number;
  lost: number;
}

/** One dnsperf run against `server`: answers per second, mean latency, queries lost. */
function dnsperf(ns: Netns, server: string, queries: string, seconds: number): Run {
  const out = ns.exec('dnsperf', ['-s', server, '-d', queries, '-l', String(seconds), '-c', '4', '-q', '64', '-t', '2']);
  const num = (label: RegExp) => {
    const m = label.exec(out);
    if (!m) throw new BenchError(`dnsperf printed no "${label.source}":\n${out}`);
    return Number(m[1]);
  };
  return {qps: num(/Queries per second:\s+([\d.]+)/), latencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000, lost: num(/Queries lost:\s+(\d+)/)};
}

/**
 * Bytes dns-packet adds to a bundle, and the median time a fresh node takes to import them, timed
 * inside the process, against importing an empty module the same way (alternated, 15 each).
 */
async function libraryCost(dir: string): Promise<{bytes: number; loadMs: number; emptyMs: number}> {
  const lib = join(dir, 'dns-packet.mjs');
  const empty = join(dir, 'empty.mjs');
  await build({stdin: {contents: "export * from 'dns-packet';", resolveDir: PACKAGE_ROOT}, bundle: true, platform: 'node', format: 'esm', outfile: lib, logLevel: 'warning', banner: {js: "import {createRequire} from 'node:module'; const require = createRequire(import.meta.url);"}});
  writeFileSync(empty, 'export {};\n');
  const importMs = (file: string) => Number(execFileSync(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`], {encoding: 'utf8'}));
  const loads: number[] = [];
  const empties: number[] = [];
  for (let i = 0; i < 15; i++) {
    loads.push(importMs(lib));
    empties.push(importMs(empty));
  }
  return {bytes: statSync(lib).size, loadMs: median(loads), emptyMs: median(empties)};
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {seconds: {type: 'string'}, rounds: {type: 'string'}, names: {type: 'string'}, help: {type: 'boolean'}}}));
  const seconds = count(values.seconds, 'seconds', 3, 1, USAGE);
  const rounds = count(values.rounds, 'rounds', 5, 1, USAGE);
  const names = count(values.names, 'names', 10_000, 1, USAGE);
  const dir = mkdtempSync(join(tmpdir(), 'weave-bench-dns-'));
  const ns = Netns.create('bdns');
  let router: RouterProcess | undefined;
  let dnsmasq: ChildProcess | undefined;
  try {
    ns.exec('ip', ['addr', 'add', `${REFERENCE}/8`, 'dev', 'lo']);
    const api = join(dir, 'api.sock');
    router = await RouterProcess.start(ns, {apiSocket: api, args: ['--dns-listen-address', `${OURS}:53`, '--log-level', 'warning', '--resolv-conf', '/dev/null']});
    const before = rssMb(router.child.pid!);
    const t0 = Date.now();
    await register(api, names);
    const registerMs = Date.now() - t0;
    // Once gossip and the requests' garbage have settled.
    await new Promise(resolve => setTimeout(resolve, 2000));
    const after = rssMb(router.child.pid!);

    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, Array.from({length: names}, (_, i) => `${addressOf(i)} ${nameOf(i)}\n`).join(''));
    // The same names from a hosts file; other names in the domain are NXDOMAIN (--local), as ours.
    dnsmasq = ns.spawnDetached('dnsmasq', ['-k', '-C', '/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`, '--local=/weave.local/', '--bind-interfaces', `--listen-address=${REFERENCE}`, `--pid-file=${join(dir, 'dnsmasq.pid')}`, `--cache-size=${Math.max(150, names * 2)}`]);
    const queries = join(dir, 'queries');
    writeFileSync(queries, Array.from({length: Math.min(names, 5000)}, (_, k) => `${nameOf((k * 7919) % names)} A\n`).join(''));
    for (let i = 0; i < 50; i++) {
      try {
        ns.exec('dig', [`@${REFERENCE}`, '+short', '+time=1', '+tries=1', nameOf(0)]);
        break;
      } catch {
        await new Promise(resolve => setTimeout(resolve, 100));
      }
    }
    const ours: Run[] = [];
    const reference: Run[] = [];
    for (let r = 0; r < rounds; r++) {
      ours.push(dnsperf(ns, OURS, queries, seconds));
      reference.push(dnsperf(ns, REFERENCE, queries, seconds));
    }
    const cost = await libraryCost(dir);
    const med = (runs: Run[], key: keyof Run) => median(runs.map(run => run[key]));
    console.log(`\nweaveDNS vs dnsmasq, ${names} names, dnsperf (4 clients, 64 outstanding), ${seconds} s x ${rounds} rounds, interleaved\n`);
    console.log(
      table(
        ['server', 'answers/s (median)', 'min', 'max', 'latency ms', 'lost', 'ours vs this'],
        [
          ['weaveDNS (router)', ours, med(ours, 'qps')] as const,
          ['dnsmasq (hosts file)', reference, med(reference, 'qps')] as const,
        ].map(([label, runs, qps]) => [label, qps.toFixed(0), Math.min(...runs.map(x => x.qps)).toFixed(0), Math.max(...runs.map(x => x.qps)).toFixed(0), med(runs, 'latencyMs').toFixed(2), String(runs.reduce((s, x) => s + x.lost, 0)), ratio(med(ours, 'qps'), qps)]),
      ),
    );
    console.log(`\nrouter RSS: ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB with ${names} names (+${(after - before).toFixed(1)} MB); registering them over the API took ${registerMs} ms`);
    console.log(`dns-packet: ${(cost.bytes / 1024).toFixed(1)} KiB bundled; a fresh node imports it in ${cost.loadMs.toFixed(1)} ms, an empty module in ${cost.emptyMs.toFixed(1)} ms (medians of 15)`);
    console.log(
      `\n${jsonLine({names, oursQps: med(ours, 'qps'), dnsmasqQps: med(reference, 'qps'), oursOfDnsmasq: med(ours, 'qps') / med(reference, 'qps'), oursLatencyMs: med(ours, 'latencyMs'), dnsmasqLatencyMs: med(reference, 'latencyMs'), rssBeforeMb: before, rssAfterMb: after, registerMs, dnsPacketBytes: cost.bytes, dnsPacketImportMs: cost.loadMs, emptyImportMs: cost.emptyMs})}`,
    );
  } finally {
    dnsmasq?.kill();
    await router?.destroy();
    ns.delete();
    rmSync(dir, {recursive: true, force: true});
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
