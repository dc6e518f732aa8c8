import {access, constants} from 'node:fs/promises';
import {join} from 'node:path';
import {CommandError, run} from '../../net/exec.js';
import {CniError, ErrorCode} from '../errors.js';
import {decodeResult, encodeResult} from '../result.js';
import {compareVersions, negotiate} from '../version.js';
import type {Invocation} from '../invocation.js';
import type {Ipam} from './ipam.js';

/** The executable `type` in the first of `dirs` that has one. */
export async function locatePlugin(type: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    const file = join(dir, type);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function findPlugin(type: string, dirs: readonly string[]): Promise<string> {
  const file = await locatePlugin(type, dirs);
  if (file) return file;
  throw new CniError(
    ErrorCode.InvalidConfig,
    `IPAM plugin "${type}" was not found in CNI_PATH (${dirs.join(':')})`,
    `install the "${type}" plugin into one of those directories, or fix "ipam.type" in the network config`,
  );
}

interface PluginReply {
  code?: number;
  msg?: string;
  details?: string;
}

/** Runs the IPAM plugin for `command` with the config re-encoded in `version`; returns its JSON. */
async function exec(file: string, type: string, command: string, call: Invocation, version: string): Promise<unknown> {
  const conf: Record<string, unknown> = {...call.conf.raw, cniVersion: version};
  if (call.conf.prevResult) conf.prevResult = encodeResult(call.conf.prevResult, version);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.processEnv)) if (v !== undefined) env[k] = v;
  env.CNI_COMMAND = command;
  let stdout: string;
  try {
    ({stdout} = await run(file, [], {input: JSON.stringify(conf), env}));
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    let reply: PluginReply | undefined;
    try {
      // The spec puts the error JSON on stdout; some plugins use stderr.
      reply = JSON.parse(error.stdout.trim() || error.stderr) as PluginReply;
    } catch {
      // not the spec's error JSON: report its raw output
    }
    if (reply && typeof reply.code === 'number') {
      throw new CniError(reply.code, `IPAM plugin "${type}": ${reply.msg ?? 'failed'}`, reply.details ?? '');
    }
    throw new CniError(ErrorCode.IpamFailed, `IPAM plugin "${type}" failed: ${(error.stderr || error.stdout).trim() || `exit ${error.exitCode}`}`);
  }
  if (!stdout.trim()) return undefined;
  try {
    return JSON.parse(stdout);
  } catch {
    throw new CniError(ErrorCode.DecodeFailure, `IPAM plugin "${type}" printed something that is not JSON`, stdout.slice(0, 200));
  }
}

/** The versions the plugin speaks, from its VERSION command. */
async function versionsOf(file: string, type: string, call: Invocation): Promise<string[]> {
  const reply = (await exec(file, type, 'VERSION', call, call.conf.cniVersion)) as {supportedVersions?: string[]} | undefined;
  return reply?.supportedVersions ?? ['0.1.0', '0.2.0'];
}

/** IPAM by another plugin (host-local, dhcp, static, ...) found in CNI_PATH. */
export class DelegatedIpam implements Ipam {
  constructor(private readonly type: string) {}

  /**
   * Runs `command` in the config's version; when the plugin refuses that version (code 1),
   * in the highest version both speak, so a 1.1.0 config works with a 1.0.0 host-local.
   */
  private async call(command: string, call: Invocation): Promise<{reply: unknown; version: string}> {
    const file = await findPlugin(this.type, call.env.path);
    try {
      return {reply: await exec(file, this.type, command, call, call.conf.cniVersion), version: call.conf.cniVersion};
    } catch (error) {
      if (!(error instanceof CniError) || error.code !== ErrorCode.IncompatibleVersion) throw error;
      const theirs = await versionsOf(file, this.type, call);
      const version = negotiate(call.conf.cniVersion, theirs);
      if (!version) {
        throw new CniError(
          ErrorCode.IncompatibleVersion,
          `IPAM plugin "${this.type}" supports none of the versions up to ${call.conf.cniVersion}`,
          `it supports ${theirs.join(', ')}; set the network's cniVersion to one of them`,
        );
      }
      return {reply: await exec(file, this.type, command, call, version), version};
    }
  }

  /** GC and STATUS exist from 1.1.0: a plugin that predates them has nothing to report. */
  private async callIfSupported(command: 'GC' | 'STATUS', call: Invocation): Promise<void> {
    const file = await findPlugin(this.type, call.env.path);
    const theirs = await versionsOf(file, this.type, call);
    if (!theirs.some(v => compareVersions(v, '1.1.0') >= 0)) return;
    await exec(file, this.type, command, call, call.conf.cniVersion);
  }

  async add(call: Invocation) {
    const {reply, version} = await this.call('ADD', call);
    return decodeResult(reply, version, `IPAM plugin "${this.type}" result`);
  }

  async del(call: Invocation) {
    await this.call('DEL', call);
  }

  async check(call: Invocation) {
    await this.call('CHECK', call);
  }

  async gc(call: Invocation) {
    await this.callIfSupported('GC', call);
  }

  async status(call: Invocation) {
    await this.callIfSupported('STATUS', call);
  }
}
