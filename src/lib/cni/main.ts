/**
 * The cold CNI entry: `weave-plugin-<version>` runs this file directly, so it imports only the
 * plugin (never oclif) and pays for little more than Node's own start-up. The launcher passes
 * the name it was called by (weave-net or weave-ipam) as the first argument.
 */
import {basename} from 'node:path';
import {servePluginProcess} from './process.js';

await servePluginProcess(basename(process.argv[2] ?? '') === 'weave-ipam' ? 'weave-ipam' : 'weave-net');
