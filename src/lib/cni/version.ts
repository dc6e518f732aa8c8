import {CniError, ErrorCode} from './errors.js';

/** Every cniVersion the plugin reads configs of and encodes results in. */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function isSupported(version: string): boolean {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}

/** A config without cniVersion is 0.1.0, as libcni has always read it. */
export function requireSupported(version: string | undefined): string {
  const v = version ?? '0.1.0';
  if (!isSupported(v)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `incompatible CNI versions: config is "${v}", weave-net supports ${SUPPORTED_VERSIONS.join(', ')}`,
      'set "cniVersion" in the network config to one of the supported versions',
    );
  }
  return v;
}

/** Which result layout a version uses: 0.1/0.2 `ip4`, 0.3/0.4 `ips[].version`, 1.x plain `ips`. */
export function resultFamily(version: string): 'legacy' | 'current-0.x' | 'v1' {
  if (compareVersions(version, '0.3.0') < 0) return 'legacy';
  if (compareVersions(version, '1.0.0') < 0) return 'current-0.x';
  return 'v1';
}

/**
 * The highest version both we and a delegate plugin speak, not above the config's:
 * lets a 1.1.0 config delegate to a host-local that stops at 1.0.0.
 */
export function negotiate(configVersion: string, theirs: readonly string[]): string | undefined {
  return theirs
    .filter(v => isSupported(v) && compareVersions(v, configVersion) <= 0)
    .sort(compareVersions)
    .at(-1);
}
