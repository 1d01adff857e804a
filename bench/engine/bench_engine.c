/* bench/engine/bench_engine.c: the engine's footprint and step throughput,
 * printed beside the anchors they are measured against:
 *   - an idle replica should take under 1 KiB beside its data (a node hosts
 *     up to a million cells);
 *   - a durable commit costs at least one fsync, about 170 us on our disks,
 *     so the engine's own per-transaction cost should sit far below that.
 * Usage: bench_engine [transactions] (default 20000). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cluster.h"
#include "countalloc.h"
#include "engine.h"
#include "internal.h"

static double secs(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_secs(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void footprint(void)
{
	struct countalloc ca;
	countalloc_init(&ca);
	static const uint8_t pkey[] = "vol-0123456789abcdef"; /* a 20-byte partition key */
	struct ph_cell_config cfg;
	ph_cell_config_init(&cfg);
	cfg.pkey = pkey;
	cfg.pkey_len = sizeof pkey - 1;
	cfg.self = 1;
	cfg.jury_n = 7;
	for (int i = 0; i < 7; i++)
		cfg.jury[i] = (ph_node_id)(i + 1);
	struct ph_cell *c;
	if (ph_cell_new(&cfg, &ca.hook, &c) != 0)
		exit(1);
	struct ph_event ev = {.type = PH_EV_TICK, .now = 1000000000ull};
	struct ph_update u;
	ph_cell_step(c, &ev, &u);
	ph_cell_trim(c);
	printf("footprint: fresh idle replica (jury of 7, 20-byte key): %zu bytes in %zu blocks "
	       "(struct ph_cell %zu)   anchor: < 1024 bytes beside its data\n",
	       ca.live_bytes, ca.live_blocks, sizeof(struct ph_cell));
	ph_cell_free(c);

	/* after a workload, idle: 3 replicas share one counting allocator */
	countalloc_init(&ca);
	struct cl_opts o = {.n = 3, .seed = 5, .clients = 8, .target = 2000, .alloc = &ca.hook};
	struct cl_cluster *cl;
	if (cl_new(&o, &cl) != 0)
		exit(1);
	char err[256];
	if (cl_run(cl, 600000, err, sizeof err) != 0) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	cl_settle(cl, 2000); /* idle: logs truncate behind snapshots */
	size_t data_heap = 0, data_enc = 0, sessions = 0, keys = 0;
	for (size_t i = 0; i < 3; i++) {
		struct ph_cell *x = cl_cell(cl, i);
		ph_cell_trim(x);
		for (size_t k = 0; k < x->kv_n; k++)
			data_heap += sizeof x->kv[k] + x->kv[k].klen +
				     (x->kv[k].v.type == PH_T_INT ? x->kv[k].v.len * sizeof(mp_limb_t)
								  : x->kv[k].v.len);
		for (size_t k = 0; k < x->ses_n; k++)
			data_heap += sizeof x->ses[k] + x->ses[k].rlen;
		size_t logb = x->log_cap * sizeof *x->log;
		for (size_t k = 0; k < x->log_n; k++)
			logb += x->log[k].len;
		fprintf(stderr, "  replica %zu: log %zu entries (%zu bytes, base %llu applied %llu), "
			"pending %zu/%zu, batch cap %zu, p1 %zu\n", i, x->log_n, logb,
			(unsigned long long)x->base, (unsigned long long)x->applied, x->pend_n,
			x->pend_cap, x->batch_cap, x->p1_cap);
		data_enc += x->data_bytes;
		sessions += x->ses_n;
		keys += x->kv_n;
	}
	size_t per = ca.live_bytes / 3, data = data_heap / 3;
	printf("footprint: idle replica after 2000 commits: %zu bytes, of which data %zu "
	       "(%zu keys, %zu sessions, %zu encoded data bytes) -> %zu bytes beside its data   "
	       "anchor: < 1024\n",
	       per, data, keys / 3, sessions / 3, data_enc / 3, per - data);
	cl_free(cl);
}

static void throughput(size_t n, size_t target)
{
	struct cl_opts o = {.n = n, .seed = 11, .clients = 16, .target = target};
	struct cl_cluster *cl;
	if (cl_new(&o, &cl) != 0)
		exit(1);
	char err[256];
	double t0 = secs(), c0 = cpu_secs();
	if (cl_run(cl, 10000000, err, sizeof err) != 0) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	double dt = secs() - t0, dc = cpu_secs() - c0;
	struct cl_stats s;
	cl_stats(cl, &s);
	printf("throughput: %zu replicas: %zu transactions, %zu steps in %.3f s wall (%.3f s CPU) = "
	       "%.0f txn/s, %.0f steps/s (CPU), %.2f us CPU per transaction across all replicas, "
	       "harness included   anchor: fsync floor 170 us per durable commit\n",
	       n, s.acked, s.steps, dt, dc, (double)s.acked / dc, (double)s.steps / dc,
	       dc / (double)s.acked * 1e6);
	cl_free(cl);
}

int main(int argc, char **argv)
{
	size_t target = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 20000;
	footprint();
	throughput(3, target);
	throughput(7, target);
	return 0;
}
