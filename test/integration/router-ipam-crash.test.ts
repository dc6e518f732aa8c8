import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync} from 'node:fs';
import {Agent, request as httpRequest} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {rssMb} from '../../bench/lib/memory.js';
import {decodeFrames, usedLength} from '../../src/lib/router/ipam/frames.js';
import type {Mutation, OwnedRecord} from '../../src/lib/router/ipam/records.js';
import {storePaths} from '../../src/lib/router/ipam/store-load.js';
import {killHard, startStandalone} from '../helpers/ipam.js';
import {Netns} from '../helpers/netns.js';
import {seededRandom} from '../helpers/random.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';

/** Restarts of the router crash-consistency suite; raise it to search harder. */
const ITERATIONS = 30;
/** A log this small starts a new generation every ~150 changes: the kills land in those too. */
const SMALL_LOG = ['--min-log-bytes', '16384'];

type Target = {port: number} | {socketPath: string};

function call(target: Target, agent: Agent, method: string, path: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const where = 'port' in target ? {host: '127.0.0.1', port: target.port} : target;
    const req = httpRequest({...where, method, path, agent}, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode!, body: Buffer.concat(chunks).toString()}));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function holdings(target: Target, agent: Agent): Promise<Map<string, string[]>> {
  const {owned} = JSON.parse((await call(target, agent, 'GET', '/ip')).body) as {owned: {containerid: string; addrs: string[]}[] | null};
  return new Map((owned ?? []).map(o => [o.containerid, o.addrs]));
}

/** Every address appears once in the listing. */
function assertNoAddressTwice(held: Map<string, string[]>, where = ''): Set<string> {
  const seen = new Map<string, string>();
  for (const [id, addrs] of held) {
    for (const addr of addrs) {
      assert.ok(!seen.has(addr), `${where}${addr} is held by both ${seen.get(addr)} and ${id}`);
      seen.set(addr, id);
    }
  }
  return new Set(seen.keys());
}

/**
 * What clients were told, and what may go either way (no answer came before the kill). After a
 * restart, check() holds the router to it; then what the router holds is the new truth.
 */
class Ledger {
  /** Acknowledged allocations: id -> address. */
  acked = new Map<string, string>();
  /** Acknowledged deletes. */
  deleted = new Set<string>();
  /** Allocations and deletes sent without an answer. */
  unsure = new Set<string>();
  total = 0;

  check(held: Map<string, string[]>, where: string): void {
    assertNoAddressTwice(held, where);
    for (const [id, addr] of this.acked) {
      if (!this.unsure.has(id)) assert.deepEqual(held.get(id), [addr], `${where}acknowledged ${id} -> ${addr}`);
    }
    for (const id of this.deleted) assert.ok(!held.has(id), `${where}acknowledged delete of ${id}`);
    for (const id of held.keys()) assert.ok(this.acked.has(id) || this.unsure.has(id), `${where}${id} is held but was never allocated`);
  }

  reset(held: Map<string, string[]>): void {
    this.acked = new Map([...held].map(([id, [addr]]) => [id, addr!]));
    this.deleted.clear();
    this.unsure.clear();
  }

  /** Allocations and deletes from `workers` clients until the router dies under them. */
  async stream(target: Target, agent: Agent, prefix: string, workers: number, random: () => number): Promise<void> {
    const worker = async (w: number) => {
      for (let k = 0; ; k++) {
        const own = [...this.acked.keys()].filter(id => id.startsWith(`${prefix}-w${w}-`) && !this.unsure.has(id));
        const target_ = own.length > 0 && random() < 0.3 ? own[Math.floor(random() * own.length)] : undefined;
        const id = target_ ?? `${prefix}-w${w}-${k}`;
        this.unsure.add(id);
        let reply: {status: number; body: string};
        try {
          reply = await call(target, agent, target_ ? 'DELETE' : 'POST', `/ip/${id}`);
        } catch {
          return; // the router died under us
        }
        if (target_) {
          assert.equal(reply.status, 204, reply.body);
          this.acked.delete(id);
          this.deleted.add(id);
        } else {
          assert.equal(reply.status, 200, reply.body);
          this.acked.set(id, reply.body);
        }
        this.unsure.delete(id);
        this.total++;
      }
    };
    await Promise.all(Array.from({length: workers}, (_, w) => worker(w)));
  }
}

describe('router/ipam under kill -9 (standalone process, data on disk)', function () {
  this.timeout(120_000);
  let dir: string;
  const agent = new Agent({keepAlive: true, maxSockets: 32});

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-ipam-crash-'));
  });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));
  after(() => agent.destroy());

  it('never loses an acknowledged change nor hands an address out twice across SIGKILLs mid-burst, new generations included', async () => {
    const prefix = join(dir, 'weave');
    const ledger = new Ledger();
    const random = seededRandom(7);
    for (let round = 0; round < 4; round++) {
      const {child, port} = await startStandalone(prefix, SMALL_LOG);
      try {
        ledger.check(await holdings({port}, agent), `round ${round}: `);
        const streaming = ledger.stream({port}, agent, `r${round}`, 16, random);
        await new Promise(resolve => setTimeout(resolve, 150 + round * 100));
        await killHard(child);
        await streaming;
      } finally {
        await killHard(child);
      }
    }
    assert.ok(ledger.total > 200, `only ${ledger.total} changes were acknowledged before the kills`);

    const {child, port} = await startStandalone(prefix, SMALL_LOG);
    try {
      const held = await holdings({port}, agent);
      ledger.check(held, '');
      const inUse = assertNoAddressTwice(held);
      const fresh = await Promise.all(Array.from({length: 100}, (_, i) => call({port}, agent, 'POST', `/ip/after-${i}`)));
      const addrs = fresh.map(f => f.body);
      assert.equal(new Set(addrs).size, 100, '100 concurrent allocations, 100 distinct addresses');
      for (const addr of addrs) assert.ok(!inUse.has(addr), `${addr} was handed out again`);
    } finally {
      await killHard(child);
    }
  });
});

