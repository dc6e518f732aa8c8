import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import {once} from 'node:events';
import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {type AddressInfo, createServer, type Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {SocketOwners} from '../../src/lib/router/http/socket-owner.js';
import {Lan} from '../helpers/lan.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {runWeave, WEAVE_BIN} from '../helpers/setup-cli.js';
import {collect} from '../helpers/spawn.js';
import {TestUser} from '../helpers/test-user.js';

type Who = TestUser | 'root';

/** `command` inside `ns`, as `who` (nsenter needs root, so the user is taken on after it). */
function argvIn(ns: Netns, who: Who, command: string[]): string[] {
  return ['nsenter', `--net=${ns.path}`, ...(who === 'root' ? command : who.argv(command))];
}

/** curl from `ns` as `who`: [status, body]. */
function curl(ns: Netns, who: Who, method: string, url: string, extra: string[] = []): [number, string] {
  const [file, ...args] = argvIn(ns, who, ['curl', '-s', '-X', method, '-w', '\n%{http_code}', ...extra, url]);
  const out = execFileSync(file!, args, {encoding: 'utf8'});
  const cut = out.lastIndexOf('\n');
  return [Number(out.slice(cut + 1)), out.slice(0, cut)];
}

describe('the HTTP API: status for every local user, changes for root on the host alone', function () {
  requireRoot();
  requireTool('curl', 'curl');
  requireTool('setpriv', 'util-linux');
  this.timeout(120_000);
  let lan: Lan;
  let host: Netns;
  let other: Netns;
  let hostIp: string;
  let router: RouterProcess;
  let user: TestUser;
  let dir: string;
  let binDir: string;
  const api = (path: string) => `http://127.0.0.1:6784${path}`;
  const owned = (): {containerid: string; addrs: string[]}[] => JSON.parse(router.api('GET', '/ip')[1]).owned ?? [];

  before(async () => {
    user = TestUser.create();
    lan = Lan.create(2, {subnet: '192.168.211'});
    [host, other] = [lan.hosts[0]!.ns, lan.hosts[1]!.ns];
    hostIp = lan.hosts[0]!.ip;
    dir = mkdtempSync(join(tmpdir(), 'weave-access-'));
    // The user must reach the installed plugin, as on a host where /opt/cni/bin is world-readable.
    chmodSync(dir, 0o755);
    binDir = join(dir, 'bin');
    mkdirSync(binDir);
    mkdirSync(join(dir, 'conf'));
    const setup = runWeave(['setup-cni', '--cni-bin-dir', binDir, '--cni-conf-dir', join(dir, 'conf')]);
    assert.equal(setup.exitCode, 0, setup.stderr);
    // On every address of the host, so that other hosts reach it too (not the default).
    router = await RouterProcess.start(host, {args: ['--http-addr', '0.0.0.0:6784']});
    assert.equal(router.api('POST', '/ip/victim')[0], 200);
  });
  after(async () => {
    await router?.destroy();
    lan?.destroy();
    user?.remove();
    if (dir) rmSync(dir, {recursive: true, force: true});
  });

  it('a local user reads status, its pages, the report, metrics and the allocations', () => {
    for (const path of ['/status', '/status/targets', '/status/connections', '/status/peers', '/status/ipam', '/report?format={{.Version}}', '/metrics', '/ip', '/ip/victim', '/ipinfo/defaultsubnet']) {
      const [status, body] = curl(host, user, 'GET', api(path), ['-g']);
      assert.equal(status, 200, `GET ${path}: ${body}`);
    }
    assert.equal(curl(host, user, 'GET', api('/report'), ['-H', 'Accept: application/json'])[0], 200);
    const [, metrics] = curl(host, user, 'GET', api('/metrics'));
    assert.match(metrics, /^weave_max_ips /m);
  });

  it('a local user gets 403 naming its uid on every change, and changes nothing', () => {
    const before = owned();
    const [victim] = before.find(o => o.containerid === 'victim')!.addrs;
    const changes: [string, string, string[]?][] = [
      ['POST', '/ip/intruder'],
      ['POST', '/ip/intruder/10.32.0.0/12'],
      ['PUT', '/ip/intruder/10.32.0.77/12'],
      ['DELETE', '/ip/victim'],
      ['DELETE', `/ip/victim/${victim!.split('/')[0]}`],
      ['POST', '/ip-gc/cni'],
      ['GET', '/ring'],
      ['POST', '/connect', ['--data', 'peer=192.168.211.9']],
      ['POST', '/forget', ['--data', 'peer=192.168.211.9']],
      ['POST', '/expose/10.32.0.99/12'],
      ['DELETE', '/expose/10.32.0.99/12'],
      ['DELETE', '/peer/somepeer'],
      ['DELETE', '/peer'],
    ];
    for (const [method, path, extra] of changes) {
      const [status, body] = curl(host, user, method, api(path), extra);
      assert.equal(status, 403, `${method} ${path}: ${body}`);
      assert.match(body, new RegExp(`^permission denied: only root may change .*\\(this request came from uid ${user.uid}, `), `${method} ${path}`);
    }
    assert.deepEqual(owned(), before);
    assert.equal(router.api('GET', '/status/targets')[1], '');
    assert.doesNotMatch(execFileSync('ip', ['-n', host.name, '-4', 'addr', 'show'], {encoding: 'utf8'}), /10\.32\.0\.99/);
  });

  it('root changes it as the original plugin and script do: plain HTTP to 127.0.0.1:6784, one connection per call or kept alive', () => {
    const [status, body] = curl(host, 'root', 'POST', api('/ip/root1'));
    assert.equal(status, 200, body);
    // Two calls on one connection: curl keeps it alive between the URLs.
    const [file, ...args] = argvIn(host, 'root', ['curl', '-s', '-X', 'POST', '-w', ' %{http_code} %{num_connects}\n', api('/ip/root2'), api('/ip/root3')]);
    const lines = execFileSync(file!, args, {encoding: 'utf8'}).trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, / 200 1$/);
    assert.match(lines[1]!, / 200 0$/, 'the second call reused the connection');
    assert.deepEqual(
      ['root1', 'root2', 'root3'].map(id => owned().some(o => o.containerid === id)),
      [true, true, true],
    );
  });

  it('the weave CLI: status for the user, expose for root only, with the reason on stderr', async () => {
    const weaveAs = (who: Who, args: string[]) => {
      const [file, ...rest] = argvIn(host, who, [process.execPath, WEAVE_BIN, ...args]);
      return collect(file!, rest, {env: {...process.env, HOME: '/nonexistent', WEAVE_HTTP_ADDR: '127.0.0.1:6784'}});
    };
    const status = await weaveAs(user, ['status']);
    assert.equal(status.exitCode, 0, status.stderr);
    assert.match(status.stdout, /Version: /);
    const refused = await weaveAs(user, ['expose']);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stderr, /^permission denied: only root may change the weave network/);
    const exposed = await weaveAs('root', ['expose']);
    assert.equal(exposed.exitCode, 0, exposed.stderr);
    assert.match(exposed.stdout, /^10\.32\.\d+\.\d+\n$/);
  });

  it('refuses changes from another host, answers its reads; root on the host may change through a non-loopback address', () => {
    const url = (path: string) => `http://${hostIp}:6784${path}`;
    const [readStatus] = curl(other, 'root', 'GET', url('/status'));
    assert.equal(readStatus, 200);
    const [status, body] = curl(other, 'root', 'POST', url('/ip/remote'));
    assert.equal(status, 403, body);
    assert.match(body, /accepts changes only from root on its own host, and 192\.168\.211\.2 is another host or container/);
    assert.equal(curl(host, 'root', 'POST', url('/ip/viahostip'))[0], 200);
    assert.equal(curl(host, user, 'POST', url('/ip/viahostip2'))[0], 403);
    assert.deepEqual(
      ['remote', 'viahostip', 'viahostip2'].map(id => owned().some(o => o.containerid === id)),
      [false, true, false],
    );
  });

  it('answers a 5 MB body with 413 instead of dropping the connection', () => {
    const big = join(dir, 'big');
    writeFileSync(big, Buffer.alloc(5 * 1024 * 1024));
    const [status, body] = curl(host, 'root', 'POST', api('/ip/big'), ['--data-binary', `@${big}`]);
    assert.equal(status, 413, body);
  });

  it('the warm CNI socket is root-only: the user cannot connect to it', () => {
    const inode = /\[(\d+)\]/.exec(host.exec('readlink', ['/proc/self/ns/net']))![1];
    const socket = `/run/weave/cni-${inode}.sock`;
    const script = "require('net').connect(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', e => console.log(e.code))";
    const probe = (who: Who) => {
      const [file, ...args] = argvIn(host, who, [process.execPath, '-e', script, socket]);
      return execFileSync(file!, args, {encoding: 'utf8'}).trim();
    };
    assert.equal(probe(user), 'EACCES');
    assert.equal(probe('root'), 'connected', 'the socket is up: the refusal is the user\'s');
  });

  describe('the installed plugin run by the user', () => {
    let pod: Netns;
    before(() => {
      pod = Netns.create('wtp');
    });
    after(() => pod?.delete());
    // DEL without a namespace releases the address alone: what frees another pod's address.
    const env = (command: string, id: string) => ({CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: command === 'ADD' ? pod.path : '', CNI_IFNAME: 'eth0', CNI_PATH: binDir});

    it('fails with code 4 saying it must run as root, and neither allocates nor frees', async () => {
      const before = owned();
      for (const [command, id, type] of [
        ['ADD', 'userpod', 'weave-ipam'],
        ['DEL', 'victim', 'weave-ipam'],
        ['DEL', 'victim', 'weave-net'],
      ] as const) {
        const [file, ...args] = argvIn(host, user, [join(binDir, type)]);
        const run = await collect(file!, args, {env: {PATH: process.env.PATH, ...env(command, id)}, input: JSON.stringify({cniVersion: '1.0.0', name: 'weave', type})});
        assert.equal(run.exitCode, 1, `${type} ${command}: ${run.stdout}${run.stderr}`);
        const error = JSON.parse(run.stdout) as {code: number; msg: string};
        assert.equal(error.code, 4, run.stdout);
        assert.match(error.msg, new RegExp(`^the weave CNI plugin must run as root, not as uid ${user.uid}`));
      }
      assert.deepEqual(owned(), before);
    });
  });
});

