import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {flockByCommand, flockOf, StateLock, StateLockedError} from '../../../src/lib/router/state-lock.js';

describe('router/state-lock (flock on <db-prefix>router.lock)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-lock-'));
  });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  it('is held once: a second holder is refused with the first one named, and it is free again once released', async () => {
    const prefix = join(dir, 'db', 'weave');
    const lock = await StateLock.acquire(prefix, 'host1');
    await assert.rejects(StateLock.acquire(prefix, 'host2'), (error: Error) => {
      assert.ok(error instanceof StateLockedError);
      assert.match(error.message, new RegExp(`^another router uses the state under --db-prefix ${prefix}: ${prefix}router\\.lock is locked by pid ${process.pid}, nickname host1, running since `));
      return true;
    });
    await lock.release();
    const again = await StateLock.acquire(prefix, 'host2');
    assert.equal(JSON.parse(readFileSync(`${prefix}router.lock`, 'utf8').split('\n')[0]!).nickname, 'host2');
    await again.release();
  });

  it('takes it through the addon, not the `flock` command; a holder by either refuses the other', async () => {
    assert.notEqual(flockOf(), flockByCommand, 'the addon (npm run build:native) has flock');
    const prefix = join(dir, 'weave');
    for (const [first, second] of [
      [flockOf(), flockByCommand],
      [flockByCommand, flockOf()],
    ]) {
      const lock = await StateLock.acquire(prefix, 'host1', first);
      await assert.rejects(StateLock.acquire(prefix, 'host2', second), StateLockedError);
      await lock.release();
      await (await StateLock.acquire(prefix, 'host2', second)).release();
    }
  });

  it('says so when the holder runs in another pid namespace, where its pid means another process', async () => {
    const prefix = join(dir, 'weave');
    const lock = await StateLock.acquire(prefix, 'host1');
    // As a router in a container without --pid=host would have written it.
    writeFileSync(`${prefix}router.lock`, `${JSON.stringify({pid: 1, nickname: 'boxed', started: '2026-01-01T00:00:00.000Z', pidNamespace: 'pid:[4026599999]'})}\n`);
    await assert.rejects(StateLock.acquire(prefix, 'host2'), {message: /locked by pid 1 \(in another pid namespace, pid:\[4026599999\]\), nickname boxed, running since 2026-01-01T00:00:00\.000Z\./});
    await lock.release();
  });
});
