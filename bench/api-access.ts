/**
 * The cost of the HTTP API's access check (src/lib/router/http/access.ts): a change is allowed
 * only when the kernel's socket table says root holds the client's end, and reading
 * /proc/net/tcp costs in proportion to the sockets in the network namespace. Measured in a
 * namespace of its own, filled with idle loopback connections (two rows each) up to each size:
 * the lookup alone, and round trips of POST (checked) against GET (not checked, the reference)
 * on fresh connections, as the CLI and the cold CNI plugin make them, and kept alive (checked
 * once per connection), against one in-process server with trivial handlers.
 *
 *   npx tsx bench/api-access.ts [--rows 0,2000,10000,40000] [--requests 200]
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {Agent, request} from 'node:http';
import {type AddressInfo, connect, type Socket} from 'node:net';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {RouteTable, text} from '../src/lib/router/http/routes.js';
import {createApiServer} from '../src/lib/router/http/server.js';
import {SocketOwners} from '../src/lib/router/http/socket-owner.js';
import {rerunInNamespace} from './lib/netns.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ms, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/api-access.ts [options]   (as root: it makes a network namespace)
  --rows LIST      socket table sizes to measure at, comma-separated (default 0,2000,10000,40000)
  --requests N     requests per measurement; medians are reported (default 200)`;

const INSIDE = 'WEAVE_BENCH_API_ACCESS_NETNS';
/** Connections one filler process holds (two descriptors each, under the usual 20,000 limit). */
const PER_FILLER = 9000;

interface Options {
  rows: number[];
  requests: number;
}

function parseOptions(argv: string[]): Options {
  const values = benchArgs(USAGE, () => parseArgs({args: argv, options: {rows: {type: 'string'}, requests: {type: 'string'}, help: {type: 'boolean', short: 'h'}}}));
  const rows = (values.rows ?? '0,2000,10000,40000').split(',').map(r => count(r, 'rows', 0, 0, USAGE));
  return {rows: rows.sort((a, b) => a - b), requests: count(values.requests, 'requests', 200, 10, USAGE)};
}

function tableRows(): number {
  const count = (file: string) => {
    try {
      return readFileSync(file, 'latin1').split('\n').length - 2;
    } catch {
      return 0;
    }
  };
  return count('/proc/net/tcp') + count('/proc/net/tcp6');
}

/** A process holding `n` idle loopback connections to a listener of its own. */
async function filler(n: number): Promise<ChildProcess> {
  const script = `
    const net = require('net');
    const server = net.createServer(() => {}).listen(0, '127.0.0.1', async () => {
      const port = server.address().port;
      const held = [];
      for (let i = 0; i < ${n}; i += 500) {
        await Promise.all(Array.from({length: Math.min(500, ${n} - i)}, () => new Promise((resolve, reject) => held.push(net.connect(port, '127.0.0.1', resolve).on('error', reject)))));
      }
      console.log('ready');
    });`;
  const child = spawn(process.execPath, ['-e', script], {stdio: ['ignore', 'pipe', 'inherit']});
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  if (!String(line).includes('ready')) throw new BenchError(`a filler process failed: ${line}`);
  return child;
}

function call(port: number, method: string, agent: Agent | false): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, method, path: '/x', agent}, res => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new BenchError(`${method} /x: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function medianMs(n: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

interface Point {
  rows: number;
  lookupMs: number;
  freshGetMs: number;
  freshPostMs: number;
  keptGetMs: number;
  keptPostMs: number;
}

async function measure(options: Options): Promise<Point[]> {
  const routes = new RouteTable().add('GET', '/x', () => text('ok')).add('POST', '/x', () => text('ok'));
  const server = createApiServer(routes, () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const {port} = server.address() as AddressInfo;
  const probe: Socket = connect(port, '127.0.0.1');
  await once(probe, 'connect');
  const ends = {remoteAddress: probe.localAddress!, remotePort: probe.localPort!, localAddress: probe.remoteAddress!, localPort: probe.remotePort!};
  const owners = new SocketOwners();
  const fillers: ChildProcess[] = [];
  const points: Point[] = [];
  try {
    for (const target of options.rows) {
      while (tableRows() < target) fillers.push(await filler(Math.min(PER_FILLER, Math.ceil((target - tableRows()) / 2))));
      const rows = tableRows();
      const lookupMs = await medianMs(options.requests, () => owners.lookup(ends));
      const freshGetMs = await medianMs(options.requests, () => call(port, 'GET', false));
      const freshPostMs = await medianMs(options.requests, () => call(port, 'POST', false));
      const agent = new Agent({keepAlive: true, maxSockets: 1});
      await call(port, 'POST', agent);
      const keptGetMs = await medianMs(options.requests, () => call(port, 'GET', agent));
      const keptPostMs = await medianMs(options.requests, () => call(port, 'POST', agent));
      agent.destroy();
      points.push({rows, lookupMs, freshGetMs, freshPostMs, keptGetMs, keptPostMs});
      console.error(`measured at ${rows} rows`);
    }
  } finally {
    for (const f of fillers) f.kill();
    probe.destroy();
    server.closeAllConnections();
    server.close();
  }
  return points;
}

function report(options: Options, points: Point[]): void {
  console.log(`\nHTTP API access check: round trips of POST (checked) against GET (not checked); ${options.requests} requests each, medians, ms`);
  console.log(`node ${process.version}; one in-process server, trivial handlers; its own network namespace filled with idle loopback connections\n`);
  console.log(
    table(
      ['socket table rows', 'lookup', 'fresh GET', 'fresh POST', 'POST / GET', 'kept-alive GET', 'kept-alive POST', 'POST / GET'],
      points.map(p => [String(p.rows), ms(p.lookupMs), ms(p.freshGetMs), ms(p.freshPostMs), ratio(p.freshPostMs, p.freshGetMs), ms(p.keptGetMs), ms(p.keptPostMs), ratio(p.keptPostMs, p.keptGetMs)]),
    ),
  );
  const per1000 = points.length > 1 ? ((points.at(-1)!.lookupMs - points[0]!.lookupMs) / (points.at(-1)!.rows - points[0]!.rows)) * 1000 : NaN;
  console.log(`\nthe lookup grows by ${per1000.toFixed(2)} ms per 1,000 rows (/proc/net/tcp is generated per read); kept-alive connections pay it once`);
  console.log(jsonLine({bench: 'api-access', requests: options.requests, points}));
}

const options = parseOptions(process.argv.slice(2));
if (process.env[INSIDE]) {
  report(options, await measure(options));
  process.exit(0);
}
// Outside: a namespace of its own, so the table holds only what the benchmark puts there.
if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark makes a network namespace');
await rerunInNamespace('wba', INSIDE);
