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
made_varlib=0
made_data=0
[[ -d /var/lib/physalia-chaos ]] || made_varlib=1
[[ -d /var/lib/physalia ]] || made_data=1
cleanup() {
	bash "$here/machines.sh" down "$run" "$tmp/m" || true
	rm -rf "$tmp"
	((made_varlib)) && rmdir /var/lib/physalia-chaos 2>/dev/null || true
	((made_data)) && rmdir /var/lib/physalia 2>/dev/null || true
}
trap cleanup EXIT

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
exit $rc
