// Writes oclif.manifest.json (part of `npm run build`): every command's flags, args and help,
// read once here from the compiled commands in dist/, so that at run time oclif loads only the
// module of the command that runs instead of all of them. What `oclif manifest` writes, with
// @oclif/core's own Plugin loader rather than the whole oclif tool.
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {Plugin} from '@oclif/core/config';
import {PACKAGE_ROOT} from '../src/lib/package.js';

const plugin = new Plugin({root: PACKAGE_ROOT, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true});
await plugin.load();
const path = join(PACKAGE_ROOT, 'oclif.manifest.json');
writeFileSync(path, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`wrote ${path}: ${Object.keys(plugin.manifest.commands).length} commands`);
