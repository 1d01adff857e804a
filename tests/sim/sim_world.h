/* SimWorld: real engine replicas (the same ph_cell code the node runs) on
 * the simulated network, disks and clocks of sim.h, with clients recording a
 * Jepsen-shaped history and every safety invariant (sim_check.h) checked
 * after every event.  One seed reproduces a run exactly.
 *
 * Actors: replicas have node ids 1..n; clients have actor ids
 * SIM_CLIENT_BASE + k and engine client ids k + 1.
 *
 * A scenario reads like the paper's:
 *
 *   struct sim_world *w = sim_world_new(&cfg);
 *   sim_world_run_for(w, 1 * SIM_S);
 *   sim_world_partition(w, "minority", (uint32_t[]){4, 5}, 2, SIM_PART_SYMMETRIC);
 *   sim_world_run_for(w, 2 * SIM_S);
 *   sim_world_heal(w, "minority");
 *   ck_assert_int_eq(sim_world_finish(w), 0);
 *
 * Errors: 0, a negative SIM_E* code, or SIM_EVIOLATION when an invariant
 * broke (sim_world_violation() says which). */
#ifndef PH_TESTS_SIM_WORLD_H
#define PH_TESTS_SIM_WORLD_H

#include <engine.h>

#include "sim.h"
#include "sim_check.h"

#define SIM_EVIOLATION (-100)
#define SIM_CLIENT_BASE 1000u
#define SIM_MAX_CLIENTS 16
#define SIM_RECONF_CLIENT 900u /* engine client id of the control plane's jury changes */

/* Pseudo message types for client traffic, so matchers can name it. */
#define SIM_TYPE_REQUEST 100
#define SIM_TYPE_REPLY 101

struct sim_world_cfg {
	uint64_t seed;
	int replicas;          /* 3..9 (default 3) */
	int clients;           /* 0..SIM_MAX_CLIENTS (default 2) */
	int ops_per_client;    /* then the client stops (default 20) */
	int keys;              /* keys the clients touch, 1..8 (default 2) */
	sim_time think_min, think_max; /* between a client's ops */
	sim_time op_timeout;   /* a client resends after this ... */
	int max_attempts;      /* ... this many times in all, then gives up (info) */
	uint32_t alpha, max_batch;
	sim_time election_timeout, heartbeat;
	int64_t clock_skew_ppm; /* each replica's rate is drawn in [-x, x] */
	struct sim_link_cfg net;
	struct sim_disk_cfg disk;
	int planted_bug;       /* enum ph_bug (needs ph_engine_planted) */
	bool trace;            /* print every event to stderr */
	bool outcomes_only;    /* sim_checker.outcomes_only */
};
void sim_world_cfg_init(struct sim_world_cfg *cfg);

struct sim_world_stats {
	uint64_t events, steps, transitions_committed, ops_ok, ops_fail, ops_info, crashes,
		restarts;
	uint64_t lin_checked, lin_unknown; /* histories given to the reports/ checker */
};

struct sim_world;

/* NULL when out of memory or the engine refused the config (message on
 * stderr). */
struct sim_world *sim_world_new(const struct sim_world_cfg *cfg);
void sim_world_free(struct sim_world *w);

/* Runs events until global time t (inclusive), the queue is empty, or a
 * violation (SIM_EVIOLATION). */
int sim_world_run_until(struct sim_world *w, sim_time t);
int sim_world_run_for(struct sim_world *w, sim_time dt);
/* Runs one event. SIM_EEMPTY when nothing is left. */
int sim_world_step(struct sim_world *w);
sim_time sim_world_now(const struct sim_world *w);

/* Faults. Node ids are 1..replicas; client actors SIM_CLIENT_BASE + k. */
int sim_world_partition(struct sim_world *w, const char *name, const uint32_t *nodes, int n,
			enum sim_part_mode mode);
int sim_world_heal(struct sim_world *w, const char *name);
void sim_world_heal_all(struct sim_world *w);
int sim_world_match(struct sim_world *w, const struct sim_matcher *m); /* id or SIM_EFULL */
int sim_world_unmatch(struct sim_world *w, int id);
int sim_world_set_link(struct sim_world *w, uint32_t from, uint32_t to,
		       const struct sim_link_cfg *cfg);
/* Sets the default link config (every link without its own). */
void sim_world_set_net(struct sim_world *w, const struct sim_link_cfg *cfg);
/* Crash: the disk loses what is not durable; the replica is gone until
 * restarted. */
int sim_world_crash(struct sim_world *w, ph_node_id node);
/* Restart from the durable records only. */
int sim_world_restart(struct sim_world *w, ph_node_id node);
/* Crash the node right after its next batch becomes durable, before the
 * messages waiting for it leave ("crashing between persisting and sending"). */
int sim_world_crash_after_persist(struct sim_world *w, ph_node_id node);
int sim_world_set_disk(struct sim_world *w, ph_node_id node, const struct sim_disk_cfg *cfg);
int sim_world_clock_jump(struct sim_world *w, ph_node_id node, int64_t delta);
int sim_world_clock_rate(struct sim_world *w, ph_node_id node, int64_t rate_ppm);
bool sim_world_is_up(const struct sim_world *w, ph_node_id node);

/* Jury changes (docs/protocol.md). Replaces member `out` by a new node:
 * its replica (next node id, returned in *in) starts now with the cell's
 * initial jury, as a joining node does; from time `at` on, the control plane
 * submits PH_EV_RECONFIGURE (REPLACE out by in, naming the epoch) to the
 * leader and retries until the log commits it. Changes are made in the order
 * they were asked for, each after the previous one. The checker counts
 * quorums per slot jury from then on. SIM_EINVAL when out is no node, or
 * SIM_MAX_REPLICAS / 8 changes are used up. */
int sim_world_replace_at(struct sim_world *w, sim_time at, ph_node_id out, ph_node_id *in);
/* Jury changes committed in the log so far. */
uint32_t sim_world_jury_epoch(const struct sim_world *w);

/* The replica that is leader with the highest ballot, or 0. */
ph_node_id sim_world_leader(const struct sim_world *w);
int sim_world_status(const struct sim_world *w, ph_node_id node, struct ph_cell_status *out);

/* Ends the run: heals the network, restarts crashed replicas, lets clients
 * finish (bounded), then checks the history (well formed; linearizable by
 * the reports/ checker when built with it) and that every acknowledged write
 * is in every live replica's log. 0 or SIM_EVIOLATION. */
int sim_world_finish(struct sim_world *w);
/* True when every client has done all its ops. */
bool sim_world_clients_done(const struct sim_world *w);

const char *sim_world_violation(const struct sim_world *w); /* NULL if none */
const struct sim_world_stats *sim_world_stats(const struct sim_world *w);
const struct sim_history *sim_world_history(const struct sim_world *w);
const struct sim_net_stats *sim_world_net_stats(const struct sim_world *w);

#endif
