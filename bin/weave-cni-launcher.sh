#!/bin/sh
# The weave CNI plugin launcher. `weave setup` installs this file into the CNI bin directory as
# weave-plugin-<version>, with weave-net and weave-ipam linked to it, and with these settings
# written in front of it:
#   WEAVE_NODE        the node binary (runtimes call plugins with a PATH that may lack node)
#   WEAVE_ENTRY       the cold plugin: the plugin alone, bundled, without the CLI
#   WEAVE_CNI_CLIENT  the warm path's Perl client (bin/weave-cni-client.pl)
#   WEAVE_SOCKET_DIR  where routers keep their root-only warm CNI sockets
#
# Warm path: when the router of this network namespace has its socket up, the call runs inside
# the router, with no Node start-up; the client is Perl when the host has it, else socat. Cold
# path (no router, no client, or no router taking the call): node on the plugin entry. Either way
# the plugin learns its name (weave-net or weave-ipam) from $0, and the output and exit code are
# the plugin's own. Wire format: src/lib/router/cni/protocol.ts.
: "${WEAVE_NODE:?}" "${WEAVE_ENTRY:?}" "${WEAVE_CNI_CLIENT:?}" "${WEAVE_SOCKET_DIR:?}"

name=${0##*/}
# The plugin makes no TLS connections; extra CA certificates alone cost Node ~65 ms to load.
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS

if command -v perl >/dev/null 2>&1; then
  # Perl warns on stderr about a locale the host lacks unless told not to.
  PERL_BADLANG=0 exec perl -- "$WEAVE_CNI_CLIENT" "$name" "$WEAVE_SOCKET_DIR" "$WEAVE_NODE" "$WEAVE_ENTRY"
fi

ns=$(readlink /proc/self/ns/net 2>/dev/null)
ns=${ns#*[}
ns=${ns%]}
sock=$WEAVE_SOCKET_DIR/cni-$ns.sock
if ! [ -S "$sock" ] || ! command -v socat >/dev/null 2>&1; then
  exec "$WEAVE_NODE" "$WEAVE_ENTRY" "$name"
fi

# ${#value} counts bytes, as the framing needs, only in the C locale.
LC_ALL=C
export LC_ALL
# The trailing x keeps the config's final newlines, which $(...) would strip.
conf=$(cat; echo x)
conf=${conf%x}

netns_handle=
netns_id=
netns_error=
if [ -n "$CNI_NETNS" ]; then
  # Only a regular file (what a namespace is to stat) is opened: a FIFO would block the open.
  # `command` keeps a failed redirection from ending the shell.
  # Anything else is left to the router to judge by its path.
  if [ -f "$CNI_NETNS" ] && command exec 3<"$CNI_NETNS"; then
    netns_handle=/proc/$$/fd/3
    netns_id=$(stat -L -c %d:%i "$netns_handle")
  elif ! [ -e "$CNI_NETNS" ]; then
    netns_error='2 No such file or directory'
  fi
fi

field() {
  printf '%s %s\n%s\n' "$1" "${#2}" "$2"
}

# "go" is sent at once: unlike the Perl client, this one cannot wait for "ready" first. So once
# socat has connected, the call may have begun, and is never run here again.
reply=$(
  {
    printf 'weave-cni 2\n'
    field CNI_ARGS "$CNI_ARGS"
    field CNI_COMMAND "$CNI_COMMAND"
    field CNI_CONTAINERID "$CNI_CONTAINERID"
    field CNI_IFNAME "$CNI_IFNAME"
    field CNI_NETNS "$CNI_NETNS"
    field CNI_PATH "$CNI_PATH"
    field CONFIG "$conf"
    [ -z "$netns_error" ] || field NETNS_ERROR "$netns_error"
    [ -z "$netns_handle" ] || field NETNS_HANDLE "$netns_handle"
    [ -z "$netns_id" ] || field NETNS_ID "$netns_id"
    field PLUGIN "$name"
    printf 'END 0\n\ngo\n'
  } | socat -T 110 - "UNIX-CONNECT:$sock" 2>/dev/null
  echo ":$?"
)
status=${reply##*:}
reply=${reply%:*}
NL='
'
case $reply in
  "cold$NL"*) ;;
  "ready$NL"[01]"$NL"* | [01]"$NL"*)
    reply=${reply#"ready$NL"}
    rc=${reply%%"$NL"*}
    out=${reply#"$rc$NL"}
    out=${out%"$NL"}
    [ -z "$out" ] || printf '%s\n' "$out"
    exit "$rc"
    ;;
  *)
    if [ "$status" = 0 ]; then
      version=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion"[[:space:]]*:[[:space:]]*"\([0-9]*\.[0-9]*\.[0-9]*\)".*/\1/p' | head -n 1)
      printf '{"cniVersion":"%s","code":11,"msg":"the weave router stopped before it finished the call","details":"the call may have been cut short; the runtime retries it (see the weave router'"'"'s log: docker logs weave)"}\n' "${version:-1.1.0}"
      exit 1
    fi
    ;;
esac
# No router took the call: run the plugin here.
printf '%s' "$conf" | "$WEAVE_NODE" "$WEAVE_ENTRY" "$name"
