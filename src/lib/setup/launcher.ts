import {shellQuote} from './shell-quote.js';

/** The two names runtimes call weave by; each is a link to the launcher. */
export const PLUGIN_NAMES = ['weave-net', 'weave-ipam'] as const;

/** Versioned, so a runtime mid-call keeps its plugin while an upgrade installs the next one. */
export function launcherName(version: string): string {
  return `weave-plugin-${version}`;
}

export interface LauncherTarget {
  version: string;
  /** The node binary, absolute: runtimes call plugins with a PATH that may not hold node. */
  node: string;
  /** The cold plugin entry, which loads the plugin and nothing of the CLI. */
  entry: string;
  /** Where routers keep their warm CNI sockets (router --cni-socket-dir). */
  socketDir: string;
}

/** The CNI variables the shim forwards to the router, each as a request header. */
const FORWARDED = ['COMMAND', 'CONTAINERID', 'NETNS', 'IFNAME', 'ARGS', 'PATH'];

/**
 * A POSIX sh shim. Warm path: when the router of this network namespace has its root-only
 * socket up and curl is present, the call (variables as headers, config as body) runs inside
 * the router, with no Node start-up. Cold path (no router, no curl, or nothing listening):
 * exec node on the plugin entry. Either way the plugin learns its name (weave-net or
 * weave-ipam) from $0, and the output and exit code are the plugin's own.
 */
export function launcherScript(target: LauncherTarget): string {
  const node = `${shellQuote(target.node)} ${shellQuote(target.entry)} "$name"`;
  const headers = FORWARDED.map(v => `-H "Cni-${v[0]}${v.slice(1).toLowerCase()}: $CNI_${v}"`).join(' ');
  return [
    '#!/bin/sh',
    `# weave CNI plugin launcher, written by weave ${target.version} (weave setup); runs the plugin without the CLI`,
    'name=${0##*/}',
    'ns=$(readlink /proc/self/ns/net 2>/dev/null); ns=${ns#*[}; ns=${ns%]}',
    `sock=${shellQuote(target.socketDir)}/cni-$ns.sock`,
    'if [ -S "$sock" ] && command -v curl >/dev/null 2>&1; then',
    '  conf=$(cat)',
    `  out=$(printf '%s' "$conf" | curl -sS --fail-with-body --unix-socket "$sock" -m 300 ${headers} --data-binary @- "http://weave/cni/$name" 2>/dev/null)`,
    '  case $? in',
    `    0) printf '%s\\n' "$out"; exit 0 ;;`,
    `    22) printf '%s\\n' "$out"; exit 1 ;;`,
    '    # Nothing listens (a router that died): run the plugin here instead.',
    `    7) printf '%s' "$conf" | exec ${node} ;;`,
    `    *) echo '{"cniVersion":"1.1.0","code":11,"msg":"the weave router did not finish the CNI call; retry","details":"see the weave router log"}'; exit 1 ;;`,
    '  esac',
    'fi',
    `exec ${node}`,
    '',
  ].join('\n');
}
