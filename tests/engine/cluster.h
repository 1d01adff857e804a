/* tests/engine/cluster.h: an in-memory cluster of cell replicas, for tests.
 *
 * n replicas of one cell, each with a simulated disk (a record store that
 * upserts by (kind, slot) and honours TRUNCATE) and an outbox. Everything is
 * driven by one seeded generator, so a seed replays exactly:
 *   - messages are delivered in random order, some lost, some duplicated;
 *   - a replica's records become durable only when its disk syncs (at a random
 *     later moment); messages and replies flagged after_durable leave only
 *     then; a crash loses unsynced records and held messages, and the replica
 *     restarts from its disk by ph_cell_load;
 *   - clients send transactions (increment of c<client>, put s<client> = seq)
 *     to the replica they believe leads, retry with the same seq on timeout,
 *     busy or not-leader.
 * After every step: no two replicas know different values chosen at one slot.
 * Checks (cl_check): every replica applied the same transitions in the same
 * order (slot, index, client, seq, outcome), all replicas' states are equal,
 * every acknowledged commit is in the final state, and no (client, seq)
 * committed twice. The simulator (tests/sim) grows out of this. */
#ifndef PH_TEST_CLUSTER_H
#define PH_TEST_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct cl_opts {
	size_t n;                /* replicas, 3..9 */
	uint64_t seed;
	unsigned loss_pct;       /* messages lost at send, percent */
	unsigned dup_pct;        /* messages duplicated, percent */
	unsigned crash_permille; /* per sim millisecond, chance one replica crashes */
	unsigned partition_permille; /* per sim ms, chance one replica is cut off for 0.1-1 s */
	unsigned sync_pct;       /* per scheduling round, chance a disk syncs (0: 10) */
	size_t clients;          /* 1..PH_DEDUP_MAX */
	size_t target;           /* stop after this many acknowledged commits */
	int planted_bug;         /* only with ph_engine_planted */
	unsigned alpha;          /* 0: default */
	unsigned max_batch;      /* 0: default */
	const struct ph_allocator *alloc; /* for every cell, may be NULL */
	unsigned alloc_fail_permille; /* with alloc NULL: cells' allocations fail at
				       * random; a failed step counts as a lost event */
};

struct cl_stats {
	size_t acked;       /* commits acknowledged to clients */
	size_t ignored;     /* ignored answers */
	size_t busy;        /* busy answers */
	size_t not_leader;
	size_t retries;
	size_t delivered;   /* messages */
	size_t crashes;
	size_t steps;       /* ph_cell_step calls */
	uint64_t sim_ms;    /* simulated time */
	size_t max_slot;
	size_t enomem;      /* steps that failed for memory (alloc_fail_permille) */
};

struct cl_cluster;

/* 0, or a PH_E* code from ph_cell_new (the message in err). */
int cl_new(const struct cl_opts *o, struct cl_cluster **out);
void cl_free(struct cl_cluster *cl);
/* Run until `target` commits are acknowledged (or max_ms of simulated time
 * passed), then heal the network and run until every replica has applied
 * the same prefix. 0, or -1 with a message in err (size errlen). */
int cl_run(struct cl_cluster *cl, uint64_t max_ms, char *err, size_t errlen);
/* The invariants above; 0 or -1 with a message. */
int cl_check(struct cl_cluster *cl, char *err, size_t errlen);
void cl_stats(const struct cl_cluster *cl, struct cl_stats *out);
/* Submit one request as client `client` (any id above opts.clients) to
 * replica `to` (SIZE_MAX: whichever leads, electing one first), and run the
 * cluster until its answer comes back (bounded). 0 with *out (result copied to
 * res, cap bytes; out->result points there), or -1. */
int cl_submit(struct cl_cluster *cl, size_t to, uint64_t client, uint64_t seq, int consistency,
	      uint64_t token, const uint8_t *txn, size_t len, struct ph_reply *out, uint8_t *res,
	      size_t cap);
/* Deliver everything in flight, sync every disk, advance ms of time. */
void cl_settle(struct cl_cluster *cl, uint64_t ms);
/* The wake time replica i asked for in its last update (0: no timer). */
ph_time cl_wake(struct cl_cluster *cl, size_t i);
/* Cut replica i off the network for ms of simulated time. */
void cl_isolate(struct cl_cluster *cl, size_t i, uint64_t ms);
/* Index of the leader, or SIZE_MAX. */
size_t cl_leader(struct cl_cluster *cl);
/* The cell of replica i (0-based), for inspection. */
struct ph_cell *cl_cell(struct cl_cluster *cl, size_t i);

#endif