describe('socket owners: a client that closed its socket is never taken for root', function () {
  requireRoot();
  requireTool('setpriv', 'util-linux');
  this.timeout(30_000);
  let user: TestUser;
  before(() => {
    user = TestUser.create();
  });
  after(() => user?.remove());

  it('reads the user\'s uid while it holds the socket, and "closed" once it let go', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const {port} = server.address() as AddressInfo;
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    // The user's client connects, then sends its FIN when its stdin ends, and exits without waiting for ours.
    const script = `const s = require('net').connect(${port}, '127.0.0.1'); process.stdin.on('end', () => s.end(() => process.exit(0))); process.stdin.resume();`;
    const [file, ...args] = user.argv([process.execPath, '-e', script]);
    const client = spawn(file!, args, {stdio: ['pipe', 'ignore', 'inherit']});
    const [conn] = await accepted;
    const owners = new SocketOwners();
    const ends = {remoteAddress: conn.remoteAddress!, remotePort: conn.remotePort!, localAddress: conn.localAddress!, localPort: conn.localPort!};
    try {
      assert.deepEqual(await owners.lookup(ends), {kind: 'local', uid: user.uid});
      const ended = once(conn, 'end');
      client.stdin!.end();
      await ended;
      await once(client, 'exit');
      // Our end stays open: the client's row lingers with no owner (FIN_WAIT2, shown with uid 0).
      assert.deepEqual(await owners.lookup(ends), {kind: 'closed'});
    } finally {
      conn.destroy();
      server.close();
    }
  });
});
