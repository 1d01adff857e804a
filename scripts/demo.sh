#!/usr/bin/env bash
# Sets up everything and runs physalia's main job.
# Until the chaos appliance (chaos/) lands, the main job is a short simulated
# colony run by physalia-sim; this script says which one it ran.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
if [[ -x build/release/chaos/physalia-chaos ]]; then
	exec build/release/chaos/physalia-chaos run --default "$@"
fi
if [[ -x build/release/tests/sim/physalia-sim ]]; then
	echo "demo: the chaos appliance is not built yet; running a simulated colony instead"
	exec build/release/tests/sim/physalia-sim --seeds 50 "$@"
fi
echo "demo: neither physalia-chaos nor physalia-sim is built yet in this commit" >&2
exit 2
