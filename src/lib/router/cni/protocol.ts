/**
 * The warm CNI path's wire format, spoken by the shell shim's client: a few lines of Perl, or
 * socat where there is no perl (socat starts in ~4 ms, curl in ~12). The shim sends a first
 * line `weave-cni 1`, then `NAME=value` lines (the CNI variables, and
 * PLUGIN=weave-net|weave-ipam), an empty line and the config, and half-closes; the router
 * answers the plugin's exit code on a line of its own, then its stdout, and closes. Any other
 * first line (COLD) tells the shim to run the call itself.
 */
export const GREETING = 'weave-cni 1';

/** "Run it yourself": the call needs something only the host has (its IPAM plugin binaries). */
export const COLD = 'cold\n';

export interface CniRequest {
  plugin: string;
  env: Record<string, string>;
  stdin: string;
}

/** Parses a request; undefined when it is not one (anything else on the socket is dropped). */
export function parseRequest(raw: string): CniRequest | undefined {
  const head = raw.indexOf('\n\n');
  if (head < 0) return undefined;
  const [greeting, ...lines] = raw.slice(0, head).split('\n');
  if (greeting !== GREETING) return undefined;
  const env: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const {PLUGIN: plugin = '', ...cni} = env;
  return {plugin, env: cni, stdin: raw.slice(head + 2)};
}

export function formatReply(exitCode: number, stdout: string): string {
  return `${exitCode}\n${stdout}`;
}
