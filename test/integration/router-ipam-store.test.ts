import assert from 'node:assert/strict';
import {copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {decodeFrames, encodeFrame} from '../../src/lib/router/ipam/frames.js';
import {formatCidr, parseAddress} from '../../src/lib/router/ipam/range.js';
import {CANCELLED, type FileIpamOptions, IpamService} from '../../src/lib/router/ipam/service.js';
import {type FileStore, storePaths} from '../../src/lib/router/ipam/store.js';
import {recordingLogger} from '../helpers/ipam.js';

const US = '8a:3e:3e:3e:3e:3e';

describe('router/ipam store on disk', () => {
  let dir: string;
  let prefix: string;
  const open: IpamService[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-ipam-'));
    prefix = join(dir, 'weave');
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
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

  it('drops a record torn by a crash and keeps everything before it', async () => {
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
    assert.ok(second.lines().some(l => l.level === 'warning' && /unfinished record/.test(l.msg)));
    assert.equal(await allocate(second.ipam, 'd'), '10.32.0.4/12', 'the torn allocation was never handed out');
  });

  it('drops a whole record whose checksum does not match', async () => {
    const first = await start();
    await allocate(first.ipam, 'a');
    await first.ipam.close();
    const logPath = storePaths(prefix).log;
    const bytes = readFileSync(logPath);
    const end = decodeFrames(bytes).end;
    const frame = encodeFrame({t: 'add', id: 'flipped', cidr: '10.32.0.2/12', container: false, cni: false});
    frame[frame.length - 3] ^= 0xff;
    frame.copy(bytes, end);
    writeFileSync(logPath, bytes);
    const second = await start();
    assert.deepEqual(Object.keys(await holdings(second.ipam)), ['a']);
  });

  it('compacts the log into a snapshot when it fills up, keeping it bounded', async () => {
    const {ipam, store} = await start({minLogBytes: 4096});
    const expected: Record<string, string[]> = {};
    for (let i = 0; i < 300; i++) {
      const id = `container-${i}`;
      expected[id] = [await allocate(ipam, id)];
      if (i % 3 === 0) {
        await ipam.delete(id);
        delete expected[id];
      }
    }
    assert.ok(store.stats.compactions >= 5, `compactions: ${store.stats.compactions}`);
    const {snapshot, log} = storePaths(prefix);
    assert.ok(statSync(log).size <= Math.max(4096, 2 * statSync(snapshot).size), 'the log stays within its bound');
    const second = await start({minLogBytes: 4096});
    assert.deepEqual(await holdings(second.ipam), expected);
  });

  it('ignores a log of an older generation than the snapshot (a crash while compacting)', async () => {
    const first = await start();
    await allocate(first.ipam, 'a');
    const {log} = storePaths(prefix);
    copyFileSync(log, join(dir, 'old.log'));
    await first.ipam.delete('a');
    await first.ipam.close();
    // The next start writes a new generation; put the old log back as if the crash came between the snapshot and the new log.
    const second = await start();
    await second.ipam.close();
    copyFileSync(join(dir, 'old.log'), log);
    const third = await start();
    assert.deepEqual(await holdings(third.ipam), {}, '"add a" from the stale log is not replayed');
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
  });

  it('refuses to start over a damaged snapshot, saying what to do', async () => {
    const first = await start();
    await allocate(first.ipam, 'a');
    await first.ipam.close();
    writeFileSync(storePaths(prefix).snapshot, Buffer.from('garbage that is no frame'));
    await assert.rejects(start(), {name: 'IpamStoreError', message: /is damaged: move .* away to start with no allocations/});
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
});
