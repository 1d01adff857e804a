/* Safety invariants of a cell, checked from outside the engine after every
 * event (by the simulator and the explorer alike).  What is checked, and
 * where each fact comes from:
 *
 *  one value per slot   every ACCEPT seen on the wire gives (ballot, slot)
 *                       -> value; ACCEPTED messages (and the proposer's own
 *                       ACCEPT, which leaves only once its own accept is
 *                       durable) count votes; a majority of the slot's jury
 *                       for (ballot, slot) makes its value chosen (the jury
 *                       of a slot: the initial one, changed by each jury
 *                       change committed at slot i from i + alpha on; votes
 *                       of non-members never count).  Two values
 *                       chosen for one slot, or two values proposed under one
 *                       (ballot, slot), is a violation.
 *  chosen means chosen  a replica's status.chosen may only cover slots a
 *                       majority has accepted on the wire.
 *  acceptor rule        an ACCEPTED(b) is never emitted when the replica had
 *                       already promised more than b.
 *  durable never back   a replica's promised ballot never drops below any
 *                       ballot it has sent in a PROMISE / ACCEPTED / REJECT
 *                       (those left only once durable), across restarts too.
 *  durability contract  while a replica has records not yet durable, nothing
 *                       it emits is unflagged (engine.h: "flags
 *                       conservatively").
 *  prefixes agree       every replica's applied transitions at (slot, index)
 *                       are identical, and the applied state (snapshot
 *                       encoding) at a given applied prefix is identical.
 *  applied once         a (client, seq) is decided (committed, or ignored
 *                       after evaluation) at most once in the log.
 *  no ack lost          a committed write acknowledged to a client is in the
 *                       log (and so, by prefix agreement, stays there).
 *
 * The first violation is kept as text in c->violation; later ones are
 * counted. */
#ifndef PH_TESTS_SIM_CHECK_H
#define PH_TESTS_SIM_CHECK_H

#include <engine.h>

#include "sim_map.h"

#define SIM_MAX_REPLICAS PH_JURY_MAX
#define SIM_MAX_JURIES 16

/* The jury that votes from slot `from` on: a bitmask of checker indexes. */
struct sim_check_jury {
	ph_slot from;
	uint64_t mask;
};

struct sim_check_replica {
	ph_node_id id;
	struct ph_ballot max_sent;   /* highest ballot in PROMISE/ACCEPTED/REJECT sent */
	struct ph_ballot promised_before; /* status before the current step */
	ph_slot chosen_checked;      /* slots below were checked against the wire */
	ph_slot last_applied;        /* status.applied after its last step */
	uint64_t last_pos;           /* (slot << 8 | index) + 1 of last transition */
	bool up;
};

struct sim_checker {
	int n, majority;
	struct sim_check_replica r[SIM_MAX_REPLICAS];
	struct sim_map accept_val; /* (round, node, slot) -> value hash */
	struct sim_map votes;      /* (round, node, slot) -> acceptor bitmask */
	struct sim_map chosen;     /* (slot) -> value hash */
	struct sim_map log;        /* (slot, index) -> transition hash */
	struct sim_map by_req;     /* (client, seq) -> position + 1 */
	struct sim_map state_at;   /* (applied) -> applied-state hash */
	struct sim_map changes;    /* (client, seq) -> jury change: out | in << 32 */
	struct sim_check_jury jury[SIM_MAX_JURIES]; /* by epoch; jury[0] the initial one */
	int njury;                 /* jury changes seen committed in the log + 1 */
	uint32_t alpha;            /* a change chosen at slot i votes from i + alpha */
	uint8_t *snap;
	size_t snap_cap;
	uint64_t committed;        /* COMMITTED transitions in the log */
	uint64_t violations;
	char violation[600];
	bool oom;
	/* Outcomes only: skip the four rule checks (acceptor rule, durability
	 * contract, chosen means chosen, durable state never goes back) and keep
	 * those on what the cell did (one value per slot, prefixes agree,
	 * applied once, no ack lost) -- to show a bug is caught by its effects. */
	bool outcomes_only;
};

/* ids: the initial jury, all replicas at first. Set c->alpha before a jury
 * change is committed (sim_check_expect_change). */
void sim_check_init(struct sim_checker *c, const ph_node_id *ids, int n);
/* A replica that is not in the initial jury (a node a change will add).
 * Its index, or -1 when SIM_MAX_REPLICAS are known. */
int sim_check_add_replica(struct sim_checker *c, ph_node_id id);
/* A jury change submitted as (client, seq): when the log commits it at slot
 * i, the checker's jury from i + alpha on is the previous one without `out`
 * (0: none) and with `in` (0: none). Quorums are majorities of each slot's
 * jury. */
void sim_check_expect_change(struct sim_checker *c, uint64_t client, uint64_t seq,
			     ph_node_id out, ph_node_id in);
/* Jury changes committed in the log so far (the cell's jury epoch). */
uint32_t sim_check_epoch(const struct sim_checker *c);
void sim_check_close(struct sim_checker *c);
/* Index of node id in the jury, or -1. */
int sim_check_index(const struct sim_checker *c, ph_node_id id);

/* Around every ph_cell_step of replica i: */
void sim_check_before_step(struct sim_checker *c, int i, const struct ph_cell *cell);
/* `undurable`: the replica had records not yet reported durable when it
 * stepped, or this update has records. */
void sim_check_after_step(struct sim_checker *c, int i, const struct ph_cell *cell,
			  const struct ph_update *u, bool undurable);
/* A message as it leaves replica i (after any hold for durability). */
void sim_check_sent(struct sim_checker *c, int i, const uint8_t *bytes, size_t len);
/* A reply as it leaves replica i; `writes`: the transaction was not
 * read-only. */
void sim_check_reply(struct sim_checker *c, int i, const struct ph_reply *rep, bool writes);
void sim_check_crash(struct sim_checker *c, int i);
/* After ph_cell_load of a restarted replica. */
void sim_check_restart(struct sim_checker *c, int i, const struct ph_cell *cell);

#endif
