#!/bin/sh
# A CNI plugin that records what the runtime passed it, then is Debian's reference `bridge`:
# one line per call, tab-separated, appended to cni-env.log beside this file. It runs bridge
# with the same environment and stdin, so the runtime sees bridge's own result.
log="${0%/*}/cni-env.log"
printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" "$CNI_PATH" >>"$log"
exec /usr/lib/cni/bridge
