import {shellQuote} from './shell-quote.js';

/** The two names runtimes call weave by; each is a link to the launcher. */
export const PLUGIN_NAMES = ['weave-net', 'weave-ipam'] as const;

/** Versioned, so a runtime mid-call keeps its plugin while an upgrade installs the next one. */
export function launcherName(version: string): string {
  return `weave-plugin-${version}`;
}

export interface LauncherTarget {
  version: string;
  /** The node binary, absolute: runtimes call plugins with a PATH that may not hold node. */
  node: string;
  /** The cold plugin entry, which loads the plugin and nothing of the CLI. */
  entry: string;
  /** Where routers keep their warm CNI sockets (router --cni-socket-dir). */
  socketDir: string;
}

/** The CNI variables the shim forwards to the router (protocol: src/lib/router/cni/protocol.ts). */
const FORWARDED = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'];

/**
 * The warm path's client in Perl, which every Debian host has (perl-base is Essential): one
 * process with the readlink, the socket and the fallback built in, where the sh client forks
 * readlink and socat (~4 ms more per call here). Arguments: the name the plugin was called by,
 * the socket directory, then the cold command. Same protocol and fallback as the sh client.
 */
const PERL_CLIENT = String.raw`my ($name, $dir, @cold) = @ARGV;
delete $ENV{PERL_BADLANG};
my ($ns) = (readlink("/proc/self/ns/net") // "") =~ /(\d+)/;
my $sock = "$dir/cni-" . ($ns // "") . ".sock";
if (!-S $sock) { exec(@cold, $name) or die "weave: cannot run $cold[0]: $!\n" }
$SIG{PIPE} = "IGNORE";
undef $/;
my $conf = <STDIN> // "";
my $reply = "";
eval {
  local $SIG{ALRM} = sub { die };
  alarm 300;
  # AF_UNIX and SOCK_STREAM are 1 on Linux; a sockaddr_un is the family, then the path.
  socket(my $s, 1, 1, 0) or die;
  connect($s, pack("S a*", 1, $sock)) or die;
  my $req = "weave-cni 1\nPLUGIN=$name\n";
  $req .= "$_=" . ($ENV{$_} // "") . "\n" for qw(${FORWARDED.join(' ')});
  $req .= "\n" . $conf;
  while (length $req) { my $n = syswrite($s, $req) or die; substr($req, 0, $n) = "" }
  shutdown($s, 1);
  $reply = <$s> // "";
  alarm 0;
};
if ($reply =~ /\A([01])\n/) { print substr($reply, 2); exit $1 }
# No answer (the socket outlived its router), or the router asks us to: run the plugin here.
open(my $plugin, "|-", @cold, $name) or die "weave: cannot run $cold[0]: $!\n";
print $plugin $conf;
close $plugin;
exit($? & 127 ? 128 + ($? & 127) : $? >> 8);`;

/**
 * A POSIX sh shim. Warm path: when the router of this network namespace has its root-only
 * socket up, the call runs inside the router, with no Node start-up; the client is Perl when
 * the host has it, else socat. Cold path (no router, neither client, or nothing answering):
 * node on the plugin entry. Either way the plugin learns its name (weave-net or weave-ipam)
 * from $0, and the output and exit code are the plugin's own.
 */
export function launcherScript(target: LauncherTarget): string {
  const cold = `${shellQuote(target.node)} ${shellQuote(target.entry)}`;
  const node = `${cold} "$name"`;
  return [
    '#!/bin/sh',
    `# weave CNI plugin launcher, written by weave ${target.version} (weave setup); runs the plugin without the CLI`,
    'name=${0##*/}',
    // The plugin makes no TLS connections; extra CA certificates alone cost Node ~65 ms to load.
    'unset NODE_EXTRA_CA_CERTS NODE_OPTIONS',
    'if command -v perl >/dev/null 2>&1; then',
    // Perl warns on stderr about a locale the host lacks unless told not to.
    `  PERL_BADLANG=0 exec perl -e ${shellQuote(PERL_CLIENT)} -- "$name" ${shellQuote(target.socketDir)} ${cold}`,
    'fi',
    'ns=$(readlink /proc/self/ns/net 2>/dev/null); ns=${ns#*[}; ns=${ns%]}',
    `sock=${shellQuote(target.socketDir)}/cni-$ns.sock`,
    'if [ -S "$sock" ] && command -v socat >/dev/null 2>&1; then',
    "  NL='",
    "'",
    // Builtins only (no cat, no printf pipeline): every fork costs here.
    '  conf=; while IFS= read -r line; do conf=$conf$line$NL; done; conf=$conf$line',
    '  reply=$(socat -t 300 - "UNIX-CONNECT:$sock" 2>/dev/null <<EOF',
    'weave-cni 1',
    'PLUGIN=$name',
    ...FORWARDED.map(v => `${v}=$${v}`),
    '',
    '$conf',
    'EOF',
    ')',
    '  rc=${reply%%"$NL"*}; out=${reply#"$rc"}; out=${out#"$NL"}',
    '  case $rc in',
    `    0|1) [ -z "$out" ] || printf '%s\\n' "$out"; exit "$rc" ;;`,
    '  esac',
    '  # No answer (the socket outlived its router), or the router asks us to: run the plugin here.',
    `  printf '%s' "$conf" | ${node}`,
    '  exit $?',
    'fi',
    `exec ${node}`,
    '',
  ].join('\n');
}
