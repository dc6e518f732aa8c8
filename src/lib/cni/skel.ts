import {cmdAdd} from './add.js';
import {cmdCheck} from './check.js';
import {parseConfig} from './config.js';
import {cmdDel} from './del.js';
import {parseEnv} from './env.js';
import {asCniError} from './errors.js';
import type {Invocation} from './invocation.js';
import {WeaveIpam} from './ipam/weave.js';
import {cmdGc, cmdStatus} from './lifecycle.js';
import {encodeResult, type Result} from './result.js';
import {isSupported, LATEST_VERSION, SUPPORTED_VERSIONS} from './version.js';

/** The two plugins weave installs: the network plugin, and its IPAM usable under other plugins. */
export type PluginName = 'weave-net' | 'weave-ipam';

type Handler = (call: Invocation) => Promise<Result | void>;

const weaveIpam = new WeaveIpam();

const HANDLERS: Record<PluginName, Record<'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS', Handler>> = {
  'weave-net': {ADD: cmdAdd, DEL: cmdDel, CHECK: cmdCheck, GC: cmdGc, STATUS: cmdStatus},
  'weave-ipam': {
    ADD: call => weaveIpam.add(call),
    DEL: call => weaveIpam.del(call),
    CHECK: call => weaveIpam.check(call),
    GC: call => weaveIpam.gc(call),
    STATUS: call => weaveIpam.status(call),
  },
};

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

/**
 * One CNI call, from environment and stdin to stdout and exit code. Pure of process state, so
 * the same code serves the cold plugin process and the router's warm socket.
 */
export async function runPlugin(plugin: PluginName, processEnv: Record<string, string | undefined>, stdin: string): Promise<Reply> {
  try {
    const env = parseEnv(processEnv);
    if (env.command === 'VERSION') {
      return {stdout: JSON.stringify({cniVersion: LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS}) + '\n', exitCode: 0};
    }
    const conf = parseConfig(stdin);
    const result = await HANDLERS[plugin][env.command]({env, conf, processEnv});
    return {stdout: result ? JSON.stringify(encodeResult(result, conf.cniVersion)) + '\n' : '', exitCode: 0};
  } catch (error) {
    return {stdout: JSON.stringify(asCniError(error).toJSON(replyVersion(stdin))) + '\n', exitCode: 1};
  }
}
