/* bench/topology/bench_fabric.c: how long topo_fabric_up takes for a
 * 35-host rack model (1 row, 7 racks of 4 node hosts and 1 client host, 3
 * power domains: 35 host namespaces + 7 ToRs + 1 spine), and its teardown,
 * beside the target of the issue (< 2 s to build). Needs root; prints why
 * and exits 77 otherwise. Usage: bench_topo_fabric [rounds] */
#include "topology/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	if (rounds < 1 || rounds > 100)
		rounds = 5;
	struct topo_gen g = { .rows = 1, .racks_per_row = 7, .powers = 3, .nodes = 4,
			      .clients = 1, .jury_size = 7 };
	struct topo_model *m = NULL;
	struct topo_diag d;
	if (topo_model_generate(&g, &m, &d) != 0) {
		fprintf(stderr, "bench: model: %s\n", d.msg);
		return 1;
	}
	char run[TOPO_RUN_MAX];
	snprintf(run, sizeof run, "bench%u", (unsigned)getpid() % 100000u);
	double up[100], down[100];
	struct topo_fabric_stats st = { 0 };
	for (int i = 0; i < rounds; i++) {
		int rc = topo_fabric_up(m, run, &st);
		if (rc == TOPO_EPERM) {
			printf("SKIP: %s\n", topo_fabric_error());
			topo_model_free(m);
			return 77;
		}
		if (rc != 0) {
			fprintf(stderr, "bench: up: %s: %s\n", topo_strerror(rc), topo_fabric_error());
			topo_fabric_down(run, NULL);
			topo_model_free(m);
			return 1;
		}
		up[i] = st.seconds;
		double t0 = now_s();
		rc = topo_fabric_down(run, NULL);
		down[i] = now_s() - t0;
		if (rc != 0) {
			fprintf(stderr, "bench: down: %s\n", topo_fabric_error());
			return 1;
		}
	}
	qsort(up, (size_t)rounds, sizeof up[0], cmp_d);
	qsort(down, (size_t)rounds, sizeof down[0], cmp_d);
	printf("fabric, %zu hosts (%u namespaces, %u links, %u addresses, %u routes), %d rounds\n",
	       m->n_hosts, st.namespaces, st.links, st.addresses, st.routes, rounds);
	printf("%-10s %10s %10s %10s   %s\n", "", "median s", "max s", "min s", "target");
	printf("%-10s %10.3f %10.3f %10.3f   < 2 s (issue #7)  %s\n", "up", up[rounds / 2],
	       up[rounds - 1], up[0], up[rounds - 1] < 2.0 ? "met" : "MISSED");
	printf("%-10s %10.3f %10.3f %10.3f   (no target)\n", "down", down[rounds / 2],
	       down[rounds - 1], down[0]);
	topo_model_free(m);
	return 0;
}
