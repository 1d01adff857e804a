/* The explorer: a model checker over the real engine (PHYSALIA.md 6,
 * "exhaustive packet-loss and reordering tests", after TLC).
 *
 * For a small cell and a bounded scenario it searches, breadth first, every
 * order in which in-flight messages can be delivered (a message never
 * delivered is a lost one, so every subset of losses is covered), duplicate
 * deliveries up to a bound, disk completions in every order relative to the
 * rest, timer firings up to a bound (elections, proposer changes,
 * retransmissions), client requests and retries to any replica, and
 * crash/restart of replicas at every point.  States are de-duplicated by a
 * hash of every replica's full state (ph_cell_state_hash) plus disks,
 * held and in-flight messages and the bounds used; the sim_check.h
 * invariants run at every state.  Breadth first, so a violation comes with
 * the shortest event sequence that reaches it, printed so that
 * `physalia-explore --replay SEQ` re-runs it. */
#ifndef PH_TESTS_EXPLORE_H
#define PH_TESTS_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ex_cfg {
	int replicas;      /* 3 or 5 */
	int clients;       /* each sends one transaction (1..3) */
	int max_timeouts;  /* timer firings, over all replicas */
	int max_crashes;   /* crashes (each may be followed by a restart) */
	int max_dups;      /* duplicate deliveries */
	int max_sends;     /* sends of each client's request (1 = no retry) */
	int max_depth;     /* 0: no bound */
	/* Reordering and loss.  reorder < 0: every order, and a message never
	 * delivered is a lost one (every subset of losses).  reorder = K >= 0:
	 * a replica may receive any of the K+1 oldest messages addressed to it,
	 * and at most max_losses of those are dropped explicitly; the space is
	 * then far smaller (K = 0: FIFO links with losses). */
	int reorder;
	int max_losses;
	/* Eager disks: every batch becomes durable right after the event that
	 * wrote it (no interleaving of disk completions; crashes then happen
	 * only between events, with everything written durable). */
	bool eager_disk;
	uint64_t max_states; /* 0: no bound */
	bool por;          /* sleep-set partial-order reduction */
	int planted_bug;
	bool verbose;
	/* Events (the --replay syntax) that lead to the scenario's start, e.g.
	 * "t1 k1 d0 k2 d1": node 1 elected. Replayed before the search; the
	 * bounds above count only events after it. NULL: the initial world. */
	const char *prefix;
};
void ex_cfg_init(struct ex_cfg *c);

struct ex_result {
	uint64_t states, transitions, replay_steps;
	uint64_t reexpanded; /* states expanded again for a smaller sleep set */
	int depth;
	bool exhausted;
	bool violated;
	char violation[600];
	char sequence[4096]; /* the shortest sequence, --replay syntax */
	int seq_len;
	double seconds;
};

/* Runs the search. 0, or -1 when the initial world cannot be built
 * (message on stderr). */
int ex_explore(const struct ex_cfg *cfg, struct ex_result *res, FILE *log);
/* Re-runs one sequence (the --replay syntax), printing each event to out.
 * 0 and *violated set accordingly, or -1 for a sequence that does not parse
 * or names an event not enabled. */
int ex_replay(const struct ex_cfg *cfg, const char *seq, FILE *out, bool *violated,
	      char *violation, size_t vsize);

#endif
