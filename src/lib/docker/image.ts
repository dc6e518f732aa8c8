import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type Dockerode from 'dockerode';
import {execa} from 'execa';
import {PACKAGE_ROOT, VERSION} from '../package.js';
import {DockerOperatorError, engineMessage, statusOf} from './errors.js';
import {formatImageRef, type ImageRef, isOwnImage} from './image-ref.js';
import {copyPackage, ensureTapAddon, packageDigest} from './package-files.js';
import {Rootfs} from './rootfs.js';

/** Label of a locally built image: the digest of the package it holds (see packageDigest). */
export const BUILD_LABEL = 'net.weave.build';

/** Where the package sits in the image, and how the container runs the router. */
export const IMAGE_PACKAGE_DIR = '/weave';
/** No node flags: they would cost every start (see keepHeapSmall, which the router calls instead). */
const ENTRYPOINT = ['/usr/bin/node', `${IMAGE_PACKAGE_DIR}/bin/weave.js`, 'router'];

export type ImageAction = 'present' | 'pulled' | 'built';

export interface ImageResult {
  image: string;
  action: ImageAction;
  /** Bytes, as the engine reports the image. */
  size: number;
}

export interface ImageOptions {
  /** The package to build from (default: this one). */
  root?: string;
  /** The node binary to put in the image (default: the one running). */
  node?: string;
  /** Told what is happening, for a progress display: "pulling ...", "building ...". */
  onStep?: (text: string) => void;
}

/** `weave-net:1.0.0 (built locally, 110 MB)`: what a task list says of the image once it is there. */
export function imageSummary(result: ImageResult): string {
  const how = result.action === 'present' ? 'present' : result.action === 'pulled' ? 'pulled' : 'built locally';
  return `${result.image} (${how}, ${Math.round(result.size / 1e6)} MB)`;
}

async function inspect(docker: Dockerode, image: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(image).inspect();
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw new DockerOperatorError(`cannot inspect image ${image}: ${engineMessage(error)}`);
  }
}

/** Reads a progress stream of the engine to its end; an `error` line fails it. */
function follow(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: {error?: string}[]) => {
      const failed = output.find(line => line.error);
      if (error) reject(error);
      else if (failed) reject(new Error(failed.error));
      else resolve();
    });
  });
}

async function pull(docker: Dockerode, image: string): Promise<void> {
  await follow(docker, await docker.pull(image));
}

/**
 * Builds the router image from this machine: a root file system of its node, iproute2,
 * iptables, nsenter and sysctl with their libraries, plus the package, streamed as a tarball
 * into `docker import` with the entry point set. Nothing is pulled.
 */
export async function buildImage(docker: Dockerode, ref: ImageRef, options: ImageOptions = {}): Promise<void> {
  const root = options.root ?? PACKAGE_ROOT;
  await ensureTapAddon(root);
  const work = await mkdtemp(join(tmpdir(), 'weave-image-'));
  try {
    const rootfs = new Rootfs(join(work, 'rootfs'));
    await rootfs.addTools(options.node ?? process.execPath);
    await copyPackage(root, join(rootfs.dir, IMAGE_PACKAGE_DIR));
    const digest = await packageDigest(root);
    // stdout streams into the engine; stderr is kept for the message.
    const tar = execa('tar', Rootfs.tarArgs(rootfs.dir), {stdin: 'ignore', buffer: {stdout: false}, reject: false});
    const changes = [
      `ENTRYPOINT ${JSON.stringify(ENTRYPOINT)}`,
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `WORKDIR ${IMAGE_PACKAGE_DIR}`,
      `LABEL ${BUILD_LABEL}=${digest} org.opencontainers.image.title=weave-net org.opencontainers.image.version=${VERSION}`,
    ];
    try {
      await follow(docker, await docker.importImage(tar.stdout, {repo: ref.repository, tag: ref.tag, changes, message: `weave-net ${VERSION}, built locally`}));
    } catch (error) {
      tar.kill();
      throw error;
    }
    const {exitCode, signal, stderr} = await tar;
    if (exitCode !== 0) throw new Error(`tar of the image's root file system failed (exit ${exitCode ?? signal}): ${stderr.trim()}`);
  } catch (error) {
    if (error instanceof DockerOperatorError) throw error;
    throw new DockerOperatorError(`cannot build the router image ${formatImageRef(ref)}: ${engineMessage(error)}`);
  } finally {
    await rm(work, {recursive: true, force: true});
  }
}

/**
 * Makes sure the router image exists on the engine. An image present is used, except one of
 * ours built from an older state of this package (rebuilt). A missing image is pulled when it
 * names a registry, or is not ours (Docker Hub); ours is built locally when nothing can be
 * pulled, so no registry is ever needed.
 */
export async function ensureImage(docker: Dockerode, ref: ImageRef, options: ImageOptions = {}): Promise<ImageResult> {
  const image = formatImageRef(ref);
  const own = isOwnImage(ref);
  const found = await inspect(docker, image);
  const built = found?.Config?.Labels?.[BUILD_LABEL];
  const stale = own && !ref.registry && built !== undefined && built !== (await packageDigest(options.root ?? PACKAGE_ROOT));
  if (found && !stale) return {image, action: 'present', size: found.Size};

  let pullError: string | undefined;
  if (!found && (ref.registry || !own)) {
    options.onStep?.(`pulling ${image}`);
    try {
      await pull(docker, image);
      const pulled = await inspect(docker, image);
      if (pulled) return {image, action: 'pulled', size: pulled.Size};
    } catch (error) {
      pullError = engineMessage(error);
    }
  }
  if (!own) {
    throw new DockerOperatorError(
      `image ${image} is not on this Docker engine and cannot be pulled (${pullError ?? 'not found'}): ` +
        'load it (`docker load -i <file>`), or unset WEAVE_IMAGE and --image to use weave-net\'s own image, which is built locally',
    );
  }
  options.onStep?.(`building ${image} locally${pullError ? ` (pull failed: ${pullError})` : stale ? ' (the package changed since the last build)' : ''}`);
  await buildImage(docker, ref, options);
  const result = await inspect(docker, image);
  if (!result) throw new DockerOperatorError(`the router image ${image} was built but the engine does not list it`);
  return {image, action: 'built', size: result.Size};
}
