import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs';
import {Agent, request as httpRequest} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Netns} from '../helpers/netns.js';
import {runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {Tmpfs} from '../helpers/tmpfs.js';

function call(socketPath: string, agent: Agent, method: string, path: string): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({socketPath, method, path, agent}, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode!, body: Buffer.concat(chunks).toString()}));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe("the router's state under --db-prefix (real routers, root)", function () {
  requireRoot();
  requireTool('curl', 'curl');
  requireTool('flock', 'util-linux');
  this.timeout(120_000);
  const namespaces: Netns[] = [];
  const routers: RouterProcess[] = [];
  let apiDir: string;
  const agent = new Agent({keepAlive: true, maxSockets: 8});
  const ns = () => {
    const n = Netns.create('wtst');
    namespaces.push(n);
    return n;
  };
  const start = async (host: Netns, dbDir: string, args: string[] = []) => {
    const router = await RouterProcess.start(host, {dbDir, apiSocket: join(apiDir, `${host.name}.sock`), args});
    routers.push(router);
    return router;
  };

  beforeEach(() => {
    apiDir = mkdtempSync(join(tmpdir(), 'weave-state-api-'));
  });
  afterEach(async () => {
    for (const r of routers.splice(0)) await r.stop('SIGKILL');
    for (const n of namespaces.splice(0)) n.delete();
    rmSync(apiDir, {recursive: true, force: true});
  });
  after(() => agent.destroy());

  it('refuses a second router over the same directory, from another namespace, naming the first; a kill -9 frees it at once', async () => {
    const dbDir = mkdtempSync(join(tmpdir(), 'weave-state-db-'));
    try {
      const [one, two] = [ns(), ns()];
      const first = await start(one, dbDir);
      const allocated = first.api('POST', '/ip/held-by-first');
      assert.equal(allocated[0], 200);
      await assert.rejects(start(two, dbDir), (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `another router uses the state under --db-prefix ${dbDir}/weave: ${dbDir}/weaverouter\\.lock is locked by pid ${first.child.pid}, nickname ${one.name}, running since \\d{4}-\\d\\d-\\d\\dT[^.]+\\.\\d+Z\\. ` +
              'Two routers over the same data would hand out the same addresses: stop that one first, or give this one another --db-prefix\\.',
          ),
        );
        return true;
      });
      assert.deepEqual(two.links(), ['lo'], 'the refused router made nothing (no bridge)');
      assert.deepEqual(first.api('GET', '/ip/held-by-first'), allocated, 'the first is untouched');

      await first.stop('SIGKILL');
      const second = await start(two, dbDir);
      assert.deepEqual(second.api('GET', '/ip/held-by-first'), allocated, 'no stale lock: the state moves over with its allocations');
    } finally {
      rmSync(dbDir, {recursive: true, force: true});
    }
  });

  describe('on a 6 MB tmpfs', () => {
    let disk: Tmpfs;
    beforeEach(() => {
      disk = Tmpfs.mount('6m');
    });
    afterEach(async () => {
      for (const r of routers.splice(0)) await r.stop('SIGKILL');
      disk.unmount();
    });

    it('restarts again and again, also once the disk is full, without a second log', async () => {
      const host = ns();
      let router = await start(host, disk.dir);
      const held = new Map<string, string>();
      for (let i = 0; i < 20; i++) {
        const [status, body] = router.api('POST', `/ip/c${i}`);
        assert.equal(status, 200, body);
        held.set(`c${i}`, body);
      }
      const log = join(disk.dir, 'weavedata.log');
      const inode = statSync(log).ino;
      const restart = async (signal: NodeJS.Signals) => {
        await router.stop(signal);
        routers.splice(routers.indexOf(router), 1);
        router = await start(host, disk.dir);
        for (const [id, addr] of held) assert.deepEqual(router.api('GET', `/ip/${id}`), [200, addr], id);
      };
      for (const signal of ['SIGKILL', 'SIGTERM', 'SIGKILL'] as const) await restart(signal);
      assert.equal(statSync(log).ino, inode, 'the same log each time');
      assert.ok(!readdirSync(disk.dir).some(f => f.endsWith('.tmp')));

      disk.fill();
      await restart('SIGKILL');
      const [status, body] = router.api('POST', '/ip/on-full-disk');
      assert.equal(status, 200, `the log keeps room of its own: ${body}`);
    });

    it('filled: refuses allocations (503, CNI code 11) naming the file and the space, answers reads; freed: allocates again by itself', async () => {
      const host = ns();
      const dbDir = join(disk.dir, 'db');
      mkdirSync(dbDir);
      // Space for a small log only: it fills (and needs a new generation) after some 1,500 allocations.
      const firstFiller = disk.fill(400 << 10);
      const router = await start(host, dbDir);
      assert.match(router.logs, /weavedata\.log is made \d+ KB instead of 4\.0 MB, and grows when space allows/);
      const socket = router.apiSocket!;
      const secondFiller = disk.fill();

      const acked = new Map<string, string>();
      let refusal: {status: number; body: string} | undefined;
      const worker = async (w: number) => {
        for (let k = 0; refusal === undefined && k < 20_000; k++) {
          const reply = await call(socket, agent, 'POST', `/ip/w${w}-${k}`);
          if (reply.status === 200) acked.set(`w${w}-${k}`, reply.body);
          else refusal = reply;
        }
      };
      await Promise.all(Array.from({length: 8}, (_, w) => worker(w)));
      assert.equal(refusal?.status, 503, refusal?.body);
      assert.match(
        refusal.body,
        new RegExp(`^IPAM data cannot be saved: no space for ${dbDir}/weavedata\\.snap \\(\\d+ KB needed in ${dbDir}, \\d+ KB free\\); changes are refused until space is freed there, and the router saves by itself then\\n$`),
      );
      assert.ok(acked.size > 500, `${acked.size} allocations before the refusal`);

      const owned = JSON.parse((await call(socket, agent, 'GET', '/ip')).body) as {owned: {containerid: string; addrs: string[]}[]};
      assert.deepEqual(new Map(owned.owned.map(o => [o.containerid, o.addrs[0]])), acked, 'reads are answered, and hold exactly what was acknowledged');
      const plugin = await runPlugin({
        plugin: 'weave-ipam',
        env: {CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'full-disk-pod', CNI_NETNS: host.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni', WEAVE_HTTP_ADDR: socket},
        config: {cniVersion: '1.0.0', name: 'weave', type: 'weave-ipam'},
      });
      assert.equal(plugin.json?.code, 11, plugin.stdout);
      assert.match(String(plugin.json?.msg), /^unable to allocate IP address: IPAM data cannot be saved: no space for .*weavedata\.snap/);

      rmSync(secondFiller);
      rmSync(firstFiller);
      let again: {status: number; body: string} | undefined;
      for (const deadline = Date.now() + 20_000; again?.status !== 200 && Date.now() < deadline; ) {
        again = await call(socket, agent, 'POST', '/ip/after-freeing');
        if (again.status !== 200) await new Promise(resolve => setTimeout(resolve, 250));
      }
      assert.equal(again?.status, 200, again?.body);
      assert.match(router.logs, /IPAM data saved again in .*: space was freed/);

      await router.stop('SIGKILL');
      routers.splice(routers.indexOf(router), 1);
      const restarted = await start(host, dbDir);
      const after = JSON.parse((await call(restarted.apiSocket!, agent, 'GET', '/ip')).body) as {owned: {containerid: string; addrs: string[]}[]};
      const kept = new Map(after.owned.map(o => [o.containerid, o.addrs[0]]));
      for (const [id, addr] of acked) assert.equal(kept.get(id), addr, id);
      assert.equal(kept.get('after-freeing'), again.body);
    });
  });
});
