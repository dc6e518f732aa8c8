import assert from 'node:assert/strict';
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {CniHost} from '../helpers/cni-host.js';
import type {Netns} from '../helpers/netns.js';
import {requireRoot, requireTool} from '../helpers/root.js';

type Env = Record<string, string>;

interface Case {
  name: string;
  code: number;
  /** Pattern the error message must match: it names the problem. */
  msg: RegExp;
  env?: (base: Env) => Env;
  config?: (base: Record<string, unknown>) => unknown;
  /** Prepares the pod namespace before the call (e.g. an interface already there). */
  prepare?: (pod: Netns) => void;
  /** Links the pod must still hold afterwards besides lo. */
  podKeeps?: string[];
}

const without = (env: Env, key: string): Env => {
  const {[key]: _gone, ...rest} = env;
  return rest;
};

describe('weave-net CNI plugin: bad input gives the right code and leaves nothing behind', function () {
  requireRoot();
  requireTool('/usr/lib/cni/host-local', 'containernetworking-plugins');
  let host: CniHost;
  let failingPluginDir: string;
  before(() => {
    host = new CniHost();
    // An IPAM plugin that dies midway, the way a broken or killed plugin does.
    failingPluginDir = mkdtempSync(join(tmpdir(), 'weave-cnipath-'));
    writeFileSync(join(failingPluginDir, 'crashing-ipam'), '#!/bin/sh\necho "panic: out of cheese" >&2\nexit 2\n');
    chmodSync(join(failingPluginDir, 'crashing-ipam'), 0o755);
  });
  after(() => {
    host.destroy();
    rmSync(failingPluginDir, {recursive: true, force: true});
  });

  const cases: Case[] = [
    {name: 'CNI_COMMAND missing', code: 4, msg: /CNI_COMMAND is not set/, env: e => without(e, 'CNI_COMMAND')},
    {name: 'CNI_COMMAND empty', code: 4, msg: /CNI_COMMAND is not set/, env: e => ({...e, CNI_COMMAND: ''})},
    {name: 'CNI_COMMAND unknown', code: 4, msg: /unknown CNI_COMMAND "FROB"/, env: e => ({...e, CNI_COMMAND: 'FROB'})},
    {name: 'CNI_CONTAINERID missing', code: 4, msg: /CNI_CONTAINERID is not set/, env: e => without(e, 'CNI_CONTAINERID')},
    {name: 'CNI_CONTAINERID empty', code: 4, msg: /CNI_CONTAINERID is not set/, env: e => ({...e, CNI_CONTAINERID: ''})},
    {name: 'CNI_CONTAINERID with shell metacharacters', code: 4, msg: /invalid CNI_CONTAINERID/, env: e => ({...e, CNI_CONTAINERID: 'a;touch /tmp/pwned$(id)'})},
    {name: 'CNI_NETNS missing', code: 4, msg: /CNI_NETNS is not set/, env: e => without(e, 'CNI_NETNS')},
    {name: 'CNI_NETNS path that does not exist', code: 4, msg: /does not exist/, env: e => ({...e, CNI_NETNS: '/run/netns/no-such-namespace'})},
    {name: 'CNI_NETNS is the host namespace', code: 4, msg: /host network namespace/, env: e => ({...e, CNI_NETNS: host.ns.path})},
    {name: 'CNI_IFNAME missing', code: 4, msg: /CNI_IFNAME is not set/, env: e => without(e, 'CNI_IFNAME')},
    {name: 'CNI_IFNAME longer than 15', code: 4, msg: /longer than 15/, env: e => ({...e, CNI_IFNAME: 'eth0123456789012'})},
    {name: 'CNI_IFNAME with a slash', code: 4, msg: /invalid CNI_IFNAME/, env: e => ({...e, CNI_IFNAME: 'eth/0'})},
    {name: 'CNI_IFNAME is ".."', code: 4, msg: /invalid CNI_IFNAME/, env: e => ({...e, CNI_IFNAME: '..'})},
    {name: 'CNI_IFNAME with a space', code: 4, msg: /white space/, env: e => ({...e, CNI_IFNAME: 'eth 0'})},
    {name: 'CNI_PATH missing', code: 4, msg: /CNI_PATH is not set/, env: e => without(e, 'CNI_PATH')},
    {name: 'CNI_ARGS malformed', code: 4, msg: /invalid CNI_ARGS/, env: e => ({...e, CNI_ARGS: 'IgnoreUnknown=1;garbage'})},
    {name: 'config not JSON', code: 6, msg: /not valid JSON/, config: () => '{"cniVersion": "1.0.0",'},
    {name: 'config empty', code: 6, msg: /not valid JSON/, config: () => ''},
    {name: 'config a JSON list', code: 6, msg: /not a JSON object/, config: () => '[1, 2]'},
    {name: 'unknown cniVersion', code: 1, msg: /incompatible CNI versions: config is "9\.9\.9"/, config: c => ({...c, cniVersion: '9.9.9'})},
    {name: 'isGateway', code: 2, msg: /isGateway/, config: c => ({...c, isGateway: true})},
    {name: 'ipMasq', code: 2, msg: /ipMasq/, config: c => ({...c, ipMasq: true})},
    {name: 'mtu too small', code: 7, msg: /invalid "mtu"/, config: c => ({...c, mtu: 10})},
    {name: 'bridge name too long', code: 7, msg: /"bridge"/, config: c => ({...c, bridge: 'weavebridge-far-too-long'})},
    {name: 'hairpinMode not a boolean', code: 7, msg: /"hairpinMode" must be a boolean/, config: c => ({...c, hairpinMode: 'yes'})},
    {name: 'ipam.type escaping CNI_PATH', code: 7, msg: /invalid "ipam.type"/, config: c => ({...c, ipam: {type: '../../bin/sh'}})},
    {name: 'ipam.type not installed', code: 7, msg: /IPAM plugin "no-such-ipam" was not found in CNI_PATH/, config: c => ({...c, ipam: {type: 'no-such-ipam'}})},
    {name: 'ipam.subnet not a CIDR', code: 7, msg: /invalid "ipam.subnet"/, config: c => ({...c, ipam: {...(c.ipam as object), subnet: '10.300.0.0/16'}})},
    {name: 'ipam.routes not a list', code: 7, msg: /"ipam.routes" must be a list/, config: c => ({...c, ipam: {...(c.ipam as object), routes: {dst: '0.0.0.0/0'}}})},
    {
      name: 'interface already exists in the namespace',
      code: 101,
      msg: /interface "eth0" already exists/,
      prepare: pod => pod.exec('ip', ['link', 'add', 'eth0', 'type', 'bridge']),
      podKeeps: ['eth0'],
    },
    {
      name: 'IPAM plugin crashing midway',
      code: 102,
      msg: /IPAM plugin "crashing-ipam" failed: panic: out of cheese/,
      env: e => ({...e, CNI_PATH: `${failingPluginDir}:/usr/lib/cni`}),
      config: c => ({...c, ipam: {type: 'crashing-ipam'}}),
    },
    {
      name: 'IPAM plugin refusing (host-local with an invalid range)',
      code: 999,
      msg: /IPAM plugin "host-local"/,
      config: c => ({...c, ipam: {...(c.ipam as object), rangeStart: '10.89.0.200', rangeEnd: '10.89.0.100'}}),
    },
    {
      name: 'failure after the address was allocated (unreachable route gateway)',
      code: 100,
      msg: /route add 10\.200\.0\.0\/16 via 192\.0\.2\.1/,
      config: c => ({...c, ipam: {...(c.ipam as object), routes: [{dst: '10.200.0.0/16', gw: '192.0.2.1'}]}}),
    },
    {name: 'weave IPAM without a router', code: 11, msg: /weave router must be running/, config: c => ({...c, ipam: {}})},
  ];

  for (const [i, c] of cases.entries()) {
    it(`${c.name} -> code ${c.code}`, async () => {
      const pod = host.pod();
      c.prepare?.(pod);
      const id = `bad${i}`;
      const baseEnv = host.env('ADD', pod, id);
      const baseConfig = host.config('1.0.0', '10.89.0.0/24');
      const run = await host.run(c.env ? c.env(baseEnv) : baseEnv, c.config ? c.config(baseConfig) : baseConfig);
      assert.equal(run.exitCode, 1, `expected failure, got ${run.stdout}`);
      assert.ok(run.json, `stdout must be the error JSON, got: ${run.stdout} ${run.stderr}`);
      assert.equal(run.json.code, c.code, run.stdout);
      assert.match(run.json.msg as string, c.msg);
      assert.equal(typeof run.json.cniVersion, 'string');
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
      assert.deepEqual(pod.links().sort(), ['lo', ...(c.podKeeps ?? [])].sort(), 'no link left in the pod');
      assert.deepEqual(host.vethLinks(), [], 'no veth left on the host');
      assert.deepEqual(host.allocations(), [], 'no address left allocated');
    });
  }
});
