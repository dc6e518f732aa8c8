import {interfaceNameProblem} from '../net/ifname.js';
import type {NetnsHandle} from '../net/netns.js';
import {CniError, ErrorCode} from './errors.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
export type Command = (typeof COMMANDS)[number];

/** The CNI_* variables of one invocation, validated. */
export interface CniEnv {
  command: Command;
  containerId: string;
  /** CNI_NETNS as given: what messages and results name. */
  netns: string;
  /** What to enter: the namespace held open for this call (NetnsHandle), else CNI_NETNS. */
  netnsPath: string;
  netnsHandle: NetnsHandle;
  ifname: string;
  args: Record<string, string>;
  path: string[];
}

const REQUIRED: Record<Command, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  // DEL must work when the namespace is already gone, so CNI_NETNS may be empty.
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: [],
  VERSION: [],
};

function invalid(msg: string, details: string): CniError {
  return new CniError(ErrorCode.InvalidEnv, msg, details);
}

/** libcni's rule: starts alphanumeric, then alphanumerics, `_`, `.` or `-`. */
export function validateContainerId(id: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(id)) {
    throw invalid(
      `invalid CNI_CONTAINERID "${id}"`,
      'a container id starts with a letter or digit and holds only letters, digits, "_", "." and "-"',
    );
  }
}

/** The kernel's rule for interface names. */
export function validateInterfaceName(name: string, what = 'CNI_IFNAME'): void {
  const why = interfaceNameProblem(name);
  if (why) throw invalid(`invalid ${what} "${name}": ${why}`, 'choose an interface name of 1 to 15 letters, digits, "-" or "_"');
}

function parseArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid(`invalid CNI_ARGS pair "${pair}"`, 'CNI_ARGS is a list of KEY=VALUE pairs separated by ";"');
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

/**
 * Reads and checks the variables `command` needs; the message names the first one missing.
 * `netns`: how the caller holds CNI_NETNS open, if it does.
 */
export function parseEnv(env: Record<string, string | undefined>, netns: NetnsHandle = {}): CniEnv {
  const command = env.CNI_COMMAND ?? '';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw invalid(
      command ? `unknown CNI_COMMAND "${command}"` : 'CNI_COMMAND is not set',
      `set CNI_COMMAND to one of ${COMMANDS.join(', ')}`,
    );
  }
  const cmd = command as Command;
  for (const name of REQUIRED[cmd]) {
    if (!env[name]) throw invalid(`${name} is not set`, `the container runtime must set ${name} for ${cmd}`);
  }
  const parsed: CniEnv = {
    command: cmd,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    netnsPath: netns.path ?? env.CNI_NETNS ?? '',
    netnsHandle: netns,
    ifname: env.CNI_IFNAME ?? '',
    args: parseArgs(env.CNI_ARGS ?? ''),
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
  if (REQUIRED[cmd].includes('CNI_CONTAINERID')) validateContainerId(parsed.containerId);
  if (REQUIRED[cmd].includes('CNI_IFNAME')) validateInterfaceName(parsed.ifname);
  return parsed;
}
