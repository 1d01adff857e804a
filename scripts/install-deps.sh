#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of physalia from
# Debian 12's packages. Idempotent: run it as often as you like.
# Usage: bash scripts/install-deps.sh [--no-optional]
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: must run as root (it calls apt-get)" >&2
	exit 2
fi

# Build: compiler, cmake and the libraries the modules link.
build=(build-essential cmake pkg-config clang libclang-rt-14-dev
	libgmp-dev libuv1-dev libsqlite3-dev libsodium-dev libfyaml-dev
	libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libnl-genl-3-dev
	libpcap-dev check)
# Tests: namespaces and netfilter, the model checker, packet dissection,
# fault injection, a browser for the report test.
tests=(iproute2 iptables nftables sqlite3 spin tshark libfiu-dev fiu-utils
	faketime libfaketime chromium procps psmisc vagrant vagrant-libvirt openssh-server openssh-client)
# Benchmarks: the peers we measure against.
bench=(golang-go etcd-server etcd-client)

want=("${build[@]}" "${tests[@]}")
[[ ${1:-} == --no-optional ]] || want+=("${bench[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "install-deps: all ${#want[@]} packages already installed"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# etcd-server starts a system etcd on install; benchmarks run their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
	systemctl stop etcd || true
fi
pkill -x etcd 2>/dev/null || true
# openssh-server, when this run installed it, may have started a system sshd;
# the vagrant tests run their own inside namespaces. An sshd that was there
# before is left alone.
if [[ " ${missing[*]} " == *" openssh-server "* ]] && command -v systemctl >/dev/null &&
	systemctl is-active --quiet ssh 2>/dev/null; then
	systemctl disable --now ssh || true
fi
echo "install-deps: done"
