import assert from 'node:assert/strict';
import {CniError, ErrorCode} from '../../../../src/lib/cni/errors.js';
import {localRouterIpam} from '../../../../src/lib/router/cni/local-ipam.js';
import type {Dataplane} from '../../../../src/lib/router/dataplane/dataplane.js';
import {IpamService} from '../../../../src/lib/router/ipam/service.js';
import {IpamStoreFullError} from '../../../../src/lib/router/ipam/store-errors.js';
import {MemoryStore, recordingLogger} from '../../../helpers/ipam.js';

describe('router/cni/local-ipam (the warm path\'s weave IPAM)', () => {
  it('answers code 11 with the cold path\'s text while the disk is full, for ADD, DEL and GC', async () => {
    const store = new MemoryStore();
    const service = IpamService.withStore({range: '10.32.0.0/12', peerName: '8a:3e:3e:3e:3e:3e', nickname: 'host1', logger: recordingLogger().logger}, store);
    const ipam = localRouterIpam(service, {} as Dataplane, undefined, 1000);
    await ipam.allocate('pod1', undefined);
    store.full = new IpamStoreFullError('IPAM data cannot be saved: no space for /weavedb/weavedata.snap');
    const tryAgain = (what: string) => (error: unknown) =>
      error instanceof CniError && error.code === ErrorCode.TryAgainLater && error.message === `${what}: ${store.full!.message}` && /--db-prefix/.test(error.details);
    await assert.rejects(ipam.allocate('pod2', undefined), tryAgain('unable to allocate IP address'));
    await assert.rejects(ipam.release('pod1'), tryAgain('unable to release IP address'));
    await assert.rejects(ipam.releaseAllBut([]), tryAgain('unable to release stale IP addresses'));
  });
});
