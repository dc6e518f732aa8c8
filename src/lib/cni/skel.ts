import {cmdAdd} from './add.js';
import {cmdCheck} from './check.js';
import {parseConfig} from './config.js';
import {cmdDel} from './del.js';
import type {NetnsHandle} from '../net/netns.js';
import {ipPodNet, type PodNet} from '../net/pod-net.js';
import {parseEnv} from './env.js';
import type {Invocation, OwnBridge} from './invocation.js';
import type {Ipam} from './ipam/ipam.js';
import {routerOverHttp} from './ipam/router-http.js';
import {WeaveIpam} from './ipam/weave.js';
import {cmdGc, cmdStatus} from './lifecycle.js';
import {asCniError, CniError, ErrorCode} from './errors.js';
import {encodeResult, type Result} from './result.js';
import {compareVersions, isSupported, LATEST_VERSION, SUPPORTED_VERSIONS} from './version.js';

/** The two plugins weave installs: the network plugin, and its IPAM usable under other plugins. */
export type PluginName = 'weave-net' | 'weave-ipam';

type Handler = (call: Invocation) => Promise<Result | void>;

const HANDLERS: Record<PluginName, Record<'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS', Handler>> = {
  'weave-net': {ADD: cmdAdd, DEL: cmdDel, CHECK: cmdCheck, GC: cmdGc, STATUS: cmdStatus},
  'weave-ipam': {
    ADD: call => call.weaveIpam.add(call),
    DEL: call => call.weaveIpam.del(call),
    CHECK: call => call.weaveIpam.check(call),
    GC: call => call.weaveIpam.gc(call),
    STATUS: call => call.weaveIpam.status(call),
  },
};

/** Commands that came with a later spec than the first: CHECK in 0.4.0, GC and STATUS in 1.1.0. */
const SINCE: Partial<Record<string, string>> = {CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0'};

function requireVersionFor(command: string, cniVersion: string): void {
  const since = SINCE[command];
  if (since && compareVersions(cniVersion, since) < 0) {
    throw new CniError(ErrorCode.IncompatibleVersion, `${command} needs cniVersion ${since} or later, the config is ${cniVersion}`, `raise the network config's cniVersion to ${since}`);
  }
}

export interface Reply {
  stdout: string;
  exitCode: number;
}

/** The version errors are reported in: the config's when it names a supported one. */
function replyVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as {cniVersion?: unknown}).cniVersion;
    if (typeof v === 'string' && isSupported(v)) return v;
  } catch {
    // undecodable config: report in the latest version
  }
  return LATEST_VERSION;
}

export interface PluginOptions {
  /** The router's IPAM in-process (warm path); by default reached over its HTTP API. */
  weaveIpam?: Ipam;
  /** The router's bridge (warm path). */
  ownBridge?: OwnBridge;
  /** CNI_NETNS as the caller holds it open (holdNetns, or the launcher's client). */
  netns?: NetnsHandle;
  /** Links through netlink (the router, with its addon); `ip` processes by default. */
  net?: PodNet;
}

const overHttp = new WeaveIpam(routerOverHttp);

/**
 * One CNI call, from environment and stdin to stdout and exit code. Pure of process state, so
 * the same code serves the cold plugin process and the router's warm socket.
 */
export async function runPlugin(
  plugin: PluginName,
  processEnv: Record<string, string | undefined>,
  stdin: string,
  options: PluginOptions = {},
): Promise<Reply> {
  try {
    const env = parseEnv(processEnv, options.netns);
    if (env.command === 'VERSION') {
      return {stdout: JSON.stringify({cniVersion: LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS}) + '\n', exitCode: 0};
    }
    // As an IPAM plugin the config is another plugin's: its own fields are none of our business.
    const conf = parseConfig(stdin, plugin === 'weave-net');
    requireVersionFor(env.command, conf.cniVersion);
    const own = options.ownBridge ? {ownBridge: options.ownBridge} : {};
    const result = await HANDLERS[plugin][env.command]({env, conf, processEnv, weaveIpam: options.weaveIpam ?? overHttp, net: options.net ?? ipPodNet, ...own});
    return {stdout: result ? JSON.stringify(encodeResult(result, conf.cniVersion)) + '\n' : '', exitCode: 0};
  } catch (error) {
    return {stdout: JSON.stringify(asCniError(error).toJSON(replyVersion(stdin))) + '\n', exitCode: 1};
  }
}
