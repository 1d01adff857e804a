#!/usr/bin/env bash
# The ssh backend for real, without VMs: a generated vagrant/ directory
# (1 row, 3 racks, a node and a client host per rack) brought up by
# machines.sh as namespaces with an sshd each and provisioned by
# provision.sh; test_vagrant_ssh runs in the controller's namespace; then
# everything is removed and the test checks nothing is left.
# Usage: ssh_test.sh PHYSALIA_VAGRANT SOURCE_DIR TEST_VAGRANT_SSH UDPPROBE PHYSALIA_CHAOS
#                    [PHYSALIA_NODE PHYSALIA]
set -euo pipefail
bin=$1 src=$2 testbin=$3 probe=$4 chaos=$5 node=${6:-} cli=${7:-}
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, sshd)"
[[ -x /usr/sbin/sshd ]] || skip "openssh-server is not installed (scripts/install-deps.sh installs it)"
command -v ssh >/dev/null || skip "openssh-client is not installed"
command -v ruby >/dev/null || skip "ruby (vagrant's) is not installed: it reads the Vagrantfile"
[[ -x $chaos ]] || skip "physalia-chaos is not built in this tree (its NFQUEUE engine is needed)"
git -C "$src" rev-parse HEAD >/dev/null 2>&1 || skip "$src is not a git work tree"
probe_ns=phvprobe$$
ip netns add "$probe_ns" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "$probe_ns"

run=phv$(($$ % 100000))
tmp=$(mktemp -d /tmp/ph-vagrant-ssh-XXXXXX)
cleanup() {
	bash "$here/machines.sh" down "$run" "$tmp/m" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT

"$bin" vagrant --shape 1x3x1+1 -o "$tmp/vagrant" --source "$src" >/dev/null
bash "$here/machines.sh" up "$run" "$tmp/m" "$tmp/vagrant" "$src/vagrant/provision.sh"
echo "machines: $(wc -l <"$tmp/m/namespaces.txt") namespaces with sshd, provisioned"
rc=0
PH_PROVISION=$src/vagrant/provision.sh PH_NODE=$node PH_CLI=$cli \
	ip netns exec "$run-ctl" "$testbin" "$tmp/m" "$tmp/vagrant" "$probe" "$chaos" || rc=$?
bash "$here/machines.sh" down "$run" "$tmp/m"
left=$(ip netns list | awk '{print $1}' | grep -c "^$run-" || true)
if ((left != 0)); then
	echo "FAIL: $left namespaces of $run left behind" >&2
	exit 1
fi
for p in "$tmp"/m/sshd-*.pid; do
	[[ -f $p ]] || continue
	if kill -0 "$(cat "$p")" 2>/dev/null; then
		echo "FAIL: sshd $(cat "$p") left running" >&2
		exit 1
	fi
done
((rc == 0)) || exit $rc

# Grouped machines (one per rack's hosts): provision.sh adds the other hosts'
# addresses; hops stay ToR, spine, ToR across racks, and the hosts of one
# machine reach each other inside it.
"$bin" vagrant --shape 1x3x1+1 --max-vms 1 -o "$tmp/grouped" --source "$src" >/dev/null
bash "$here/machines.sh" up "$run" "$tmp/g" "$tmp/grouped" "$src/vagrant/provision.sh"
ns_of() { awk -v m="$1" '$1 == m {print $2}' "$tmp/g/namespaces.txt"; }
addr_of() { awk -F'\t' -v h="$1" '$1 == h {print $6}' "$tmp/grouped/hosts.tsv"; }
m1=$(ns_of rack1-hosts) m2=$(ns_of rack2-hosts)
[[ -n $m1 && -n $m2 ]] || { echo "FAIL: grouped machines missing" >&2; exit 1; }
addrs=$(ip -n "$m2" -o -4 addr show dev eth1)
[[ $addrs == *" $(addr_of r2-c1)/32 "* ]] ||
	{ echo "FAIL: r2-c1's address is not on rack2-hosts: $addrs" >&2; exit 1; }
ip netns exec "$m2" "$probe" echo "$(addr_of r2-c1)" 7000 >/dev/null &
echo_pid=$!
probe_at() { # FROM-NS SRC DST TTL -> replies
	for ((i = 0; i < 50; i++)); do # the echo binds first (bounded)
		out=$(ip netns exec "$1" "$probe" ping "$2" "$3" 7000 10 "$4" 300)
		[[ $4 -lt 4 || $out != "sent 10 received 0" ]] && break
	done
	echo "${out##* }"
}
g3=$(probe_at "$m1" "$(addr_of r1-n1)" "$(addr_of r2-c1)" 3)
g4=$(probe_at "$m1" "$(addr_of r1-n1)" "$(addr_of r2-c1)" 4)
local_=$(probe_at "$m2" "$(addr_of r2-n1)" "$(addr_of r2-c1)" 1)
kill "$echo_pid" 2>/dev/null || true
wait "$echo_pid" 2>/dev/null || true
bash "$here/machines.sh" down "$run" "$tmp/g"
echo "grouped: TTL 3 -> $g3, TTL 4 -> $g4 replies across racks; same machine TTL 1 -> $local_"
if [[ $g3 != 0 || $g4 != 10 || $local_ != 10 ]]; then
	echo "FAIL: grouped layout hops" >&2
	exit 1
fi
left=$(ip netns list | awk '{print $1}' | grep -c "^$run-" || true)
((left == 0)) || { echo "FAIL: $left namespaces of $run left behind" >&2; exit 1; }
exit 0
