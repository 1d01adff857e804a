/* One randomised simulator run per seed, with a fault mix: what
 * physalia-sim runs N times, and what the planted-bug tests call. */
#ifndef PH_TESTS_SIM_RUN_H
#define PH_TESTS_SIM_RUN_H

#include "sim_world.h"

enum {
	SIM_FAULT_NET = 1 << 0,   /* loss, duplication, reordering on every link */
	SIM_FAULT_PART = 1 << 1,  /* partitions: symmetric and one-way, healed later */
	SIM_FAULT_CRASH = 1 << 2, /* crash and restart replicas, incl. between persist and send */
	SIM_FAULT_DISK = 1 << 3,  /* slow disks, failed writes and fsyncs */
	SIM_FAULT_CLOCK = 1 << 4, /* clock jumps and rate changes */
	SIM_FAULT_ALL = 0x1f,
};

struct sim_run_opts {
	int replicas, clients, ops;
	sim_time duration;  /* of the faulty phase, before finish */
	unsigned faults;    /* SIM_FAULT_* mask */
	int planted_bug;
	bool trace;
	bool outcomes_only;
};
void sim_run_opts_init(struct sim_run_opts *o);

/* Parses a fault list "net,part,crash,disk,clock", "all" or "none".
 * 0 or SIM_EINVAL. */
int sim_run_parse_faults(const char *s, unsigned *out);
/* Writes the fault list (for the replay command). */
void sim_run_format_faults(unsigned faults, char *buf, size_t size);

struct sim_run_result {
	bool violated;
	char violation[600];
	struct sim_world_stats stats;
	struct sim_net_stats net;
};

/* Runs seed. 0 (result filled, check result->violated), or SIM_ENOMEM /
 * SIM_EINVAL when the world could not be built. */
int sim_run_seed(const struct sim_run_opts *o, uint64_t seed, struct sim_run_result *res);
/* The command line that replays seed with these options. */
void sim_run_replay_cmd(const struct sim_run_opts *o, uint64_t seed, char *buf, size_t size);

#endif
