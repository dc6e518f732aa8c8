import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const DOCKERFILE = fileURLToPath(new URL('./pause.Dockerfile', import.meta.url));
const BUSYBOX = '/bin/busybox';
/** Per machine, beside other runs' copies: the image changes only with busybox or the Dockerfile. */
const CACHE_DIR = '/var/tmp/weave-test-images';

export interface PauseImage {
  /** The reference containerd's `sandbox_image` names. */
  name: string;
  /** A `docker save` archive, for `ctr images import`. */
  archive: string;
}

function docker(args: string[]): string {
  const out = spawnSync('docker', args, {encoding: 'utf8'});
  if (out.error) throw new Error(`docker is needed once per machine to build the pause image: ${out.error.message} (apt-get install -y docker.io)`);
  if (out.status !== 0) {
    throw new Error(`docker ${args.join(' ')} failed (exit ${out.status}): ${out.stderr.trim()}; is the engine running? (bash scripts/start-dockerd.sh)`);
  }
  return out.stdout.trim();
}

/**
 * The sandbox image of the CRI tests (there is no registry to pull pause from): FROM scratch
 * with busybox-static, built with the host's Docker engine and saved once per machine; later
 * runs import the saved archive and need no Docker at all. Its tag is a digest of its inputs.
 */
export function pauseImage(): PauseImage {
  const tag = createHash('sha256').update(readFileSync(BUSYBOX)).update(readFileSync(DOCKERFILE)).digest('hex').slice(0, 12);
  const name = `localhost/weave-test-pause:${tag}`;
  const archive = join(CACHE_DIR, `weave-test-pause-${tag}.tar`);
  if (existsSync(archive)) return {name, archive};

  mkdirSync(CACHE_DIR, {recursive: true});
  const work = mkdtempSync(join(tmpdir(), 'weave-pause-'));
  // Saved beside, then renamed: a run cut short never leaves half an archive in the cache.
  const partial = `${archive}.${process.pid}.partial`;
  try {
    if (spawnSync('docker', ['image', 'inspect', name], {stdio: 'ignore'}).status !== 0) {
      copyFileSync(BUSYBOX, join(work, 'busybox'));
      copyFileSync(DOCKERFILE, join(work, 'Dockerfile'));
      docker(['build', '--quiet', '--tag', name, work]);
    }
    docker(['save', '--output', partial, name]);
    renameSync(partial, archive);
  } finally {
    rmSync(work, {recursive: true, force: true});
    rmSync(partial, {force: true});
  }
  return {name, archive};
}
