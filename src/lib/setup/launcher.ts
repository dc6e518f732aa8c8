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

/** The CNI variables the shim forwards to the router (protocol: src/lib/router/cni/protocol.ts). */
const FORWARDED = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'];

/**
 * A POSIX sh shim. Warm path: when the router of this network namespace has its root-only
 * socket up and socat is present, the call runs inside the router, with no Node start-up.
 * Cold path (no router, no socat, or nothing answering): node on the plugin entry. Either
 * way the plugin learns its name (weave-net or weave-ipam) from $0, and the output and exit
 * code are the plugin's own.
 */
export function launcherScript(target: LauncherTarget): string {
  const node = `${shellQuote(target.node)} ${shellQuote(target.entry)} "$name"`;
  return [
    '#!/bin/sh',
    `# weave CNI plugin launcher, written by weave ${target.version} (weave setup); runs the plugin without the CLI`,
    'name=${0##*/}',
    // The plugin makes no TLS connections; extra CA certificates alone cost Node ~65 ms to load.
    'unset NODE_EXTRA_CA_CERTS NODE_OPTIONS',
    'ns=$(readlink /proc/self/ns/net 2>/dev/null); ns=${ns#*[}; ns=${ns%]}',
    `sock=${shellQuote(target.socketDir)}/cni-$ns.sock`,
    'if [ -S "$sock" ] && command -v socat >/dev/null 2>&1; then',
    "  NL='",
    "'",
    // Builtins only (no cat, no printf pipeline): every fork costs here.
    '  conf=; while IFS= read -r line; do conf=$conf$line$NL; done; conf=$conf$line',
    '  reply=$(socat -t 300 - "UNIX-CONNECT:$sock" 2>/dev/null <<EOF',
    'weave-cni 1',
    'PLUGIN=$name',
    ...FORWARDED.map(v => `${v}=$${v}`),
    '',
    '$conf',
    'EOF',
    ')',
    '  rc=${reply%%"$NL"*}; out=${reply#"$rc"}; out=${out#"$NL"}',
    '  case $rc in',
    `    0|1) [ -z "$out" ] || printf '%s\\n' "$out"; exit "$rc" ;;`,
    '  esac',
    '  # No answer (the socket outlived its router), or the router asks us to: run the plugin here.',
    `  printf '%s' "$conf" | ${node}`,
    '  exit $?',
    'fi',
    `exec ${node}`,
    '',
  ].join('\n');
}
