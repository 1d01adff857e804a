#!/usr/bin/env bash
# vagrant/provision.sh on this machine, as the VMs run it, twice:
#  - it runs the project's install-deps.sh, installs physalia-node from the
#    commit (a binary built from it, or built from its source archive with
#    --from-source), and starts the node under supervision (start-stop-daemon
#    and the restart loop: systemd is not PID 1 here);
#  - the second run changes nothing: same commit, same node process;
#  - the supervisor restarts a node killed with SIGKILL;
#  - --stop-node stops node and supervisor; nothing is left behind.
# The node listens on loopback only. Usage:
#   provision_test.sh SOURCE_DIR PHYSALIA_NODE [--from-source]
set -euo pipefail
src=$1 node=${2:-} mode=${3:-binary}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "provision.sh runs as root (it installs packages and binaries)"
command -v start-stop-daemon >/dev/null || skip "start-stop-daemon (dpkg) is not installed"
git -C "$src" rev-parse HEAD >/dev/null 2>&1 || skip "$src is not a git work tree"
[[ $mode == --from-source || -x $node ]] || skip "physalia-node is not built in this tree"
[[ -d /run/systemd/system ]] && skip "systemd is PID 1 here: this test covers the supervise path"

tmp=$(mktemp -d /tmp/ph-vagrant-provision-XXXXXX)
state=$tmp/state prefix=$tmp/prefix
cleanup() {
	# Stop what the test started, by its pid files only.
	if [[ -f $state/run/supervise.pid ]]; then
		start-stop-daemon --stop --quiet --oknodo --pidfile "$state/run/supervise.pid" \
			--retry TERM/10/KILL/5 || true
	fi
	if [[ -f $state/run/node.pid ]]; then
		kill -KILL "$(cat "$state/run/node.pid")" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT

commit=$(git -C "$src" rev-parse HEAD)
git -C "$src" archive --format=tar.gz --prefix=physalia/ -o "$tmp/src.tar.gz" "$commit"
base=$((20000 + $$ % 20000))
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$tmp/node.yaml" <<YAML
node_id: 1
listen: {peers: 127.0.0.1:$base, clients: 127.0.0.1:$((base + 1))}
data_dir: $tmp/data
keys: {current: $key}
peers:
  - {id: 1, peer: 127.0.0.1:$base, client: 127.0.0.1:$((base + 1))}
YAML

args=(--src "$tmp/src.tar.gz" --commit "$commit" --prefix "$prefix" --state "$state"
	--etc "$tmp/etc" --node-config "$tmp/node.yaml" --start-node "$tmp/etc/node.yaml"
	--supervisor supervise)
[[ $mode == --from-source ]] || args+=(--binary "$node")

# Polls (bounded) until the node log holds at least n start lines.
wait_started() {
	local n=$1 i
	for ((i = 0; i < 200; i++)); do
		if [[ -f $state/node.log ]] && (($(grep -c 'event=start' "$state/node.log") >= n)); then
			return 0
		fi
		sleep 0.1
	done
	fail "the node did not log its start #$n: $(tail -5 "$state/node.log" 2>/dev/null)"
}

echo "== first run"
bash "$src/vagrant/provision.sh" "${args[@]}" | tee "$tmp/run1"
grep -q "physalia $commit installed in $prefix" "$tmp/run1" || fail "first run did not install"
grep -q "node started (supervise" "$tmp/run1" || fail "first run did not start the node"
cmp -s "$tmp/node.yaml" "$tmp/etc/node.yaml" || fail "the node config was not installed"
[[ $(cat "$prefix/share/physalia/COMMIT") == "$commit" ]] || fail "COMMIT not recorded"
[[ -x $prefix/sbin/physalia-node ]] || fail "physalia-node not installed in sbin"
wait_started 1
pid1=$(cat "$state/run/node.pid")
kill -0 "$pid1" || fail "node pid $pid1 is not running"
[[ $(readlink "/proc/$pid1/exe") == "$prefix/sbin/physalia-node" ]] || fail "pid $pid1 is not the installed node"
# It serves clients on its address.
exec 3<>"/dev/tcp/127.0.0.1/$((base + 1))" || fail "node does not accept clients"
exec 3>&-

echo "== second run (must change nothing)"
bash "$src/vagrant/provision.sh" "${args[@]}" | tee "$tmp/run2"
grep -q "already installed" "$tmp/run2" || fail "second run reinstalled"
grep -q "node config unchanged" "$tmp/run2" || fail "second run rewrote the node config"
grep -q "node already running" "$tmp/run2" || fail "second run did not see the running node"
[[ $(cat "$state/run/node.pid") == "$pid1" ]] || fail "second run restarted the node"
(($(grep -c 'event=start' "$state/node.log") == 1)) || fail "the node started twice"

echo "== supervision: kill -9 the node"
kill -KILL "$pid1"
wait_started 2
pid2=$(cat "$state/run/node.pid")
[[ $pid2 != "$pid1" ]] && kill -0 "$pid2" || fail "the supervisor did not restart the node"
grep -q "exited with status 137" "$state/node.log" || fail "the supervisor did not log the kill"

echo "== a changed config restarts it"
sed -i 's/^node_id: 1$/node_id: 1\nlog_level: debug/' "$tmp/node.yaml"
bash "$src/vagrant/provision.sh" "${args[@]}" | tee "$tmp/run3"
grep -q "node started (supervise" "$tmp/run3" || fail "a changed config did not restart the node"
wait_started 3

echo "== --stop-node"
sup=$(cat "$state/run/supervise.pid")
pid3=$(cat "$state/run/node.pid")
bash "$src/vagrant/provision.sh" --stop-node --state "$state" --prefix "$prefix" --supervisor supervise
for p in "$sup" "$pid3"; do
	for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && fail "pid $p still running after --stop-node"
done
echo "PASS"
