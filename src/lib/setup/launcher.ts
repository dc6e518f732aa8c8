import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {PACKAGE_ROOT} from '../package.js';
import {shellQuote} from './shell-quote.js';

/** The two names runtimes call weave by; each is a link to the launcher. */
export const PLUGIN_NAMES = ['weave-net', 'weave-ipam'] as const;

/** The launcher's body and the warm path's client, shipped as files of their own in bin/. */
export const LAUNCHER_SOURCE = join(PACKAGE_ROOT, 'bin', 'weave-cni-launcher.sh');
export const CNI_CLIENT = join(PACKAGE_ROOT, 'bin', 'weave-cni-client.pl');

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
  /** The warm path's Perl client; bin/weave-cni-client.pl of this package by default. */
  client?: string;
}

/**
 * The installed launcher: bin/weave-cni-launcher.sh with its settings written in front (see that
 * file for how it runs a call warm or cold).
 */
export function launcherScript(target: LauncherTarget): string {
  const body = readFileSync(LAUNCHER_SOURCE, 'utf8').replace(/^#!.*\n/, '');
  return [
    '#!/bin/sh',
    `# weave CNI plugin launcher, written by weave ${target.version} (weave setup); runs the plugin without the CLI`,
    `WEAVE_NODE=${shellQuote(target.node)}`,
    `WEAVE_ENTRY=${shellQuote(target.entry)}`,
    `WEAVE_CNI_CLIENT=${shellQuote(target.client ?? CNI_CLIENT)}`,
    `WEAVE_SOCKET_DIR=${shellQuote(target.socketDir)}`,
    body,
  ].join('\n');
}
