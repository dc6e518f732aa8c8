// `npm run bundle` (part of `npm run build`): the three programs the package runs, each bundled
// so that a start resolves a few files instead of hundreds of modules.
//   dist/weave-cni.cjs         the cold CNI plugin (one CJS file, no module resolution: ~50 ms a pod)
//   dist/lib/weave-router.mjs  the router (one file: ~60 ms of CPU less per router start)
//   dist/cli/                  the CLI: its entry, one file per command and hook (oclif loads the
//                              one that runs), and chunks of the code they share
//   dist/cli/fast/             version, status and ps without oclif (src/fast.ts), for bin/weave.js
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {build, type BuildOptions} from 'esbuild';
import {PACKAGE_ROOT} from '../src/lib/package.js';

const common: BuildOptions = {bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', absWorkingDir: PACKAGE_ROOT};

// CJS code inside an ESM bundle needs a real require: one per process, made by the first chunk loaded.
const REQUIRE_BANNER = "import {createRequire as __weaveRequire} from 'node:module'; var require = globalThis.__weaveRequire ??= __weaveRequire(import.meta.url);";

const sources = (dir: string): string[] =>
  readdirSync(join(PACKAGE_ROOT, 'src', dir))
    .filter(name => name.endsWith('.ts'))
    .map(name => `src/${dir}/${name}`);

// The CLI's files: ESM, split into chunks that the files loaded share.
const cliOptions: BuildOptions = {
  ...common,
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  // Smaller files parse faster (~50 ms of a start was compiling the chunks); names kept, as errors carry their class's.
  minify: true,
  keepNames: true,
  // Which sources each file holds: test/unit/cli-loads.test.ts checks what a command loads.
  metafile: true,
  banner: {js: REQUIRE_BANNER},
  external: [
    // oclif's TypeScript support for development checkouts: never used by an installed CLI.
    'typescript',
    'ts-node',
    // Loaded by launch/setup/reset only, from node_modules: dockerode's ssh2 brings a native addon.
    'dockerode',
  ],
};

const [, , cli, fast] = await Promise.all([
  build({...common, entryPoints: ['dist/lib/cni/main.js'], format: 'cjs', outfile: 'dist/weave-cni.cjs'}),
  // dns-packet (CJS) requires node's `buffer`: the ESM bundle needs a real require for it. dockerode
  // is loaded from node_modules, and only by a router that watches Docker (--docker-api).
  build({...common, entryPoints: ['dist/lib/router/cli.js'], format: 'esm', outfile: 'dist/lib/weave-router.mjs', banner: {js: REQUIRE_BANNER}, external: ['dockerode']}),
  build({...cliOptions, entryPoints: ['src/main.ts', ...sources('commands'), ...sources('hooks')], outbase: 'src', outdir: 'dist/cli'}),
  // The fast path of version, status and ps (src/fast.ts), apart: one file for what they all load, not the ~20 chunks it shares with the commands.
  build({...cliOptions, entryPoints: ['src/fast.ts'], outdir: 'dist/cli/fast'}),
]);
writeFileSync(join(PACKAGE_ROOT, 'dist', 'cli', 'meta.json'), JSON.stringify(cli.metafile));
writeFileSync(join(PACKAGE_ROOT, 'dist', 'cli', 'fast', 'meta.json'), JSON.stringify(fast.metafile));

// Node decodes an all-ASCII file about twice as fast: ~4 ms of each router start. esbuild escapes
// what strings hold, not what regular expressions and the comments it keeps do.
const router = readFileSync(join(PACKAGE_ROOT, 'dist', 'lib', 'weave-router.mjs'), 'utf8');
const nonAscii = router.search(/[\u0080-\uffff]/);
if (nonAscii >= 0) {
  const line = router.slice(0, nonAscii).split('\n').length;
  throw new Error(`dist/lib/weave-router.mjs, line ${line}, is not ASCII: write that character escaped in its source (\\u00b5, or words in a comment)`);
}
