/* physalia-sim: runs the simulator over many seeds with a fault mix and
 * prints a summary; a failing seed prints the one command that replays it.
 *
 *   physalia-sim [--seeds N] [--first S] [--seed S] [--replicas R]
 *                [--clients C] [--ops K] [--duration-ms D]
 *                [--faults all|none|net,part,crash,disk,clock]
 *                [--planted BUG] [--outcomes-only] [--trace] [--keep-going]
 *
 * Exit status: 0 no violation, 1 a violation, 2 bad usage. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_run.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: physalia-sim [--seeds N] [--first S] [--seed S] [--replicas R] [--clients C]\n"
		"                    [--ops K] [--duration-ms D] [--faults all|none|net,part,crash,disk,clock]\n"
		"                    [--planted BUG] [--outcomes-only] [--trace] [--keep-going]\n");
}

static int num(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-') {
		fprintf(stderr, "physalia-sim: %s needs a number\n", opt);
		return -1;
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > max) {
		fprintf(stderr, "physalia-sim: %s: '%s' is not a number in 0..%" PRIu64 "\n", opt, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_run_opts o;
	sim_run_opts_init(&o);
	uint64_t seeds = 100, first = 1, v;
	bool keep_going = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--seeds") == 0 && num(a, arg, UINT64_MAX, &seeds) == 0)
			i++;
		else if (strcmp(a, "--first") == 0 && num(a, arg, UINT64_MAX, &first) == 0)
			i++;
		else if (strcmp(a, "--seed") == 0 && num(a, arg, UINT64_MAX, &first) == 0) {
			seeds = 1;
			i++;
		} else if (strcmp(a, "--replicas") == 0 && num(a, arg, PH_JURY_MAX, &v) == 0 && v >= PH_JURY_MIN) {
			o.replicas = (int)v;
			i++;
		} else if (strcmp(a, "--clients") == 0 && num(a, arg, SIM_MAX_CLIENTS, &v) == 0) {
			o.clients = (int)v;
			i++;
		} else if (strcmp(a, "--ops") == 0 && num(a, arg, 100000, &v) == 0) {
			o.ops = (int)v;
			i++;
		} else if (strcmp(a, "--duration-ms") == 0 && num(a, arg, 86400000, &v) == 0) {
			o.duration = v * SIM_MS;
			i++;
		} else if (strcmp(a, "--planted") == 0 && num(a, arg, 5, &v) == 0) {
			o.planted_bug = (int)v;
			i++;
		} else if (strcmp(a, "--faults") == 0 && arg) {
			if (sim_run_parse_faults(arg, &o.faults) != SIM_OK) {
				fprintf(stderr, "physalia-sim: --faults: '%s' is not all, none or a list of"
						" net,part,crash,disk,clock\n", arg);
				return 2;
			}
			i++;
		} else if (strcmp(a, "--trace") == 0) {
			o.trace = true;
		} else if (strcmp(a, "--outcomes-only") == 0) {
			o.outcomes_only = true;
		} else if (strcmp(a, "--keep-going") == 0) {
			keep_going = true;
		} else {
			if (strncmp(a, "--", 2) != 0 || !strstr(" --seeds --first --seed --replicas --clients --ops --duration-ms --planted --faults ", a))
				fprintf(stderr, "physalia-sim: unknown or incomplete option '%s'\n", a);
			usage();
			return 2;
		}
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t run = 0, committed = 0, violations = 0, ops = 0;
	for (uint64_t s = first; s < first + seeds; s++) {
		struct sim_run_result r;
		if (sim_run_seed(&o, s, &r) != SIM_OK) {
			fprintf(stderr, "physalia-sim: seed %" PRIu64 ": the world could not be built\n", s);
			return 2;
		}
		run++;
		committed += r.stats.transitions_committed;
		ops += r.stats.ops_ok + r.stats.ops_fail + r.stats.ops_info;
		if (r.violated) {
			violations++;
			char cmd[256];
			sim_run_replay_cmd(&o, s, cmd, sizeof(cmd));
			printf("VIOLATION seed %" PRIu64 ": %s\n  replay: %s\n", s, r.violation, cmd);
			fflush(stdout);
			if (!keep_going)
				break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("seeds run: %" PRIu64 "\ntransitions committed: %" PRIu64 "\nclient ops: %" PRIu64
	       "\nviolations: %" PRIu64 "\nwall time: %.2f s\n",
	       run, committed, ops, violations, wall);
	return violations ? 1 : 0;
}
