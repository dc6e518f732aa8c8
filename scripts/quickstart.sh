#!/usr/bin/env bash
# Quick start, the main job: install weave (the `weave` command, from the package this checkout
# builds), `weave setup` (CNI plugin into /opt/cni/bin and /etc/cni/net.d, router image built
# locally), `weave launch` (the router in Docker), then containers on the weave network with
# podman, addresses from weave IPAM, and `weave status`.
# Run as root on Debian 12; safe to run again (a running router is kept).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD

CNI_BIN_DIR=/opt/cni/bin
CNI_CONF_DIR=/etc/cni/net.d
REFERENCE_PLUGINS=/usr/lib/cni
# Podman's config: kept in the (gitignored) repo tmp/, so nothing under /etc changes beyond
# what `weave setup` installs.
STATE=$REPO/tmp/quickstart
IMAGE=localhost/weave-demo:busybox
DEMO=(weave-demo-1 weave-demo-2)

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nquickstart: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root: it installs packages and the CNI plugin (sudo $0)"

step "installing dependencies and building weave"
bash scripts/install-deps.sh

step "installing the weave command: npm pack, then npm install -g of the package (as on any host)"
mkdir -p "$STATE"
rm -f "$STATE"/weave-net-*.tgz
# install-deps.sh has just built dist/ and the TAP addon: no second build (prepack) here.
tarball=$(npm pack --ignore-scripts --silent --pack-destination "$STATE") || die "npm pack failed (see above)"
# The package ships its TAP addon; no install script is needed (npm 11 would ask to approve it).
npm install -g --ignore-scripts --no-audit --no-fund --loglevel=error "$STATE/$tarball" ||
  die "npm install -g $STATE/$tarball failed (see above)"
hash -r
command -v weave >/dev/null || die "npm installed weave into $(npm prefix -g)/bin, which is not on PATH: add it"
echo "installed $(command -v weave) -> $(npm root -g)/weave-net"
weave version

step "starting the Docker engine"
bash scripts/start-dockerd.sh

step "weave setup --cni-bin-dir $CNI_BIN_DIR --cni-conf-dir $CNI_CONF_DIR (the CNI plugin, and the router image, built here: no registry needed)"
# A fresh machine has neither directory, and `weave setup` only installs into existing ones.
mkdir -p "$CNI_BIN_DIR" "$CNI_CONF_DIR"
# Runtimes look for these beside weave-net: the weave conflist chains portmap (hostPort), and
# containerd's CRI plugin brings up every pod's lo with loopback before the weave network.
for plugin in portmap loopback; do
  if [[ ! -e $CNI_BIN_DIR/$plugin ]]; then
    ln -s "$REFERENCE_PLUGINS/$plugin" "$CNI_BIN_DIR/$plugin"
    echo "linked $CNI_BIN_DIR/$plugin -> $REFERENCE_PLUGINS/$plugin"
  fi
done
weave setup --cni-bin-dir "$CNI_BIN_DIR" --cni-conf-dir "$CNI_CONF_DIR"
for f in "$CNI_BIN_DIR/weave-net" "$CNI_BIN_DIR/weave-ipam" "$CNI_CONF_DIR/10-weave.conflist"; do
  [[ -e $f ]] || die "weave setup did not install $f (see its output above)"
done

if weave status >/dev/null 2>&1; then
  step "weave is already running: keeping it"
else
  step "weave launch (the router in a container)"
  weave launch || die "weave launch failed (its message above says why)"
fi

# Podman reads this instead of /etc/containers/containers.conf; without each line it fails in
# this sandbox (ulimits runc cannot set, no systemd for cgroups or events).
cat >"$STATE/containers.conf" <<EOF
[containers]
default_ulimits = []
[network]
network_backend = "cni"
cni_plugin_dirs = ["$CNI_BIN_DIR", "$REFERENCE_PLUGINS"]
network_config_dir = "$CNI_CONF_DIR"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF=$STATE/containers.conf

rootfs=''
# --time 0: `sleep` as pid 1 ignores SIGTERM. Removal runs the plugin's DEL.
cleanup() {
  podman rm --force --time 0 --ignore "${DEMO[@]}" >/dev/null 2>&1 || true
  [[ -z $rootfs ]] || rm -rf "$rootfs"
}
trap cleanup EXIT

if [[ -z $(podman images --quiet "$IMAGE") ]]; then
  step "building $IMAGE from busybox-static (no registry needed)"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin"
  cp /bin/busybox "$rootfs/bin/busybox"
  # Inside the chroot the applet links point at /bin/busybox, the path the container sees.
  chroot "$rootfs" /bin/busybox --install -s /bin
  tar -C "$rootfs" -c . | podman import --quiet - "$IMAGE" >/dev/null || die "podman import of $IMAGE failed (see above)"
fi

# Left over from an interrupted run.
cleanup

for name in "${DEMO[@]}"; do
  step "starting container $name on the weave network"
  podman run --detach --name "$name" --network weave "$IMAGE" sleep 600 >/dev/null ||
    die "podman could not start $name on the weave network (the plugin's message above names the cause)"
  podman exec "$name" ip -4 addr show dev eth0
done

first=$(podman inspect --format '{{(index .NetworkSettings.Networks "weave").IPAddress}}' "${DEMO[0]}")
[[ -n $first ]] || die "${DEMO[0]} got no address on the weave network"

step "${DEMO[1]} pings ${DEMO[0]} ($first) across the weave bridge"
podman exec "${DEMO[1]}" ping -c 3 -w 5 "$first" || die "${DEMO[1]} cannot reach ${DEMO[0]} at $first"

step "weave status"
weave status
step "weave ps"
weave ps

step "removing the demo containers (their addresses go back to weave IPAM)"
cleanup

cat <<EOF

weave quick start done: \`weave\` is $(command -v weave), the router runs (docker ps: weave), the plugin
is in $CNI_BIN_DIR, the network config in $CNI_CONF_DIR/10-weave.conflist. Try \`weave status\`,
\`weave ps\`, \`weave --help\`. Run your own container on the weave network:
  CONTAINERS_CONF=$STATE/containers.conf podman run --rm --network weave $IMAGE ip -4 addr show eth0
EOF
