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
}

/**
 * A POSIX sh script that execs node on the plugin entry, handing it the basename of $0: the
 * name it was called by, weave-net or weave-ipam through the links.
 */
export function launcherScript(target: LauncherTarget): string {
  return [
    '#!/bin/sh',
    `# weave CNI plugin launcher, written by weave ${target.version} (weave setup); runs the plugin without the CLI`,
    `exec ${shellQuote(target.node)} ${shellQuote(target.entry)} "\${0##*/}"`,
    '',
  ].join('\n');
}
