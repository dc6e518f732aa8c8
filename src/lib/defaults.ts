/**
 * The project's defaults, once: the router's flags, the CLI, the CNI plugin and the launcher all
 * read them here. A leaf module (it imports nothing), so any folder may use it.
 */
export const DEFAULTS = {
  /** TCP port of the peer mesh; the sleeve uses it in UDP, VXLAN the next one up (6784). */
  port: 6783,
  ipallocRange: '10.32.0.0/12',
  httpAddr: '127.0.0.1:6784',
  statusAddr: '127.0.0.1:6782',
  dbPrefix: '/weavedb/weave',
  weaveBridge: 'weave',
  /** The original's default: leaves room for VXLAN and encryption headers inside a 1500-byte path. */
  mtu: 1376,
  connLimit: 200,
  logLevel: 'info' as const,
  cniSocketDir: '/run/weave',
  /** Seconds; well below the launcher's 110 s and kubelet's 2 minutes per runtime request. */
  cniIpamWait: 30,
  dnsDomain: 'weave.local.',
  dnsTtl: 1,
  dnsPort: 53,
  dnsFallbackTimeoutMs: 5000,
  resolvConf: '/etc/resolv.conf',
  /** weaveDNS listens on this bridge's address by default, as the original's script put it. */
  dockerBridge: 'docker0',
};

/** The IPAM id of the bridge's own addresses (`weave expose`). */
export const EXPOSE_ID = 'weave:expose';
