/* A randomised run: clients doing register-style transactions while a fault
 * schedule drawn from the seed partitions, crashes, slows and skews the
 * cell; then everything heals and the run finishes (sim_world_finish). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim_run.h"

void sim_run_opts_init(struct sim_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->replicas = 3;
	o->clients = 3;
	o->ops = 15;
	o->duration = 3 * SIM_S;
	o->faults = SIM_FAULT_ALL;
}

static const struct {
	const char *name;
	unsigned bit;
} fault_names[] = {
	{"net", SIM_FAULT_NET},     {"part", SIM_FAULT_PART},   {"crash", SIM_FAULT_CRASH},
	{"disk", SIM_FAULT_DISK},   {"clock", SIM_FAULT_CLOCK},
};

int sim_run_parse_faults(const char *s, unsigned *out)
{
	if (strcmp(s, "all") == 0) {
		*out = SIM_FAULT_ALL;
		return SIM_OK;
	}
	if (strcmp(s, "none") == 0) {
		*out = 0;
		return SIM_OK;
	}
	unsigned m = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		bool found = false;
		for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
			if (strlen(fault_names[i].name) == n && strncmp(s, fault_names[i].name, n) == 0) {
				m |= fault_names[i].bit;
				found = true;
			}
		if (!found)
			return SIM_EINVAL;
		s += n;
		if (*s == ',')
			s++;
	}
	*out = m;
	return SIM_OK;
}

void sim_run_format_faults(unsigned faults, char *buf, size_t size)
{
	if (faults == SIM_FAULT_ALL) {
		snprintf(buf, size, "all");
		return;
	}
	if (faults == 0) {
		snprintf(buf, size, "none");
		return;
	}
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
		if (faults & fault_names[i].bit)
			used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s",
						 used ? "," : "", fault_names[i].name);
}

void sim_run_replay_cmd(const struct sim_run_opts *o, uint64_t seed, char *buf, size_t size)
{
	char f[64];
	sim_run_format_faults(o->faults, f, sizeof(f));
	int n = snprintf(buf, size,
			 "physalia-sim%s --seed %" PRIu64 " --replicas %d --clients %d --ops %d"
			 " --duration-ms %" PRIu64 " --faults %s",
			 o->planted_bug ? "-planted" : "", seed, o->replicas, o->clients, o->ops,
			 o->duration / SIM_MS, f);
	if (o->planted_bug && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, " --planted %d", o->planted_bug);
	if (o->outcomes_only && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " --outcomes-only");
}

/* One fault action, drawn from the seed. */
static void random_fault(struct sim_world *w, struct sim_rng *r, const struct sim_run_opts *o,
			 int *parts)
{
	unsigned f = o->faults;
	int n = o->replicas;
	for (int tries = 0; tries < 8; tries++) {
		switch (sim_rng_below(r, 6)) {
		case 0: /* partition a random group off, sometimes one way */
			if (f & SIM_FAULT_PART) {
				uint32_t g[SIM_MAX_REPLICAS];
				int k = 1 + (int)sim_rng_below(r, (uint64_t)(n - 1));
				for (int i = 0; i < k; i++)
					g[i] = 1 + (uint32_t)sim_rng_below(r, (uint64_t)n);
				char name[16];
				snprintf(name, sizeof(name), "p%d", (*parts)++ % 3);
				enum sim_part_mode m = (enum sim_part_mode)sim_rng_below(r, 3);
				sim_world_partition(w, name, g, k, m);
				return;
			}
			break;
		case 1:
			if (f & SIM_FAULT_PART) {
				sim_world_heal_all(w);
				return;
			}
			break;
		case 2: /* crash one, sometimes between persisting and sending */
			if (f & SIM_FAULT_CRASH) {
				ph_node_id id = 1 + (ph_node_id)sim_rng_below(r, (uint64_t)n);
				if (sim_rng_chance(r, 300000))
					sim_world_crash_after_persist(w, id);
				else
					sim_world_crash(w, id);
				return;
			}
			break;
		case 3: /* restart everything down */
			if (f & (SIM_FAULT_CRASH | SIM_FAULT_DISK)) {
				for (ph_node_id id = 1; id <= (ph_node_id)n; id++)
					if (!sim_world_is_up(w, id))
						sim_world_restart(w, id);
				return;
			}
			break;
		case 4: /* a disk turns slow and failing for a while */
			if (f & SIM_FAULT_DISK) {
				ph_node_id id = 1 + (ph_node_id)sim_rng_below(r, (uint64_t)n);
				struct sim_disk_cfg d = {.lat_min = 100 * SIM_US,
							 .lat_max = sim_rng_range(r, 1, 50) * SIM_MS,
							 .fsync_fail_ppm = (uint32_t)sim_rng_below(r, 50000),
							 .write_fail_ppm = (uint32_t)sim_rng_below(r, 20000),
							 .torn_ppm = (uint32_t)sim_rng_below(r, 500000)};
				sim_world_set_disk(w, id, &d);
				return;
			}
			break;
		case 5: /* a clock jumps or drifts */
			if (f & SIM_FAULT_CLOCK) {
				ph_node_id id = 1 + (ph_node_id)sim_rng_below(r, (uint64_t)n);
				if (sim_rng_below(r, 2))
					sim_world_clock_jump(w, id, (int64_t)sim_rng_range(r, 1, 2000) * (int64_t)SIM_MS *
									    (sim_rng_below(r, 2) ? 1 : -1));
				else
					sim_world_clock_rate(w, id, (int64_t)sim_rng_below(r, 400001) - 200000);
				return;
			}
			break;
		}
	}
}

