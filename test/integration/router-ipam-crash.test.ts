import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {Agent, request as httpRequest} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {killHard, startStandalone} from '../helpers/ipam.js';

function call(port: number, agent: Agent, method: string, path: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({host: '127.0.0.1', port, method, path, agent}, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode!, body: Buffer.concat(chunks).toString()}));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function holdings(port: number, agent: Agent): Promise<Map<string, string[]>> {
  const {owned} = JSON.parse((await call(port, agent, 'GET', '/ip')).body) as {owned: {containerid: string; addrs: string[]}[] | null};
  return new Map((owned ?? []).map(o => [o.containerid, o.addrs]));
}

/** Every address appears once in the listing. */
function assertNoAddressTwice(held: Map<string, string[]>): Set<string> {
  const seen = new Map<string, string>();
  for (const [id, addrs] of held) {
    for (const addr of addrs) {
      assert.ok(!seen.has(addr), `${addr} is held by both ${seen.get(addr)} and ${id}`);
      seen.set(addr, id);
    }
  }
  return new Set(seen.keys());
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

  it('never loses an acknowledged change nor hands an address out twice across SIGKILLs mid-burst', async () => {
    const prefix = join(dir, 'weave');
    /** Acknowledged allocations still expected: id -> address. */
    const acked = new Map<string, string>();
    /** Acknowledged deletes, and deletes whose answer never came (either outcome is fine). */
    const deleted = new Set<string>();
    const unsure = new Set<string>();
    let acknowledgedTotal = 0;

    for (let round = 0; round < 4; round++) {
      const {child, port} = await startStandalone(prefix);
      try {
        const held = await holdings(port, agent);
        assertNoAddressTwice(held);
        for (const [id, addr] of acked) {
          if (!unsure.has(id)) assert.deepEqual(held.get(id), [addr], `round ${round}: acknowledged ${id} -> ${addr}`);
        }
        for (const id of deleted) assert.ok(!held.has(id), `round ${round}: acknowledged delete of ${id}`);

        let stop = false;
        const worker = async (w: number) => {
          for (let k = 0; !stop; k++) {
            const id = `r${round}-w${w}-${k}`;
            let target: string | undefined;
            if (k % 4 === 3) target = [...acked.keys()].find(candidate => !unsure.has(candidate) && candidate.startsWith(`r${round}-w${w}-`));
            try {
              if (target) {
                unsure.add(target);
                const {status} = await call(port, agent, 'DELETE', `/ip/${target}`);
                assert.equal(status, 204);
                acked.delete(target);
                unsure.delete(target);
                deleted.add(target);
              } else {
                const {status, body} = await call(port, agent, 'POST', `/ip/${id}`);
                assert.equal(status, 200);
                acked.set(id, body);
              }
              acknowledgedTotal++;
            } catch (error) {
              if (error instanceof assert.AssertionError) throw error;
              return; // the router died under us
            }
          }
        };
        const workers = Array.from({length: 16}, (_, w) => worker(w));
        await new Promise(resolve => setTimeout(resolve, 150 + round * 100));
        await killHard(child);
        stop = true;
        await Promise.all(workers);
      } finally {
        await killHard(child);
      }
    }
    assert.ok(acknowledgedTotal > 200, `only ${acknowledgedTotal} changes were acknowledged before the kills`);

    const {child, port} = await startStandalone(prefix);
    try {
      const held = await holdings(port, agent);
      const inUse = assertNoAddressTwice(held);
      for (const [id, addr] of acked) if (!unsure.has(id)) assert.deepEqual(held.get(id), [addr], `acknowledged ${id} -> ${addr}`);
      for (const id of deleted) assert.ok(!held.has(id), `acknowledged delete of ${id}`);
      const fresh = await Promise.all(Array.from({length: 100}, (_, i) => call(port, agent, 'POST', `/ip/after-${i}`)));
      const addrs = fresh.map(f => f.body);
      assert.equal(new Set(addrs).size, 100, '100 concurrent allocations, 100 distinct addresses');
      for (const addr of addrs) assert.ok(!inUse.has(addr), `${addr} was handed out again`);
    } finally {
      await killHard(child);
    }
  });
});
