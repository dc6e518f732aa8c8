#!/usr/bin/env bash
# Installs what weave needs and builds it, on Debian 12 as root. Safe to run again: it only
# installs missing packages, and reinstalls node modules only when the lock file changed.
set -euo pipefail

cd "$(dirname "$0")/.."

# containerd and runc come with docker.io; named here because the CRI suite runs containerd itself.
# dnsutils (dig) and dnsmasq-base: the weaveDNS suite; dnsperf: bench/dns.ts; nftables (nft): the
# relay suite's LAN filter (iptables recommends it, named so a no-recommends install has it).
PACKAGES=(
  docker.io containerd runc iptables podman containernetworking-plugins iputils-ping busybox-static
  iperf3 hyperfine socat util-linux iproute2 curl zsh fish tcpdump openvpn build-essential python3
  shellcheck dnsutils dnsmasq-base dnsperf nftables
)

step() { printf '==> %s\n' "$*"; }
die() { printf 'install-deps: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root: it installs apt packages (sudo $0)"
command -v apt-get >/dev/null || die "apt-get not found: this script targets Debian 12"
command -v npm >/dev/null || die "npm not found: install Node.js 20 with npm first"

installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  export DEBIAN_FRONTEND=noninteractive
  # needrestart (recommended by docker.io) would try to ask, with no terminal to ask on.
  export NEEDRESTART_SUSPEND=1
  step "apt-get update"
  apt-get update -qq || die "apt-get update failed: check the network and /etc/apt/sources.list"
  step "apt-get install ${missing[*]}"
  apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed (see the messages above)"
else
  step "apt packages already installed"
fi

# npm writes node_modules/.package-lock.json on every install: older than the lock file means stale.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed (see the messages above)"
else
  step "node modules up to date"
fi

step "npm run build"
npm run --silent build || die "the TypeScript build failed (see the errors above)"

# Only the router's encrypted path needs the TAP addon: a failure warns and says how to fix it.
step "the TAP addon (native/)"
node native/install.cjs
