import {execFileSync} from 'node:child_process';
import {copyFileSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/**
 * Hands `use` a tarball of a rootfs holding busybox-static and its applet links, for an image
 * imported without a registry (`podman import`, `docker import`); removed afterwards.
 */
export function withBusyboxRootfs(use: (tarball: string) => void): void {
  const work = mkdtempSync(join(tmpdir(), 'weave-rootfs-'));
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), {recursive: true});
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    // Inside the chroot the links point at /bin/busybox, the path the container will see.
    execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
    const tarball = join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', rootfs, '-cf', tarball, '.']);
    use(tarball);
  } finally {
    rmSync(work, {recursive: true, force: true});
  }
}