int sim_run_seed(const struct sim_run_opts *o, uint64_t seed, struct sim_run_result *res)
{
	memset(res, 0, sizeof(*res));
	struct sim_world_cfg cfg;
	sim_world_cfg_init(&cfg);
	cfg.seed = seed;
	cfg.replicas = o->replicas;
	cfg.clients = o->clients;
	cfg.ops_per_client = o->ops;
	cfg.planted_bug = o->planted_bug;
	cfg.trace = o->trace;
	cfg.outcomes_only = o->outcomes_only;
	/* The fault schedule has its own stream, so the world's randomness and
	 * the schedule's do not shift each other. */
	struct sim_rng fr;
	sim_rng_seed(&fr, seed ^ 0x5eedfa17ull);
	if (o->faults & SIM_FAULT_NET) {
		cfg.net.loss_ppm = (uint32_t)sim_rng_below(&fr, 150000);
		cfg.net.dup_ppm = (uint32_t)sim_rng_below(&fr, 100000);
		cfg.net.reorder_ppm = (uint32_t)sim_rng_below(&fr, 200000);
		cfg.net.reorder_extra = sim_rng_range(&fr, 1, 100) * SIM_MS;
		cfg.net.delay_max = sim_rng_range(&fr, 1, 20) * SIM_MS;
	}
	if (o->faults & SIM_FAULT_CLOCK)
		cfg.clock_skew_ppm = 50000;
	struct sim_world *w = sim_world_new(&cfg);
	if (!w)
		return SIM_EINVAL;
	int parts = 0;
	int rc = SIM_OK;
	sim_time end = sim_world_now(w) + o->duration;
	while (rc == SIM_OK && sim_world_now(w) < end) {
		sim_time gap = sim_rng_range(&fr, 20, 400) * SIM_MS;
		rc = sim_world_run_for(w, gap);
		if (rc == SIM_OK && o->faults)
			random_fault(w, &fr, o, &parts);
		if (rc == SIM_OK && sim_world_violation(w))
			rc = SIM_EVIOLATION;
	}
	if (rc == SIM_OK)
		rc = sim_world_finish(w);
	const char *v = sim_world_violation(w);
	if (v) {
		res->violated = true;
		snprintf(res->violation, sizeof(res->violation), "%s", v);
	}
	res->stats = *sim_world_stats(w);
	res->net = *sim_world_net_stats(w);
	sim_world_free(w);
	return SIM_OK;
}
