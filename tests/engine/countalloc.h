/* tests/engine/countalloc.h: a counting allocator for the engine's hook:
 * live blocks and bytes (for leak checks and footprints), and "fail the Nth
 * allocation" for fault sweeps. */
#ifndef PH_TEST_COUNTALLOC_H
#define PH_TEST_COUNTALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct countalloc {
	struct ph_allocator hook; /* pass &ca.hook to the engine */
	uint64_t calls;           /* allocations attempted (alloc + realloc) */
	uint64_t fail_at;         /* fail the call with this number (1-based); 0: never */
	unsigned fail_permille;   /* also fail this share of calls, at random */
	uint64_t rng;             /* seed for fail_permille */
	uint64_t failed;          /* failures injected */
	size_t live_blocks;
	size_t live_bytes;
	size_t peak_bytes;
};

void countalloc_init(struct countalloc *ca);

#endif
