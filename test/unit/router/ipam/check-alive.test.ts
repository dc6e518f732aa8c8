import assert from 'node:assert/strict';
import type {ContainerEvent, ContainerState, DockerEngine} from '../../../../src/lib/router/docker/engine.js';
import {ContainerWatch} from '../../../../src/lib/router/docker/watch.js';
import {ContainerReaper} from '../../../../src/lib/router/ipam/check-alive.js';
import {IpamService} from '../../../../src/lib/router/ipam/service.js';
import {MemoryStore, recordingLogger, tick} from '../../../helpers/ipam.js';

/** An engine in memory: its containers, and the event stream the watch holds (ended on demand). */
class FakeEngine implements DockerEngine {
  containersNow: ContainerState[] = [];
  subscriptions = 0;
  private emit?: (event: ContainerEvent) => void;
  private end?: (error?: Error) => void;

  async containers(): Promise<ContainerState[]> {
    return this.containersNow;
  }

  async running(id: string): Promise<boolean | undefined> {
    return this.containersNow.find(c => c.id === id)?.running;
  }

  async events(onEvent: (event: ContainerEvent) => void, ended: (error?: Error) => void): Promise<{close(): void}> {
    this.subscriptions++;
    this.emit = onEvent;
    this.end = ended;
    return {close: () => (this.emit = undefined)};
  }

  send(event: ContainerEvent): void {
    this.emit?.(event);
  }

  drop(): void {
    this.end?.(new Error('engine restarted'));
  }
}

const delay = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe('check-alive: Docker containers watched, their addresses freed when they go (router/docker/watch.ts, router/ipam/check-alive.ts)', () => {
  const GRACE = 40;
  let ipam: IpamService;
  let engine: FakeEngine;
  let watch: ContainerWatch;
  const held = async (id: string) => (await ipam.lookup(id)).length;

  beforeEach(async () => {
    const {logger} = recordingLogger();
    ipam = IpamService.withStore({range: '10.32.0.0/12', peerName: '8a:3e:3e:3e:3e:3e', nickname: 'h', logger}, new MemoryStore());
    engine = new FakeEngine();
    watch = new ContainerWatch(engine, logger, {retryMs: 10, retryMaxMs: 20});
    watch.observe(new ContainerReaper(ipam, logger, GRACE));
    // Docker containers allocate with check-alive; CNI pods with origin=cni; expose with neither.
    for (const id of ['running', 'stopped', 'gone']) await ipam.allocate(id, ipam.defaultSubnet, {container: true});
    await ipam.allocate('gone-cni-pod', ipam.defaultSubnet, {cni: true});
    await ipam.allocate('weave:expose', ipam.defaultSubnet, {});
    engine.containersNow = [
      {id: 'running', running: true},
      {id: 'stopped', running: false},
    ];
  });

  afterEach(() => watch.stop());

  it('at start frees a container that is gone at once, and one that is stopped after the grace time; never a CNI allocation', async () => {
    watch.start();
    await tick();
    assert.equal(await held('gone'), 0);
    assert.equal(await held('stopped'), 1, 'a stopped container may start again');
    await delay(GRACE * 2);
    assert.equal(await held('stopped'), 0);
    assert.equal(await held('running'), 1);
    assert.equal(await held('gone-cni-pod'), 1, 'CNI allocations are not Docker containers');
    assert.equal(await held('weave:expose'), 1);
  });

  it('frees on destroy at once, on die after the grace time unless the container starts again', async () => {
    engine.containersNow = [...engine.containersNow, {id: 'gone', running: true}];
    watch.start();
    await tick();
    engine.send({id: 'gone', action: 'destroy'});
    await tick();
    assert.equal(await held('gone'), 0);
    engine.send({id: 'running', action: 'die'});
    engine.send({id: 'running', action: 'start'});
    engine.send({id: 'gone-cni-pod', action: 'destroy'});
    await delay(GRACE * 2);
    assert.equal(await held('running'), 1, 'restarted within the grace time');
    assert.equal(await held('gone-cni-pod'), 1, 'an id Docker names is still never a CNI allocation of ours to free');
  });

  it('subscribes again when the engine goes away, and frees what went meanwhile', async () => {
    watch.start();
    await tick();
    // Meanwhile one stopped and one was removed.
    engine.containersNow = [{id: 'running', running: false}];
    engine.drop();
    await delay(30);
    assert.equal(engine.subscriptions, 2);
    assert.equal(await held('stopped'), 0, 'removed meanwhile');
    assert.equal(await held('running'), 1, 'stopped meanwhile: still within its grace time');
    await delay(GRACE * 2);
    assert.equal(await held('running'), 0);
    assert.equal(await held('gone-cni-pod'), 1);
  });

  it('answers check-alive at allocation: only a container the engine says is not running is refused', async () => {
    assert.equal(await watch.notRunning('running'), false);
    assert.equal(await watch.notRunning('stopped'), true);
    assert.equal(await watch.notRunning('never-heard-of'), true);
  });
});
