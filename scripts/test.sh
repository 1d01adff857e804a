#!/usr/bin/env bash
# Sets up everything and runs physalia's tests in the debug, ASan+UBSan and
# release builds. Exit status 0 only if every test in every build passed.
# Usage: bash scripts/test.sh [ctest args, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
passed=0
failed=0
for flavour in debug asan release; do
	bash scripts/build.sh "$flavour"
	log="build/$flavour/ctest.log"
	set +e
	# Namespace tests share the machine's netfilter tables: RESOURCE_LOCK
	# serializes them, the rest run two at a time.
	(cd "build/$flavour" && ctest --output-on-failure -j2 "$@") 2>&1 | tee "$log"
	set -e
	p=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' "$log")
	if [[ -z $p ]]; then
		echo "test.sh: ctest printed no summary for $flavour" >&2
		failed=$((failed + 1))
		continue
	fi
	read -r f total <<<"$p"
	passed=$((passed + total - f))
	failed=$((failed + f))
done
echo "tests: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
