/**
 * The variables weave 2.8.1's Kubernetes addon (prog/weave-kube/launch.sh) turned into router
 * flags, read here by the router process itself, so a DaemonSet written for the original keeps
 * its meaning. Only a variable set to a non-empty value counts: the addon's own defaults
 * (--expect-npc, --no-masq-local, metrics on 0.0.0.0:6782) belong to its manifest, not to a
 * router started by `weave launch` or by hand.
 */
const VARIABLES: readonly (readonly [variable: string, flags: (value: string) => string[]])[] = [
  ['IPALLOC_RANGE', v => [`--ipalloc-range=${v}`]],
  ['IPALLOC_INIT', v => [`--ipalloc-init=${v}`]],
  ['CONN_LIMIT', v => [`--conn-limit=${v}`]],
  ['DB_PREFIX', v => [`--db-prefix=${v}`]],
  ['HOST_ROOT', v => [`--host-root=${v}`]],
  ['WEAVE_HTTP_ADDR', v => [`--http-addr=${v}`]],
  ['WEAVE_STATUS_ADDR', v => [`--status-addr=${v}`]],
  ['WEAVE_METRICS_ADDR', v => [`--metrics-addr=${v}`]],
  ['WEAVE_MTU', v => [`--mtu=${v}`]],
  ['WEAVE_NO_FASTDP', () => ['--no-fastdp']],
  // The addon's switches: "0" turns them off, anything else on.
  ['EXPECT_NPC', v => (v === '0' ? [] : ['--expect-npc'])],
  ['NO_MASQ_LOCAL', v => (v === '0' ? [] : ['--no-masq-local'])],
];

/** An unquoted shell expansion: split on blanks, quotes kept as they are. */
const words = (value: string | undefined) => (value ?? '').split(/[ \t\n]+/).filter(Boolean);

/**
 * The router's words as the addon laid them out: EXTRA_ARGS, then the variables' flags, then
 * the command line, then KUBE_PEERS. The last occurrence of a flag wins, so a flag on the command
 * line beats its variable, which beats the same flag in EXTRA_ARGS.
 */
export function routerWords(argv: readonly string[], env: Record<string, string | undefined>): string[] {
  const fromVariables = VARIABLES.flatMap(([name, flags]) => (env[name] ? flags(env[name]) : []));
  return [...words(env.EXTRA_ARGS), ...fromVariables, ...argv, ...words(env.KUBE_PEERS)];
}
