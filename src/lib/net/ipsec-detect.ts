import {randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {release} from 'node:os';
import {gunzipSync} from 'node:zlib';
import {CommandError, run} from './exec.js';

/**
 * Whether this kernel could carry the VXLAN overlay inside IPsec ESP (docs/ipsec.md), asked of
 * the kernel itself: an ESP state with AES-GCM is added in a throwaway network namespace. The
 * kernel's build options explain a refusal; the probe decides, since a module may load on demand
 * or a config file may be stale.
 */

/** The build options kernel ESP over VXLAN needs, and what each is for. */
export const IPSEC_OPTIONS = {
  CONFIG_XFRM_USER: 'the netlink interface that adds IPsec states and policies',
  CONFIG_INET_ESP: 'ESP for IPv4',
  CONFIG_CRYPTO_GCM: 'AES-GCM, the rfc4106 cipher of the ESP states',
  CONFIG_CRYPTO_SEQIV: 'rfc4106 IV generation',
  CONFIG_NETFILTER_XT_MATCH_POLICY: 'iptables -m policy, to drop VXLAN traffic that arrives unencrypted',
} as const;

export type IpsecOption = keyof typeof IPSEC_OPTIONS;
/** Built in, as a module, or not at all. */
export type OptionValue = 'y' | 'm' | 'n';

export type ProbeResult = {ok: true} | {ok: false; error: string};

export interface IpsecSupport {
  /** The kernel accepted an ESP state with AES-GCM. */
  usable: boolean;
  /** One sentence for logs and status: what was found. */
  summary: string;
  /** The options above as the kernel was built; absent when no config could be read. */
  config?: Record<IpsecOption, OptionValue>;
  /** Options built neither in nor as a module. */
  missing: IpsecOption[];
  probe: ProbeResult;
}

/** `CONFIG_X=y`, `=m`, and `# CONFIG_X is not set` lines of a kernel config. */
export function parseKernelConfig(text: string): Map<string, OptionValue> {
  const options = new Map<string, OptionValue>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) options.set(set[1]!, set[2] === 'y' || set[2] === 'm' ? set[2] : 'n');
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) options.set(unset[1]!, 'n');
  }
  return options;
}

/** What the probe and the config together say; pure, for tests. */
export function assess(kernelConfig: Map<string, OptionValue> | undefined, probe: ProbeResult): IpsecSupport {
  const names = Object.keys(IPSEC_OPTIONS) as IpsecOption[];
  const config = kernelConfig && (Object.fromEntries(names.map(n => [n, kernelConfig.get(n) ?? 'n'])) as Record<IpsecOption, OptionValue>);
  const missing = config ? names.filter(n => config[n] === 'n') : [];
  const why = missing.length > 0 ? `; not built: ${missing.map(n => `${n} (${IPSEC_OPTIONS[n]})`).join(', ')}` : config ? '' : '; the kernel config could not be read';
  const summary = probe.ok
    ? `the kernel accepts ESP with AES-GCM: IPsec over VXLAN is possible${missing.includes('CONFIG_NETFILTER_XT_MATCH_POLICY') ? ', but unencrypted VXLAN could not be refused (no iptables policy match)' : ''}`
    : `no kernel IPsec: adding an ESP state failed (${probe.error})${why}`;
  return {usable: probe.ok, summary, ...(config ? {config} : {}), missing, probe};
}

/** /proc/config.gz, else /boot/config-<release>; undefined when neither is readable. */
export async function readKernelConfig(): Promise<Map<string, OptionValue> | undefined> {
  try {
    return parseKernelConfig(gunzipSync(await readFile('/proc/config.gz')).toString());
  } catch {
    try {
      return parseKernelConfig(await readFile(`/boot/config-${release()}`, 'utf8'));
    } catch {
      return undefined;
    }
  }
}

/**
 * Adds an ESP transport-mode state (rfc4106 AES-GCM, a random key) in a network namespace that
 * exists only for this command (unshare), so nothing is left behind on any path.
 */
export async function probeEsp(): Promise<ProbeResult> {
  const key = `0x${randomBytes(36).toString('hex')}`;
  const state = ['xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x100', 'reqid', '1', 'mode', 'transport', 'aead', 'rfc4106(gcm(aes))', key, '128'];
  try {
    await run('unshare', ['--net', '--', 'ip', ...state]);
    return {ok: true};
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    return {ok: false, error: (error.stderr.trim() || error.message).replace(/^Error: /, '')};
  }
}

export async function detectIpsec(): Promise<IpsecSupport> {
  const [config, probe] = await Promise.all([readKernelConfig(), probeEsp()]);
  return assess(config, probe);
}