/** What --ipam-recover must keep: the snapshot and the log's records before the damage (nothing when the snapshot is the damaged file). */
function keptByRecovery(prefix: string, file: string, offset: number): Map<string, string[]> {
  const {snapshot, log} = storePaths(prefix);
  if (file === snapshot) return new Map();
  const base = decodeFrames(readFileSync(snapshot)).values[0] as {owned: OwnedRecord[]};
  const owned = new Map(base.owned.map(o => [o.id, [...o.cidrs]]));
  assert.equal(file, log);
  const mutations = decodeFrames(readFileSync(log).subarray(0, offset)).values.slice(1) as Mutation[];
  for (const m of mutations) {
    if (m.t === 'add') owned.set(m.id, [...new Set([...(owned.get(m.id) ?? []), m.cidr])]);
    else if (m.t === 'delete') owned.delete(m.id);
    else if (m.t === 'free') {
      const left = (owned.get(m.id) ?? []).filter(c => c.split('/')[0] !== m.addr);
      if (left.length > 0) owned.set(m.id, left);
      else owned.delete(m.id);
    }
  }
  return owned;
}

describe('router crash consistency: kill -9 mid-stream, damaged files, restarts (real router processes)', function () {
  requireRoot();
  requireTool('curl', 'curl');
  this.timeout(600_000);
  const seed = Number(process.env.WEAVE_CRASH_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  let ns: Netns;
  let dbDir: string;
  let apiDir: string;
  let router: RouterProcess | undefined;
  const agent = new Agent({keepAlive: true, maxSockets: 16});

  before(() => {
    ns = Netns.create('wtcrash');
    dbDir = mkdtempSync(join(tmpdir(), 'weave-crash-db-'));
    apiDir = mkdtempSync(join(tmpdir(), 'weave-crash-api-'));
  });
  after(async () => {
    agent.destroy();
    await router?.stop('SIGKILL');
    ns?.delete();
    rmSync(dbDir, {recursive: true, force: true});
    rmSync(apiDir, {recursive: true, force: true});
  });

  it(`keeps every acknowledged allocation and hands no address out twice, or refuses damage and recovers to what precedes it (${ITERATIONS} iterations)`, async () => {
    const prefix = join(dbDir, 'weave');
    const {snapshot, log} = storePaths(prefix);
    const target = {socketPath: join(apiDir, 'api.sock')};
    const start = (recover: boolean) => RouterProcess.start(ns, {dbDir, apiSocket: target.socketPath, args: recover ? ['--ipam-recover'] : []});
    const ledger = new Ledger();
    let damaged = '';
    let refusals = 0;

    for (let iteration = 0; iteration <= ITERATIONS; iteration++) {
      const where = `iteration ${iteration} (WEAVE_CRASH_SEED=${seed}${damaged ? `, after ${damaged}` : ''}): `;
      try {
        router = await start(false);
        ledger.check(await holdings(target, agent), where);
      } catch (error) {
        const refusal = /IPAM data (\S+) is damaged at byte (\d+): [^"]*start the router once with --ipam-recover/.exec((error as Error).message);
        if (!damaged || !refusal) throw error;
        refusals++;
        const kept = keptByRecovery(prefix, refusal[1]!, Number(refusal[2]));
        router = await start(true);
        const held = await holdings(target, agent);
        assertNoAddressTwice(held, where);
        assert.deepEqual(held, kept, `${where}recovery keeps exactly what precedes the damage`);
      }
      ledger.reset(await holdings(target, agent));
      if (iteration === ITERATIONS) break;

      const streaming = ledger.stream(target, agent, `i${iteration}`, 8, random);
      await new Promise(resolve => setTimeout(resolve, 50 + random() * 350));
      await router.stop('SIGKILL');
      await streaming;

      // One iteration in three also damages what the kill left: a flipped byte or a cut log.
      damaged = '';
      if (iteration % 3 === 2) {
        const file = iteration % 15 === 5 ? snapshot : log;
        const bytes = readFileSync(file);
        const used = usedLength(bytes);
        const at = Math.floor(random() * (file === log ? used + 64 : bytes.length));
        if (file === log && iteration % 2 === 0) {
          truncateSync(file, at);
          damaged = `${file} cut at byte ${at}`;
        } else {
          bytes[at] ^= 1 + Math.floor(random() * 255);
          writeFileSync(file, bytes);
          damaged = `a byte flipped at ${at} of ${file}`;
        }
      }
    }

    // The router that passed the last check is still running: new allocations take free addresses.
    const inUse = assertNoAddressTwice(await holdings(target, agent));
    const fresh = await Promise.all(Array.from({length: 100}, (_, i) => call(target, agent, 'POST', `/ip/final-${i}`)));
    assert.equal(new Set(fresh.map(f => f.body)).size, 100);
    for (const {status, body} of fresh) {
      assert.equal(status, 200, body);
      assert.ok(!inUse.has(body), `${body} was handed out again`);
    }
    assert.ok(ledger.total > 0 && refusals > 0, `acknowledged ${ledger.total}, refused ${refusals} damaged starts`);
    console.log(`      ${ITERATIONS} kills (seed ${seed}), ${ledger.total} changes acknowledged, ${refusals} damaged starts refused and recovered; the router holds ${rssMb(router!.child.pid!).toFixed(1)} MB resident after the suite`);
  });
});
