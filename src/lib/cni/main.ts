/**
 * The cold CNI entry: `weave-plugin-<version>` runs it (bundled into dist/weave-cni.cjs, one file
 * with no module resolution to pay for), so it holds only the plugin, never oclif. The launcher
 * passes the name it was called by (weave-net or weave-ipam) as the first argument.
 */
import {basename} from 'node:path';
import {servePluginProcess} from './process.js';

void servePluginProcess(basename(process.argv[2] ?? '') === 'weave-ipam' ? 'weave-ipam' : 'weave-net');
