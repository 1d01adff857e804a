#!/usr/bin/env bash
# tests/engine/purity.sh: proves engine/ is a pure library (DESIGN.md, STYLE.md 1).
# Usage: purity.sh symbols LIBRARY     undefined symbols: libc memory/string (+ assert) and GMP only
#        purity.sh grep ENGINE_DIR     no clock, I/O, randomness or allocation calls in the sources
set -euo pipefail
mode=$1
arg=$2
case $mode in
symbols)
	command -v nm >/dev/null || { echo "purity: nm not found, skipping" >&2; exit 77; }
	defined=$(nm --defined-only "$arg" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u)
	undef=$(nm -u "$arg" 2>/dev/null | awk '{print $NF}' | grep -v ':$' | sort -u)
	bad=$(comm -23 <(echo "$undef") <(echo "$defined") |
		grep -Ev '^(malloc|realloc|free|memcpy|memmove|memset|memcmp|__assert_fail)$' |
		grep -Ev '^__gmp[nz]?_' |
		grep -Ev '^(__asan_|__ubsan_|__sanitizer_|__gcov_|__llvm_|__sancov_|__stack_chk_fail|_GLOBAL_OFFSET_TABLE_|__tsan_)' |
		grep -Ev '^$' || true)
	if [[ -n $bad ]]; then
		echo "purity: $arg needs symbols outside libc memory functions and GMP:" >&2
		echo "$bad" >&2
		exit 1
	fi
	echo "purity: $arg links only libc memory functions and GMP"
	;;
grep)
	# Calls a pure engine never makes. Allocation goes through the hook in
	# alloc.c only.
	pattern='\b(time|clock_gettime|gettimeofday|clock|read|write|pread|pwrite|open|openat|close|fopen|fread|fwrite|fprintf|printf|puts|send|sendto|sendmsg|recv|recvfrom|recvmsg|socket|connect|rand|srand|random|srandom|drand48|getrandom|getenv|sleep|usleep|nanosleep|abort|exit|malloc|calloc|realloc|free|mp_set_memory_functions)\('
	hits=$(grep -nE "$pattern" "$arg"/*.c "$arg"/*.h | grep -v "^$arg/alloc.c:.*\b\(malloc\|realloc\|free\)(" || true)
	if [[ -n $hits ]]; then
		echo "purity: forbidden calls in $arg:" >&2
		echo "$hits" >&2
		exit 1
	fi
	echo "purity: no clock, I/O, randomness or stray allocation in $arg"
	;;
*)
	echo "usage: $0 symbols LIB | grep DIR" >&2
	exit 2
	;;
esac
