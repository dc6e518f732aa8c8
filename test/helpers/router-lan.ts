import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createLogger} from '../../src/lib/router/log.js';
import {TargetStore} from '../../src/lib/router/mesh/target-store.js';
import {Lan} from './lan.js';
import {MeshRouter} from './mesh-router.js';
import {attachPod, type Pod} from './weave-pods.js';

const silent = createLogger('error', () => {});

/**
 * Router processes on the hosts of a simulated LAN, each over a fresh db under one directory, and
 * the pods attached through them: what the suites starting weave routers on a LAN set up, and
 * what they clear between tests and after.
 */
export class RouterLan {
  readonly routers: MeshRouter[] = [];
  readonly pods: Pod[] = [];

  private constructor(
    readonly lan: Lan,
    private readonly dir: string,
    private readonly prefix: string,
  ) {}

  /** `hosts` hosts; `prefix` (a few letters) names the db directory and the pods' namespaces. */
  static create(hosts: number, prefix: string): RouterLan {
    const lan = Lan.create(hosts);
    return new RouterLan(lan, mkdtempSync(join(tmpdir(), `${prefix}-`)), prefix);
  }

  /** The router of host i, given the LAN addresses of hosts `peers` as peers, over a db of its own. */
  async start(i: number, peers: number[] = [], options: {args?: string[]; env?: Record<string, string>} = {}): Promise<MeshRouter> {
    const router = await MeshRouter.start(this.lan.hosts[i]!, i, {
      peers: peers.map(p => this.lan.hosts[p]!.ip),
      args: options.args ?? [],
      ...(options.env ? {env: options.env} : {}),
      dbDir: mkdtempSync(join(this.dir, `db${i}-`)),
    });
    this.routers.push(router);
    return router;
  }

  /** A pod on host i, through its router. */
  async attach(i: number): Promise<Pod> {
    const pod = await attachPod(this.lan.hosts[i]!, i, `${this.prefix}pod${this.pods.length}`, this.prefix);
    this.pods.push(pod);
    return pod;
  }

  /** Stops every router with `signal` (its db's sentinel removed) and deletes every pod. */
  async clear(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const r of this.routers.splice(0)) {
      await r.halt(signal);
      rmSync(new TargetStore(join(r.process.dbDir, 'weave'), silent).sentinel, {force: true});
    }
    for (const pod of this.pods.splice(0)) pod.ns.delete();
  }

  async destroy(): Promise<void> {
    await this.clear('SIGKILL');
    this.lan.destroy();
    rmSync(this.dir, {recursive: true, force: true});
  }
}
