import assert from 'node:assert/strict';
import {copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {decodeFrames, encodeFrame} from '../../src/lib/router/ipam/frames.js';
import {formatCidr, parseAddress} from '../../src/lib/router/ipam/range.js';
import type {OwnedRecord} from '../../src/lib/router/ipam/records.js';
import {CANCELLED} from '../../src/lib/router/ipam/pending.js';
import {type FileIpamOptions, IpamService} from '../../src/lib/router/ipam/service.js';
import type {FileStore} from '../../src/lib/router/ipam/store.js';
import {IpamStoreFullError} from '../../src/lib/router/ipam/store-errors.js';
import {storePaths} from '../../src/lib/router/ipam/store-load.js';
import {recordingLogger} from '../helpers/ipam.js';
import {requireRoot} from '../helpers/root.js';
import {Tmpfs} from '../helpers/tmpfs.js';

const US = '8a:3e:3e:3e:3e:3e';

describe('router/ipam store on disk', () => {
  let dir: string;
  let prefix: string;
  const open: IpamService[] = [];

  async function closeAll() {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-ipam-'));
    prefix = join(dir, 'weave');
  });

  afterEach(async () => {
    await closeAll();
    rmSync(dir, {recursive: true, force: true});
  });

  async function start(extra: Partial<FileIpamOptions> = {}) {
    const {logger, lines} = recordingLogger();
    const ipam = await IpamService.open({range: '10.32.0.0/12', peerName: US, nickname: 'host1', logger, dbPrefix: prefix, ...extra});
    open.push(ipam);
    return {ipam, lines, store: (ipam as unknown as {store: FileStore}).store};
  }

  async function allocate(ipam: IpamService, id: string): Promise<string> {
    const result = await ipam.allocate(id, ipam.defaultSubnet);
    assert.notEqual(result, CANCELLED);
    return formatCidr(result as Exclude<typeof result, typeof CANCELLED>);
  }

  async function holdings(ipam: IpamService): Promise<Record<string, string[]>> {
    return Object.fromEntries((await ipam.list()).map(o => [o.id, o.cidrs.map(formatCidr)]));
  }

  /** Files beside the data whose names start with `name`. */
  const filesLike = (name: string) => readdirSync(dir).filter(f => f.startsWith(name));

  it('keeps every acknowledged change across a restart without a clean close', async () => {
    const first = await start();
    assert.equal(await allocate(first.ipam, 'c1'), '10.32.0.1/12');
    assert.equal(await allocate(first.ipam, 'c2'), '10.32.0.2/12');
    await first.ipam.claim('weave:expose', {addr: parseAddress('10.32.0.9'), prefix: 12});
    await first.ipam.allocate('pod', first.ipam.defaultSubnet, {cni: true});
    await first.ipam.free('c1', parseAddress('10.32.0.1'));
    // The first service is never closed: what it answered must already be on disk.
    const second = await start();
    assert.deepEqual(await holdings(second.ipam), {c2: ['10.32.0.2/12'], 'weave:expose': ['10.32.0.9/12'], pod: ['10.32.0.3/12']});
    assert.equal(second.ipam.status().status, 'ready', 'the persisted ring is back at once');
    assert.deepEqual(await second.ipam.collectCni([]), ['pod'], 'the CNI origin survives a restart');
    assert.ok(second.lines().some(l => l.msg === 'Initialising with persisted data'));
  });

  it('starts empty on a first run, saying so', async () => {
    const {ipam, lines} = await start();
    assert.deepEqual(await holdings(ipam), {});
    assert.equal(ipam.status().status, 'idle');
    assert.ok(lines().some(l => l.msg === 'No valid persisted data'));
    assert.ok(statSync(storePaths(prefix).log).size >= 4 << 20, 'the log is preallocated');
  });

  it('restarts over the same files: no new log beside the old, no space needed', async () => {
    const first = await start();
    await allocate(first.ipam, 'a');
    await first.ipam.close();
    const {log} = storePaths(prefix);
    const inode = statSync(log).ino;
    for (let round = 0; round < 3; round++) {
      const next = await start();
      await allocate(next.ipam, `r${round}`);
      await next.ipam.close();
    }
    assert.equal(statSync(log).ino, inode, 'the same log file, appended to');
    assert.deepEqual(readdirSync(dir).sort(), ['weavedata.log', 'weavedata.snap']);
    assert.deepEqual(Object.keys(await holdings((await start()).ipam)).sort(), ['a', 'r0', 'r1', 'r2']);
  });

  it('drops a record torn by a crash, saying it was never acknowledged, and keeps everything before it', async () => {
    const first = await start();
    for (const id of ['a', 'b', 'c']) await allocate(first.ipam, id);
    await first.ipam.close();
    const logPath = storePaths(prefix).log;
    const bytes = readFileSync(logPath);
    const end = decodeFrames(bytes).end;
    // Half a record: its header promises more payload than made it to disk.
    const torn = encodeFrame({t: 'add', id: 'torn', cidr: '10.32.0.4/12', container: false, cni: false}).subarray(0, 20);
    torn.copy(bytes, end);
    writeFileSync(logPath, bytes);
    const second = await start();
    assert.deepEqual(Object.keys(await holdings(second.ipam)), ['a', 'b', 'c']);
    assert.ok(second.lines().some(l => l.level === 'warning' && l.msg.includes(`unfinished record at the end of ${logPath} (bytes ${end} to ${end + 20})`) && /never acknowledged/.test(l.msg)));
    assert.equal(await allocate(second.ipam, 'd'), '10.32.0.4/12', 'the torn allocation was never handed out');
    await second.ipam.close();
    // The torn bytes were cleared before anything was appended: the next start finds a whole log.
    const third = await start();
    assert.deepEqual(Object.keys(await holdings(third.ipam)), ['a', 'b', 'c', 'd']);
    assert.ok(!third.lines().some(l => /unfinished record/.test(l.msg)));
  });

  /** Allocates `ids` in a fresh store, closes it, and returns the log's bytes and where each id's record starts. */
  async function logOf(ids: string[], extra: Partial<FileIpamOptions> = {}) {
    const first = await start(extra);
    for (const id of ids) await allocate(first.ipam, id);
    await first.ipam.close();
    const path = storePaths(prefix).log;
    const bytes = readFileSync(path);
    // A record starts 8 bytes before its JSON.
    const at = (id: string) => bytes.indexOf(`{"t":"add","id":"${id}"`) - 8;
    return {path, bytes, at};
  }

  it('refuses mid-log damage, naming the file, the offset and the way out; --ipam-recover keeps what precedes it', async () => {
    const {path, bytes, at} = await logOf(['a', 'b', 'c', 'd']);
    const damaged = Buffer.from(bytes);
    damaged[at('b') + 20] ^= 0x40;
    writeFileSync(path, damaged);
    await assert.rejects(start(), (error: Error) => {
      assert.equal(error.name, 'IpamStoreDamageError');
      assert.ok(error.message.startsWith(`IPAM data ${path} is damaged at byte ${at('b')}: a whole record that fails its checksum.`), error.message);
      assert.match(error.message, /start the router once with --ipam-recover: it moves .*weavedata\.log aside \(kept, never deleted\)/);
      return true;
    });
    assert.deepEqual(readFileSync(path), damaged, 'a refused start changes nothing');

    const recovered = await start({recover: true});
    assert.deepEqual(await holdings(recovered.ipam), {a: ['10.32.0.1/12']});
    assert.ok(recovered.lines().some(l => l.level === 'warning' && l.msg.startsWith('Recovering from damaged IPAM data')));
    const [aside, ...more] = filesLike('weavedata.log.damaged-');
    assert.equal(more.length, 0);
    assert.deepEqual(readFileSync(join(dir, aside!)), damaged, 'the damaged file is kept whole');
    await allocate(recovered.ipam, 'e');
    await recovered.ipam.close();
    const after = await start();
    assert.deepEqual(Object.keys(await holdings(after.ipam)).sort(), ['a', 'e'], 'a recovered store starts without the flag next time');
  });

  it('refuses a whole last record that fails its checksum: it was acknowledged', async () => {
    const {path, bytes, at} = await logOf(['a', 'b']);
    bytes[at('b') + 30] ^= 0x01;
    writeFileSync(path, bytes);
    await assert.rejects(start(), {name: 'IpamStoreDamageError', message: new RegExp(`damaged at byte ${at('b')}: a whole record that fails its checksum`)});
  });

  it('refuses a log cut short (after its header or within it), and one whose header cannot be read', async () => {
    const {path, bytes, at} = await logOf(['a', 'b', 'c']);
    truncateSync(path, at('c') + 30);
    await assert.rejects(start(), {name: 'IpamStoreDamageError', message: new RegExp(`damaged at byte ${at('c')}: the file ends at byte ${at('c') + 30}, short of the ${bytes.length} bytes`)});
    truncateSync(path, 50);
    await assert.rejects(start(), {name: 'IpamStoreDamageError', message: new RegExp(`${path} is damaged at byte 0: its header cannot be read`)});
    truncateSync(path, 5);
    await assert.rejects(start(), {name: 'IpamStoreDamageError', message: new RegExp(`${path} is damaged at byte 0: its header is cut short, and the file \\(5 bytes\\) with it`)});
    const garbage = Buffer.from(bytes);
    for (let i = 0; i < 4096; i++) garbage[i] = (i * 7919 + 13) % 251;
    writeFileSync(path, garbage);
    await assert.rejects(start(), {name: 'IpamStoreDamageError', message: new RegExp(`${path} is damaged at byte 0: its header cannot be read .*To start with the snapshot alone`)});
  });

  it('recovers from an unreadable log header with what the snapshot holds', async () => {
    const {path, bytes} = await logOf(
      Array.from({length: 60}, (_, i) => `c${i}`),
      {minLogBytes: 4096},
    );
    const snapshot = decodeFrames(readFileSync(storePaths(prefix).snapshot)).values[0] as {owned: OwnedRecord[]};
    assert.ok(snapshot.owned.length > 20, 'compactions put allocations into the snapshot');
    bytes.fill(0x5a, 0, 100);
    writeFileSync(path, bytes);
    await assert.rejects(start({minLogBytes: 4096}), {name: 'IpamStoreDamageError'});
    const recovered = await start({minLogBytes: 4096, recover: true});
    assert.deepEqual(await holdings(recovered.ipam), Object.fromEntries(snapshot.owned.map(o => [o.id, o.cidrs])));
  });

  it('refuses a damaged snapshot; --ipam-recover starts with no allocations and keeps both files aside', async () => {
    const first = await start();
    await allocate(first.ipam, 'a');
    await first.ipam.close();
    const {snapshot} = storePaths(prefix);
    writeFileSync(snapshot, Buffer.from('garbage that is no frame'));
    await assert.rejects(start(), {name: 'IpamStoreDamageError', message: new RegExp(`IPAM data ${snapshot} is damaged at byte 0: .*To start with no allocations, start the router once with --ipam-recover`)});
    const recovered = await start({recover: true});
    assert.deepEqual(await holdings(recovered.ipam), {});
    assert.equal(filesLike('weavedata.snap.damaged-').length, 1);
    assert.equal(filesLike('weavedata.log.damaged-').length, 1);
  });

  it('compacts the log into a snapshot when it fills up, keeping it bounded', async () => {
    const {ipam, store} = await start({minLogBytes: 4096});
    const expected: Record<string, string[]> = {};
    let biggestSnapshot = 0;
    for (let i = 0; i < 300; i++) {
      const id = `container-${i}`;
      expected[id] = [await allocate(ipam, id)];
      if (i % 3 === 0) {
        await ipam.delete(id);
        delete expected[id];
      }
      biggestSnapshot = Math.max(biggestSnapshot, statSync(storePaths(prefix).snapshot).size);
    }
    assert.ok(store.stats.compactions >= 5, `compactions: ${store.stats.compactions}`);
    // Twice the biggest snapshot, in whole pages.
    assert.ok(statSync(storePaths(prefix).log).size <= Math.ceil(Math.max(4096, 2 * biggestSnapshot) / 4096) * 4096, 'the log stays within its bound');
    const second = await start({minLogBytes: 4096});
    assert.deepEqual(await holdings(second.ipam), expected);
  });

  it('ignores a log of an older generation than the snapshot (a crash while compacting)', async () => {
    const first = await start({minLogBytes: 4096});
    await allocate(first.ipam, 'a');
    const {log} = storePaths(prefix);
    copyFileSync(log, join(dir, 'old.log'));
    await first.ipam.delete('a');
    // Enough to start a new generation, which holds none of "a".
    for (let i = 0; i < 40; i++) await allocate(first.ipam, `b${i}`);
    await first.ipam.close();
    // As if the crash came after the new snapshot, before the log was started again.
    copyFileSync(join(dir, 'old.log'), log);
    const second = await start({minLogBytes: 4096});
    const held = await holdings(second.ipam);
    assert.ok(!('a' in held), '"add a" from the stale log is not replayed');
  });

  it('discards data of another peer name or another range, with the log lines of the original', async () => {
    const first = await start();
    await allocate(first.ipam, 'a');
    await first.ipam.close();
    const renamed = await start({peerName: '02:00:00:00:00:07'});
    assert.deepEqual(await holdings(renamed.ipam), {});
    assert.ok(renamed.lines().some(l => l.msg === `Deleting persisted data for peername ${US}`));
    await allocate(renamed.ipam, 'b');
    await renamed.ipam.close();
    const ranged = await start({peerName: '02:00:00:00:00:07', range: '10.33.0.0/16'});
    assert.deepEqual(await holdings(ranged.ipam), {});
    assert.ok(ranged.lines().some(l => l.msg === 'Deleting persisted data for IPAM range 10.32.0.0/12; our range is 10.33.0.0/16'));
    await ranged.ipam.close();
    const again = await start({peerName: '02:00:00:00:00:07', range: '10.33.0.0/16'});
    assert.deepEqual(Object.keys(await holdings(again.ipam)), [], 'the discarded data does not come back');
  });

  it('groups concurrent changes into shared writes, and gives 200 concurrent allocations distinct addresses', async () => {
    const {ipam, store} = await start();
    await allocate(ipam, 'first');
    const before = store.stats.writes;
    const results = await Promise.all(Array.from({length: 200}, (_, i) => allocate(ipam, `c${i}`)));
    assert.equal(new Set(results).size, 200);
    const writes = store.stats.writes - before;
    assert.ok(writes <= 10, `200 allocations took ${writes} writes`);
  });

  describe('on a small disk that fills up (tmpfs)', function () {
    requireRoot();
    this.timeout(60_000);
    let disk: Tmpfs;

    beforeEach(() => {
      disk = Tmpfs.mount('1m');
      prefix = join(disk.dir, 'weave');
    });

    afterEach(async () => {
      await closeAll();
      disk.unmount();
    });

    it('makes a smaller log when space is short, and restarts on a full disk', async () => {
      const first = await start();
      const size = statSync(storePaths(prefix).log).size;
      assert.ok(size < 1 << 20, `log of ${size} bytes on a 1 MB disk`);
      assert.ok(first.lines().some(l => l.level === 'warning' && / is made \d+ KB instead of 4\.0 MB, and grows when space allows/.test(l.msg)));
      await allocate(first.ipam, 'a');
      await first.ipam.close();
      disk.fill();
      const second = await start();
      assert.deepEqual(await holdings(second.ipam), {a: ['10.32.0.1/12']});
      assert.equal(await allocate(second.ipam, 'b'), '10.32.0.2/12', 'the log has room of its own');
    });

    it('refuses changes on a full disk with what is needed, answers reads, and saves again by itself once space is freed', async () => {
      const {ipam, lines} = await start({minLogBytes: 64 << 10});
      const acked = new Map<string, string>();
      for (let i = 0; i < 50; i++) acked.set(`c${i}`, await allocate(ipam, `c${i}`));
      const filler = disk.fill();
      let refused: unknown;
      for (let i = 50; i < 5000 && refused === undefined; i++) {
        try {
          acked.set(`c${i}`, await allocate(ipam, `c${i}`));
        } catch (error) {
          refused = error;
        }
      }
      assert.ok(refused instanceof IpamStoreFullError, `refused with ${String(refused)}`);
      assert.match(refused.message, new RegExp(`no space for ${disk.dir}/weavedata\\.snap \\(\\d+ KB needed in ${disk.dir}, \\d+ KB free\\); changes are refused until space is freed there`));
      assert.ok(lines().some(l => l.level === 'error' && l.msg === refused.message), 'said once in the log');
      assert.deepEqual(await holdings(ipam), Object.fromEntries([...acked].map(([id, addr]) => [id, [addr]])), 'reads are answered; nothing refused was applied');
      await assert.rejects(ipam.delete('c0'), IpamStoreFullError);

      rmSync(filler);
      let again: string | undefined;
      for (const deadline = Date.now() + 15_000; again === undefined && Date.now() < deadline; ) {
        try {
          again = await allocate(ipam, 'after');
        } catch (error) {
          if (!(error instanceof IpamStoreFullError)) throw error;
          await new Promise(resolve => setTimeout(resolve, 200));
        }
      }
      assert.ok(again, 'allocations work again once space is freed');
      assert.ok(lines().some(l => l.msg.startsWith('IPAM data saved again')));
      await ipam.close();
      const restarted = await start({minLogBytes: 64 << 10});
      const held = await holdings(restarted.ipam);
      for (const [id, addr] of acked) assert.deepEqual(held[id], [addr], id);
      assert.deepEqual(held.after, [again]);
    });

    it('starts on a full disk with no data yet: reads answered, changes refused until space comes', async () => {
      const filler = disk.fill();
      const {ipam} = await start();
      assert.deepEqual(await holdings(ipam), {});
      await assert.rejects(allocate(ipam, 'a'), {name: 'IpamStoreFullError', message: new RegExp(`no space for ${disk.dir}/weavedata\\.(snap|log)`)});
      rmSync(filler);
      let got: string | undefined;
      for (const deadline = Date.now() + 15_000; got === undefined && Date.now() < deadline; ) {
        got = await allocate(ipam, 'a').catch(async () => {
          await new Promise(resolve => setTimeout(resolve, 200));
          return undefined;
        });
      }
      assert.equal(got, '10.32.0.1/12');
    });
  });
});
