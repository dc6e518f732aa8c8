/** The chains the router owns (section 9 of the reference). */
export const EXPOSE_CHAIN = 'WEAVE-EXPOSE';
export const NAT_CHAIN = 'WEAVE';
export const CANARY_CHAIN = 'WEAVE-CANARY';
/** Where VXLAN from outside --trusted-subnets is dropped when the router has a password. */
export const OVERLAY_IN_CHAIN = 'WEAVE-OVERLAY-IN';
export const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;
export const DOCKER_BRIDGE = 'docker0';
export const CONTROL_PORT_COMMENT = 'Block non-local access to Weave Net control port';

export type Table = 'filter' | 'nat' | 'mangle';

/**
 * One rule, its arguments written exactly as `iptables-save` prints them (`-d 10.32.0.0/12`,
 * `-p tcp -m tcp --dport`), so that presence is a string comparison with the saved rule set.
 */
export interface Rule {
  table: Table;
  chain: string;
  args: readonly string[];
}

export interface BaseRuleSpec {
  bridge: string;
  /** TCP port of the HTTP control API; absent when it listens on a unix socket. */
  httpPort?: number;
  /** The router's mesh port, guarded against containers on docker0. */
  meshPort: number;
  /** docker0 when it exists, with its first IPv4 address if it has one. */
  docker?: {ip?: string};
  /** With a password: the only networks plain VXLAN (UDP meshPort + 1) may come from. */
  overlaySources?: readonly string[];
}

export interface BaseRules {
  /** filter FORWARD rules kept in this order at the top of the chain. */
  forwardTop: Rule[];
  /** Rules appended once each: filter INPUT and nat POSTROUTING. */
  appended: Rule[];
  /** filter INPUT rules kept in this order at the top of the chain. */
  inputTop: Rule[];
  /** The content of OVERLAY_IN_CHAIN; undefined when VXLAN is accepted from anywhere. */
  overlayIn?: Rule[];
}

const filter = (chain: string, ...args: string[]): Rule => ({table: 'filter', chain, args});
const nat = (chain: string, ...args: string[]): Rule => ({table: 'nat', chain, args});

export function baseRules(spec: BaseRuleSpec): BaseRules {
  const br = spec.bridge;
  const forwardTop: Rule[] = [];
  const appended: Rule[] = [];
  if (spec.docker) {
    forwardTop.push(filter('FORWARD', '-i', DOCKER_BRIDGE, '-o', br, '-j', 'DROP'));
    const dst = spec.docker.ip;
    if (dst) {
      // Containers on docker0 must not reach the router's own ports.
      const port = String(spec.meshPort);
      const next = String(spec.meshPort + 1);
      appended.push(
        filter('INPUT', '-d', `${dst}/32`, '-i', DOCKER_BRIDGE, '-p', 'tcp', '-m', 'tcp', '--dport', port, '-j', 'DROP'),
        filter('INPUT', '-d', `${dst}/32`, '-i', DOCKER_BRIDGE, '-p', 'udp', '-m', 'udp', '--dport', port, '-j', 'DROP'),
        filter('INPUT', '-d', `${dst}/32`, '-i', DOCKER_BRIDGE, '-p', 'udp', '-m', 'udp', '--dport', next, '-j', 'DROP'),
      );
    }
    // DNS from containers to weaveDNS, which firewalls such as ufw would otherwise drop.
    appended.push(
      filter('INPUT', '-i', DOCKER_BRIDGE, '-p', 'udp', '-m', 'udp', '--dport', '53', '-j', 'ACCEPT'),
      filter('INPUT', '-i', DOCKER_BRIDGE, '-p', 'tcp', '-m', 'tcp', '--dport', '53', '-j', 'ACCEPT'),
    );
  }
  forwardTop.push(
    // Traffic across the bridge, even where a firewall (ufw) allows nothing by default.
    filter('FORWARD', '-i', br, '-o', br, '-j', 'ACCEPT'),
    filter('FORWARD', '-o', br, '-j', EXPOSE_CHAIN),
    filter('FORWARD', '-i', br, '!', '-o', br, '-j', 'ACCEPT'),
    filter('FORWARD', '-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'),
  );
  if (spec.httpPort !== undefined) appended.push(controlPortRule(spec.httpPort));
  appended.push(nat('POSTROUTING', '-j', NAT_CHAIN));
  if (!spec.overlaySources) return {forwardTop, appended, inputTop: []};
  return {forwardTop, appended, ...overlayGuard(spec.meshPort + 1, spec.overlaySources)};
}

/**
 * Fail closed on the way in too: with a password, VXLAN from outside the trusted subnets is
 * dropped before it reaches the device (the original dropped unencrypted VXLAN from its peers
 * in WEAVE-IPSEC-IN). At the top of INPUT, so that no earlier ACCEPT lets it by.
 */
function overlayGuard(port: number, sources: readonly string[]): Pick<BaseRules, 'inputTop' | 'overlayIn'> {
  return {
    inputTop: [filter('INPUT', '-p', 'udp', '-m', 'udp', '--dport', String(port), '-j', OVERLAY_IN_CHAIN)],
    // iptables-save writes a source of 0.0.0.0/0 as no source at all.
    overlayIn: [...sources.map(s => filter(OVERLAY_IN_CHAIN, ...(s === '0.0.0.0/0' ? [] : ['-s', s]), '-j', 'RETURN')), filter(OVERLAY_IN_CHAIN, '-j', 'DROP')],
  };
}

/** Drops remote packets sent to 127.0.0.1 (route_localnet tricks) for the control port. */
export function controlPortRule(port: number): Rule {
  return filter(
    'INPUT',
    ...['-d', '127.0.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', String(port), '-m', 'addrtype', '!', '--src-type', 'LOCAL'],
    ...['-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED', '-m', 'comment', '--comment', CONTROL_PORT_COMMENT, '-j', 'DROP'],
  );
}

/** Masquerading for an exposed network (skipped with skipNAT); `network` as networkText gives it. */
export function natRules(network: string): Rule[] {
  return [
    // Multicast from the weave network keeps its source address.
    nat(NAT_CHAIN, '-s', network, '-d', '224.0.0.0/4', '-j', 'RETURN'),
    nat(NAT_CHAIN, '!', '-s', network, '-d', network, '-j', 'MASQUERADE'),
    nat(NAT_CHAIN, '-s', network, '!', '-d', network, '-j', 'MASQUERADE'),
  ];
}

/** Lets forwarded traffic into an exposed network even under a FORWARD policy of DROP (Docker's). */
export function exposeAcceptRule(network: string): Rule {
  return filter(EXPOSE_CHAIN, '-d', network, '-j', 'ACCEPT');
}

/** The rule's text after `-A CHAIN`, quoted as iptables-save quotes it. */
export function ruleText(rule: Rule): string {
  return rule.args
    .map(arg => {
      // The text goes into an iptables-restore script: a line break or quote would change it.
      if (/[\n\r"\\]/.test(arg) || arg === '') throw new Error(`invalid iptables argument ${JSON.stringify(arg)}`);
      return /\s/.test(arg) ? `"${arg}"` : arg;
    })
    .join(' ');
}
