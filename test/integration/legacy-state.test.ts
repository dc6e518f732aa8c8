import assert from 'node:assert/strict';
import {copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {formatCidr} from '../../src/lib/router/ipam/range.js';
import {CANCELLED} from '../../src/lib/router/ipam/pending.js';
import {type FileIpamOptions, IpamService} from '../../src/lib/router/ipam/service.js';
import {importLegacyState} from '../../src/lib/router/legacy/import.js';
import {recordingLogger} from '../helpers/ipam.js';
import {legacyFixture} from '../helpers/legacy.js';

/** The original's router of the fixture: its name, and the range it ran with. */
const FX1 = '0e:00:00:00:00:01';
const RANGE = '10.32.0.0/12';
const PAGE = 4096;
/** What GET /ip of the original answered just before it stopped. */
const expected = () =>
  Object.fromEntries(
    (JSON.parse(readFileSync(legacyFixture('ip.json'), 'utf8')) as {owned: {containerid: string; addrs: string[]}[]}).owned.map(o => [o.containerid, o.addrs]),
  );

describe("router/legacy: weave 2.8.1's state file carried over at start", () => {
  let dir: string;
  let prefix: string;
  let db: string;
  const open: IpamService[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-legacy-'));
    prefix = join(dir, 'weave');
    db = `${prefix}data.db`;
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
    rmSync(dir, {recursive: true, force: true});
  });

  /** The fixture at `<prefix>data.db`, changed by `edit` (its current pages are 2, the root, and 3). */
  function placeFixture(edit?: (file: Buffer) => void): void {
    const file = Buffer.from(readFileSync(legacyFixture('weavedata.db')));
    edit?.(file);
    writeFileSync(db, file);
  }

  async function start(extra: Partial<FileIpamOptions> = {}) {
    const {logger, lines} = recordingLogger();
    const ipam = await IpamService.open({range: RANGE, peerName: FX1, nickname: 'fx1', logger, dbPrefix: prefix, ...extra});
    open.push(ipam);
    return {ipam, lines};
  }

  async function refusal(extra: Partial<FileIpamOptions> = {}): Promise<string> {
    try {
      await start(extra);
    } catch (error) {
      assert.equal((error as Error).name, 'LegacyStateError', (error as Error).stack);
      return (error as Error).message;
    }
    assert.fail('the start was not refused');
  }

  async function holdings(ipam: IpamService): Promise<Record<string, string[]>> {
    return Object.fromEntries((await ipam.list()).map(o => [o.id, o.cidrs.map(formatCidr)]));
  }

  it('brings back the five allocations under their ids, and the ring with its ownership, then moves the file aside', async () => {
    placeFixture();
    const {ipam, lines} = await start();
    assert.deepEqual(await holdings(ipam), expected());
    const status = ipam.status();
    assert.equal(status.status, 'ready', 'no consensus needed: the ring is the original one');
    assert.deepEqual(
      status.entries.map(e => [e.token, e.size, e.peer, e.version]),
      [['10.32.0.0', 1 << 20, FX1, 5]],
    );
    assert.equal(status.activeIps, 5);
    assert.ok(lines().some(l => l.msg === "importing weave 2.8.1's state"));
    assert.equal(existsSync(db), false);
    assert.ok(existsSync(`${db}.imported`), 'moved aside, so it is never imported twice');
    // New allocations go around the carried-over ones.
    const next = await ipam.allocate('c6', ipam.defaultSubnet);
    assert.notEqual(next, CANCELLED);
    assert.equal(formatCidr(next as Exclude<typeof next, typeof CANCELLED>), '10.32.0.4/12');
  });

  it('after the import, restarts from its own store and never imports again', async () => {
    placeFixture();
    const first = await start();
    await first.ipam.delete('c1');
    await first.ipam.close();
    open.splice(0);
    // Even the original's file put back beside it is not taken blindly.
    copyFileSync(`${db}.imported`, db);
    assert.match(await refusal(), /^both .*weavedata\.db \(weave 2\.8\.1's state\) and this router's own state .* exist under --db-prefix .*: if .* was imported before, move it aside \(mv .*data\.db .*data\.db\.imported\); to import it instead, move .*data\.snap and .*data\.log aside$/);
    rmSync(db);
    const second = await start();
    const {c1: _gone, ...rest} = expected();
    assert.deepEqual(await holdings(second.ipam), rest, 'the deletion after the import stands');
    assert.ok(second.lines().some(l => l.msg === 'Initialising with persisted data'));
  });

  it('finishes an import a crash interrupted, whichever step it reached', async () => {
    placeFixture();
    renameSync(db, `${db}.importing`);
    const {ipam} = await start();
    assert.deepEqual(await holdings(ipam), expected(), 'before our store held it: imported from .importing');
    assert.ok(existsSync(`${db}.imported`) && !existsSync(`${db}.importing`));
    await ipam.delete('c2');
    await ipam.close();
    open.splice(0);
    renameSync(`${db}.imported`, `${db}.importing`);
    const again = await start();
    assert.equal((await holdings(again.ipam)).c2, undefined, 'after our store held it: only moved aside, our state kept');
    assert.ok(existsSync(`${db}.imported`) && !existsSync(`${db}.importing`));
  });

  it('refuses a state of another peer or another range, naming the file and the flag that carries it over; the file stays', async () => {
    placeFixture();
    assert.equal(
      await refusal({peerName: '8a:3e:3e:3e:3e:3e'}),
      `${db}, weave 2.8.1's state, belongs to peer ${FX1}, but this router is 8a:3e:3e:3e:3e:3e: start it with --name ${FX1} ` +
        `(weave 2.8.1 gave that name to the weave bridge's MAC, so keeping its bridge keeps the name) to carry its 5 allocations and its share of the IP range over, ` +
        `or move it aside (mv ${db} ${db}.unused) to start without them`,
    );
    assert.equal(
      await refusal({range: '10.0.0.0/8'}),
      `${db}, weave 2.8.1's state, is for the IPAM range 10.32.0.0/12, but this router's is 10.0.0.0/8: start it with --ipalloc-range 10.32.0.0/12 ` +
        `to carry its 5 allocations and its share of the IP range over, or move it aside (mv ${db} ${db}.unused) to start without them`,
    );
    assert.ok(existsSync(db));
    assert.equal(existsSync(`${prefix}data.snap`), false, 'nothing of ours written either');
  });

  it('refuses a damaged or foreign file, naming it and how to start without it', async () => {
    const cases: [string, (file: Buffer) => void, RegExp][] = [
      ['cut short', f => f.fill(0, 2 * PAGE), /: page 2 says it is page 0\./],
      ['both meta pages torn', f => ((f[16 + 48] ^= 1), (f[PAGE + 16 + 48] ^= 1)), /: a meta page fails its checksum\./],
      ['a later persistence version', f => f.writeUInt8(2, f.indexOf('version', 2 * PAGE) + 7), /: its persistence version is 2\.0, not 1\.x\./],
      ['a bucket other than weave\'s', f => f.write('tap', 2 * PAGE + 0x20), /: it has no "top" bucket, so weave did not write it\./],
      ['a ring that does not decode', f => f.writeUInt8(0xff, f.indexOf('Ring', 2 * PAGE) - 7), /: its "ring" record does not decode: /],
      ['a ring with too much free space', f => f.writeUInt8(0x1f, f.indexOf(Buffer.from([0xfd, 0x0f, 0xff, 0xfb]), 2 * PAGE) + 1), /its ring is inconsistent \(Entry 10\.32\.0\.0-10\.48\.0\.0 reporting too much free space/],
    ];
    for (const [what, edit, reason] of cases) {
      placeFixture(edit);
      const message = await refusal().catch((e: Error) => assert.fail(`${what}: ${e.message}`));
      assert.match(message, reason, what);
      assert.ok(message.includes(db) && message.includes(`move it aside (mv ${db} ${db}.unreadable)`), `${what}: ${message}`);
      assert.ok(existsSync(db), what);
    }
    writeFileSync(db, '{"not": "a bolt file"}');
    assert.match(await refusal(), /^cannot read .*weavedata\.db, weave 2\.8\.1's state file: the file is too short\. To start without it, move it aside/);
  });

  it('with IPAM off, refuses a state that holds a ring, naming the range that carries it over', async () => {
    placeFixture();
    const {logger} = recordingLogger();
    await assert.rejects(importLegacyState({prefix, ourPeer: FX1, haveOwnState: false, logger}), (e: Error) =>
      e.message.startsWith(`${db}, weave 2.8.1's state, holds an IPAM ring but IPAM is off here (--ipalloc-range ""): start the router with --ipalloc-range 10.32.0.0/12 to carry its 5 allocations`),
    );
    assert.ok(existsSync(db));
  });

  it('moves aside a state without a ring, as the original starts afresh over it', async () => {
    placeFixture(f => f.write('rinG', f.indexOf('ringE', 2 * PAGE)));
    const {ipam, lines} = await start();
    assert.deepEqual(await holdings(ipam), {});
    assert.ok(lines().some(l => l.msg.startsWith("weave 2.8.1's state holds no IPAM ring")));
    assert.ok(existsSync(`${db}.imported`));
  });
});
