#!/usr/bin/env node
// The router's addon (tap.c, netlink.c, lock.c): the encrypted data path (the sleeve) needs it, and the
// warm CNI path uses it when it loads. npm's install script, `npm run build:native`, and the
// router image build all come here.
//   node native/install.cjs             keep a build that loads (the package ships one for
//                                       linux-x64), else build one with node-gyp; on failure
//                                       warn and exit 0: the CLI and the CNI plugin never load it
//   node native/install.cjs --required  the same, but a failure exits 1 (npm run build:native,
//                                       and the router image, which must always have it)
//   node native/install.cjs --rebuild   build even when one loads (after editing tap.c)
'use strict';
const {spawnSync} = require('node:child_process');
const {existsSync} = require('node:fs');
const {dirname, join} = require('node:path');

const DIR = __dirname;
const ADDON = join(DIR, 'build', 'Release', 'weave_tap.node');
const required = process.argv.includes('--required');
const rebuild = process.argv.includes('--rebuild');

/** Why the built addon does not load, or undefined when it does. */
function loadError() {
  if (!existsSync(ADDON)) return 'not built';
  try {
    // A build of an older tap.c loads but lacks what the router now calls.
    const addon = require(ADDON);
    const current = ['netlinkOpen', 'segment', 'seal', 'udpOpen', 'flock'].every(name => typeof addon[name] === 'function') && typeof addon.netlinkProtocols?.netfilter === 'number';
    return current ? undefined : 'built from older sources';
  } catch (error) {
    return error.message.split('\n')[0];
  }
}

/** node-gyp: npm's own under `npm install`/`npm run`, else one on PATH, else the one npm bundles beside this node. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (spawnSync('node-gyp', ['--version'], {stdio: 'ignore'}).status === 0) return ['node-gyp'];
  return existsSync(bundled) ? [process.execPath, bundled] : undefined;
}

/** Builds with node-gyp: Node's headers from npm_config_nodedir, else a distribution's (/usr/include/node), else node-gyp's download. */
function build() {
  const gyp = nodeGyp();
  if (!gyp) return 'node-gyp not found (it comes with npm)';
  const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
  const args = [...gyp.slice(1), 'rebuild', `--directory=${DIR}`, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const run = spawnSync(gyp[0], args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
  if (run.error) return run.error.message;
  if (run.status !== 0) {
    // Its reason, without the progress, the stack and the environment it lists after it.
    const noise = /^gyp (info|http)|^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/;
    const lines = `${run.stdout}${run.stderr}`.trim().split('\n').filter(line => line.trim() !== '' && !noise.test(line));
    return `node-gyp failed:\n  ${lines.slice(0, 6).join('\n  ')}`;
  }
  return loadError();
}

const kept = rebuild ? 'rebuild asked' : loadError();
const problem = kept === undefined ? undefined : build();
if (problem === undefined) {
  if (kept !== undefined) console.log(`weave: built the TAP addon ${ADDON}`);
} else {
  const text =
    `weave: the TAP addon for the router's encrypted data path cannot be built (${problem}).\n` +
    "The CLI and the CNI plugin do not need it; a router with --password does, for peers outside --trusted-subnets.\n" +
    `To build it: install a C compiler, make, python3 and Node's headers (Debian: build-essential python3 libnode-dev), then run \`node ${join(DIR, 'install.cjs')} --required\`.`;
  console.error(text);
  if (required) process.exitCode = 1;
}
