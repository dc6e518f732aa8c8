import {compareVersions, SUPPORTED_VERSIONS} from '../cni/version.js';
import {SetupError} from './errors.js';

export const CONFLIST_NAME = '10-weave.conflist';
/** The single-plugin config weave 2.4 and older wrote; a runtime would load it beside ours. */
export const LEGACY_CONF_NAME = '10-weave.conf';

/**
 * 0.4.0 is the newest version older containerd/kubelet releases and Mesos-era parsers read (and
 * it has CHECK); runtimes with libcni >= 1.2 pick the highest of "cniVersions" they speak, so
 * they get 1.1.0 with GC and STATUS. podman 4.3 (libcni 1.1) and Debian's portmap stop at 1.0.0.
 */
export const DEFAULT_CNI_VERSION = '0.4.0';
export const ADVERTISED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;

/** Lists ("plugins" chains) came with CNI 0.3.0. */
const MIN_CONFLIST_VERSION = '0.3.0';

export const CONFLIST_VERSIONS = SUPPORTED_VERSIONS.filter(v => compareVersions(v, MIN_CONFLIST_VERSION) >= 0);

/** Rejects a --cni-version the plugin cannot serve or a conflist cannot carry. */
export function validateCniVersion(version: string): string {
  if (!(CONFLIST_VERSIONS as readonly string[]).includes(version)) {
    const why = (SUPPORTED_VERSIONS as readonly string[]).includes(version)
      ? `a conflist needs cniVersion ${MIN_CONFLIST_VERSION} or later`
      : 'weave-net does not support it';
    throw new SetupError(`--cni-version ${version} cannot be used: ${why}; choose one of ${CONFLIST_VERSIONS.join(', ')}`);
  }
  return version;
}

/** HAIRPIN_MODE as the original reads it: unset means true. */
export function hairpinModeFromEnv(value: string | undefined): boolean {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'true') return true;
  if (v === 'false') return false;
  throw new SetupError(`HAIRPIN_MODE="${value}" is not a boolean: set it to true or false`);
}

export interface ConflistOptions {
  /** An explicit version: written alone, without "cniVersions". */
  cniVersion?: string;
  hairpinMode: boolean;
}

/** The weave network: weave-net, then portmap for hostPort mappings. */
export function renderConflist(options: ConflistOptions): string {
  const versions = options.cniVersion
    ? {cniVersion: options.cniVersion}
    : {cniVersion: DEFAULT_CNI_VERSION, cniVersions: ADVERTISED_VERSIONS};
  const conflist = {
    ...versions,
    name: 'weave',
    plugins: [
      {name: 'weave', type: 'weave-net', hairpinMode: options.hairpinMode},
      {type: 'portmap', capabilities: {portMappings: true}, snat: true},
    ],
  };
  return JSON.stringify(conflist, null, 4) + '\n';
}
