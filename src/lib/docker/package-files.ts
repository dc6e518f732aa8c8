import {createHash} from 'node:crypto';
import {cp, readdir, readFile, stat} from 'node:fs/promises';
import {join, relative, sep} from 'node:path';
import {CommandError, run} from '../net/exec.js';
import {DockerOperatorError} from './errors.js';

/** The TAP addon (native/install.cjs; the package ships one for linux-x64): the encrypted data path's native part. */
const TAP_ADDON = join('native', 'build', 'Release', 'weave_tap.node');

/**
 * Makes sure the package's TAP addon loads, building it when it does not: the router image must
 * always have it, though installing the package (for the CLI and the plugin) never needs it.
 */
export async function ensureTapAddon(root: string): Promise<void> {
  try {
    // Minutes at most: a compile of four C files, or node-gyp fetching Node's headers.
    await run(process.execPath, [join(root, 'native', 'install.cjs'), '--required'], {timeoutMs: 300_000});
  } catch (error) {
    const said = error instanceof CommandError ? error.stderr.trim() || error.message : (error as Error).message;
    throw new DockerOperatorError(`the router image needs the TAP addon of the encrypted data path, and it cannot be built here:\n${said}`, 1, {cause: error});
  }
}

/** What of the package the router needs: the CLI entry, the compiled code, the manifest and the TAP addon. */
const PACKAGE_ENTRIES = ['package.json', 'bin', 'dist', 'oclif.manifest.json', TAP_ADDON];

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

interface LockEntry {
  dev?: boolean;
  link?: boolean;
}

/**
 * The package directories under node_modules that production needs, from package-lock.json
 * (what `npm ci --omit=dev` would install, without the network). Without a lock file (an
 * installed package: npm installs only production dependencies there) all of node_modules.
 */
export async function productionModules(root: string): Promise<string[] | 'all'> {
  let lock: {packages?: Record<string, LockEntry>};
  try {
    lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as typeof lock;
  } catch {
    return 'all';
  }
  const wanted = Object.entries(lock.packages ?? {})
    .filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev && !entry.link)
    .map(([path]) => path);
  const present: string[] = [];
  // Optional dependencies for other platforms are listed but not installed.
  for (const path of wanted) if (await exists(join(root, path))) present.push(path);
  return present;
}

/**
 * Copies the package into `target` (the image's /weave): the entries the router needs and the
 * production node_modules. Each module is copied without its nested node_modules, which are
 * entries of their own in the lock file (and may be dev-only).
 */
export async function copyPackage(root: string, target: string): Promise<void> {
  for (const entry of PACKAGE_ENTRIES) {
    if (await exists(join(root, entry))) await cp(join(root, entry), join(target, entry), {recursive: true, verbatimSymlinks: true});
  }
  const modules = await productionModules(root);
  if (modules === 'all') {
    if (await exists(join(root, 'node_modules'))) await cp(join(root, 'node_modules'), join(target, 'node_modules'), {recursive: true, verbatimSymlinks: true});
    return;
  }
  for (const path of modules) {
    const from = join(root, path);
    const nested = join(from, 'node_modules') + sep;
    await cp(from, join(target, path), {
      recursive: true,
      verbatimSymlinks: true,
      // Nested modules are entries of their own; .bin holds links to CLIs the router never runs.
      filter: src => !(src + sep).startsWith(nested) && !/\/\.bin(\/|$)/.test(src),
    });
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {withFileTypes: true, recursive: true});
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name)).sort();
}

/**
 * A digest of what a locally built image holds of this package: the compiled code, the
 * manifests, the TAP addon and the node binary's version. A rebuilt dist/ under the same version yields a
 * new digest, so `weave launch` never runs stale code from an older local build.
 */
export async function packageDigest(root: string): Promise<string> {
  const files = [...['package.json', 'package-lock.json', 'oclif.manifest.json', TAP_ADDON].map(name => join(root, name))];
  for (const dir of ['bin', 'dist']) if (await exists(join(root, dir))) files.push(...(await listFiles(join(root, dir))));
  // Read together, hashed in a fixed order: the digest must not depend on which read ends first.
  const contents = await Promise.all(files.map(file => readFile(file).catch(() => undefined)));
  const hash = createHash('sha256').update(`node ${process.version}\n`);
  files.forEach((file, i) => {
    if (contents[i]) hash.update(`${relative(root, file)}\n`).update(contents[i]!);
  });
  return hash.digest('hex').slice(0, 16);
}
