#!/usr/bin/env bash
# Model-check tests/spec/cell.pml with spin, exhaustively.
# Usage: check.sh MODEL pass|fail [-DNAME=VALUE ...]
#   pass: spin must finish the whole state space with no error.
#   fail: spin must find an assertion violation (a deliberately broken
#         variant of the model: the test shows the model can fail).
# Exit 0 on the expected outcome, 1 otherwise, 77 (skip) without spin or cc.
set -euo pipefail
model=$1
expect=$2
shift 2
for tool in spin cc; do
	if ! command -v "$tool" >/dev/null; then
		echo "check.sh: $tool not found; skipping (install Debian's spin package)" >&2
		exit 77
	fi
done
work=$(mktemp -d "${TMPDIR:-/tmp}/ph-spec.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$model" "$work/cell.pml"
cd "$work"
echo "spin -a $* cell.pml"
spin -a "$@" cell.pml >spin.out 2>&1 || { cat spin.out; echo "check.sh: spin -a failed" >&2; exit 1; }
# SAFETY: assertions only (the model has no liveness claims); COLLAPSE:
# compressed state storage, still exhaustive (no bitstate hashing).
cc -O2 -DSAFETY -DNOREDUCE -DCOLLAPSE -w -o pan pan.c
set +e
./pan -m200000 >pan.out 2>&1
set -e
grep -E 'assertion violated|errors:|states, stored|elapsed time|Search not completed|max search depth' pan.out || true
errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out)
if [[ -z $errors ]]; then
	cat pan.out
	echo "check.sh: pan printed no error count" >&2
	exit 1
fi
case $expect in
pass)
	if [[ $errors -ne 0 ]] || grep -q 'Search not completed\|max search depth too small\|out of memory' pan.out; then
		cat pan.out
		[[ -f cell.pml.trail ]] && spin -t -p -g "$@" cell.pml | tail -80
		echo "check.sh: FAIL: the model has an error or the search was incomplete" >&2
		exit 1
	fi
	echo "check.sh: ok: exhaustive search, no violation"
	;;
fail)
	if [[ $errors -eq 0 ]] || ! grep -q 'assertion violated' pan.out; then
		cat pan.out
		echo "check.sh: FAIL: spin accepted a model with a deliberate bug ($*)" >&2
		exit 1
	fi
	echo "check.sh: ok: spin rejects the broken variant ($*)"
	;;
*)
	echo "check.sh: expect must be pass or fail, not '$expect'" >&2
	exit 1
	;;
esac
