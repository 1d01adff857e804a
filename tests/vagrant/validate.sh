#!/usr/bin/env bash
# `vagrant validate` on the vagrant/ directories generated for the default
# rack model and a large one (grouped), plus what the generator wrote.
# Every generated node config is checked by physalia-node --check when the
# node is built.
# Usage: validate.sh PHYSALIA_VAGRANT SOURCE_DIR [PHYSALIA_NODE]
set -euo pipefail
bin=$1 src=$2 node=${3:-}
if ! command -v vagrant >/dev/null; then
	echo "SKIP: vagrant is not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
if ! git -C "$src" rev-parse HEAD >/dev/null 2>&1; then
	echo "SKIP: $src is not a git work tree (the generator ships a commit)"
	exit 77
fi
tmp=$(mktemp -d /tmp/ph-vagrant-validate-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export VAGRANT_HOME=$tmp/home VAGRANT_CHECKPOINT_DISABLE=1
fail() { echo "FAIL: $*" >&2; exit 1; }

for case in "default:--default" "large:--shape 3x12x8+2"; do
	name=${case%%:*} args=${case#*:}
	out=$tmp/$name
	# shellcheck disable=SC2086
	"$bin" vagrant $args -o "$out" --source "$src"
	for f in Vagrantfile provision.sh physalia-src.tar.gz COMMIT hosts.tsv README.md; do
		[[ -s $out/$f ]] || fail "$name: $f missing or empty"
	done
	[[ -x $out/provision.sh ]] || fail "$name: provision.sh not executable"
	cmp -s "$out/provision.sh" "$src/vagrant/provision.sh" || fail "$name: provision.sh differs from vagrant/provision.sh"
	[[ $(cat "$out/COMMIT") == $(git -C "$src" rev-parse HEAD) ]] || fail "$name: COMMIT is not HEAD"
	# Listed to a file first: grep -q closing the pipe early would kill tar
	# with SIGPIPE, which pipefail reports as a failure.
	tar -tzf "$out/physalia-src.tar.gz" >"$tmp/$name.list"
	grep -qx 'physalia/scripts/install-deps.sh' "$tmp/$name.list" ||
		fail "$name: the source archive lacks scripts/install-deps.sh"
	(cd "$out" && vagrant validate) || fail "$name: vagrant validate"
	nodes=$(awk -F'\t' 'NR > 1 && $5 ~ /node/' "$out/hosts.tsv" | wc -l)
	configs=$(find "$out/nodes" -name '*.yaml' | wc -l)
	((nodes == configs)) || fail "$name: $configs node configs for $nodes node hosts"
	if [[ -x $node ]]; then
		for c in "$out"/nodes/*.yaml; do
			"$node" --config "$c" --check >/dev/null || fail "$name: physalia-node refuses $c"
		done
		echo "$name: $configs node configs accepted by physalia-node --check"
	fi
	machines=$(grep -c '^  { name: ' "$out/Vagrantfile")
	hosts=$(($(wc -l <"$out/hosts.tsv") - 1))
	echo "$name: $machines machines for $hosts hosts: vagrant validate passed"
done
# A campaign and a rack model file as inputs (chaos's test data).
data=$src/tests/chaos/data
if [[ -f $data/proof.yaml && -f $data/colony7.yaml ]]; then
	"$bin" vagrant "$data/proof.yaml" -o "$tmp/campaign" --source "$src" >/dev/null
	cmp -s "$data/proof.yaml" "$tmp/campaign/campaign.yaml" || fail "campaign.yaml is not the campaign"
	"$bin" vagrant "$data/colony7.yaml" -o "$tmp/model" --source "$src" >/dev/null
	hosts=$(($(wc -l <"$tmp/model/hosts.tsv") - 1))
	((hosts == 10)) || fail "colony7.yaml: $hosts hosts, expected 10"
	echo "campaign and rack model inputs: written"
fi
if "$bin" vagrant "$tmp/default/Vagrantfile" -o "$tmp/neither" --source "$src" 2>"$tmp/err"; then
	fail "a Vagrantfile was taken for a rack model"
fi
grep -q "neither a campaign" "$tmp/err" || fail "no clear message for a bad input: $(cat "$tmp/err")"
# The generator refuses to overwrite.
if "$bin" vagrant --default -o "$tmp/default" --source "$src" 2>"$tmp/err"; then
	fail "overwrote an existing directory"
fi
grep -q "already exists" "$tmp/err" || fail "no clear message when the directory exists: $(cat "$tmp/err")"
echo "PASS"
