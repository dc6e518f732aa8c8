# The warm CNI path's client, run by the launcher `weave setup` installs (bin/weave-cni-launcher.sh)
# when perl is there (perl-base is Essential on Debian): one process, no forks, ~4 ms less per call
# than the launcher's socat client. It hands the call to the router of this network namespace over
# its root-only socket; wire format in src/lib/router/cni/protocol.ts.
#
# Arguments: the name the plugin was called by, the socket directory, then the cold command (node
# and the plugin entry), run when no router takes the call.
#
# The container's network namespace is handed over as a file descriptor this process holds open
# for the whole call: the router opens it as /proc/<our pid>/fd/<n>, so any path this host can
# open works, whatever the router's mount namespace holds (containerd's /var/run/netns/...,
# bind mounts under a runtime's state directory).
#
# Modules are left out on purpose (Socket, Fcntl, POSIX each cost milliseconds a call): the few
# constants are written out, and are the same on every Linux architecture.
use strict;

my ($name, $dir, @cold) = @ARGV;
delete $ENV{PERL_BADLANG};

sub run_cold {
  exec(@cold, $name) or die "weave: cannot run $cold[0]: $!\n";
}

my ($ns) = (readlink("/proc/self/ns/net") // "") =~ /(\d+)/;
my $sock = "$dir/cni-" . ($ns // "") . ".sock";
run_cold() unless -S $sock;

$SIG{PIPE} = "IGNORE";
my $conf = do { local $/; <STDIN> } // "";

# The call could not be given to the router: run the plugin here, with the config already read.
sub run_cold_with_conf {
  open(my $plugin, "|-", @cold, $name) or die "weave: cannot run $cold[0]: $!\n";
  print $plugin $conf;
  close $plugin;
  exit($? & 127 ? 128 + ($? & 127) : $? >> 8);
}

# The router took the call and then failed to answer: running it again here could do it twice.
sub try_again {
  my ($msg) = @_;
  my ($version) = $conf =~ /"cniVersion"\s*:\s*"(\d+\.\d+\.\d+)"/;
  $version //= "1.1.0";
  print qq({"cniVersion":"$version","code":11,"msg":"$msg","details":"the call may have been cut short; the runtime retries it (see the weave router's log: docker logs weave)"}\n);
  exit 1;
}

my %field = (PLUGIN => $name, CONFIG => $conf);
$field{$_} = $ENV{$_} // "" for qw(CNI_COMMAND CNI_CONTAINERID CNI_NETNS CNI_IFNAME CNI_ARGS CNI_PATH);
my $netns;
if ($field{CNI_NETNS} ne "") {
  # O_RDONLY | O_NONBLOCK (04000): a FIFO opens at once instead of waiting for a writer; the
  # router then finds it is no namespace.
  if (sysopen($netns, $field{CNI_NETNS}, 04000)) {
    my @st = stat($netns);
    $field{NETNS_HANDLE} = "/proc/$$/fd/" . fileno($netns);
    $field{NETNS_ID} = "$st[0]:$st[1]";
  } else {
    $field{NETNS_ERROR} = ($! + 0) . " $!";
  }
}

my $req = "weave-cni 2\n";
$req .= "$_ " . length($field{$_}) . "\n$field{$_}\n" for sort keys %field;
$req .= "END 0\n\n";

# The call runs only once the router is told "go": until then it may run here instead.
my $s;
my $first = eval {
  local $SIG{ALRM} = sub { die "timeout\n" };
  alarm 10;
  # AF_UNIX and SOCK_STREAM are 1 on Linux; a sockaddr_un is the family, then the path.
  socket($s, 1, 1, 0) or die;
  connect($s, pack("S a*", 1, $sock)) or die;
  while (length $req) { my $n = syswrite($s, $req) or die; substr($req, 0, $n) = "" }
  my $line = <$s> // die;
  syswrite($s, "go\n") == 3 or die if $line eq "ready\n";
  alarm 0;
  $line;
};
# A failure inside the eval skips its `alarm 0`: left armed, the alarm would kill the cold run below.
alarm 0;
# No router took the call (a stale socket, a router going away, one too busy to answer).
run_cold_with_conf() if !defined $first || $first eq "cold\n";

my $reply = $first;
if ($first eq "ready\n") {
  # The router bounds every call well below this (kubelet gives a runtime 2 minutes).
  $reply = eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 110;
    my $rest = do { local $/; <$s> } // "";
    alarm 0;
    $rest;
  } // "";
} else {
  # Refused before it began (a bad request): the answer follows at once.
  $reply .= do { local $/; <$s> } // "";
}
if ($reply =~ /\A([01])\n/) {
  print substr($reply, 2);
  exit $1;
}
try_again("the weave router stopped before it finished the call");
