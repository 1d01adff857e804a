/* tests/engine/test_cluster.c: 3, 5 and 7 replicas commit a few thousand
 * transactions over a lossy, duplicating, reordering network with crashes;
 * every replica applies the same transitions in the same order, every
 * acknowledged commit is in the final state, nothing applies twice. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster.h"

static unsigned enomem_permille;

static void run_full(size_t n, uint64_t seed, unsigned loss, unsigned dup, unsigned crash,
		     size_t target, size_t clients, unsigned alpha, unsigned max_batch)
{
	struct cl_opts o = {.n = n, .seed = seed, .loss_pct = loss, .dup_pct = dup,
			    .alloc_fail_permille = enomem_permille,
			    .crash_permille = crash, .partition_permille = crash ? 5 : 0,
			    .clients = clients, .target = target,
			    .alpha = alpha, .max_batch = max_batch};
	struct cl_cluster *cl;
	ck_assert_int_eq(cl_new(&o, &cl), 0);
	char err[256];
	int rc = cl_run(cl, 600000, err, sizeof err);
	ck_assert_msg(rc == 0, "n=%zu seed=%" PRIu64 ": %s", n, seed, err);
	rc = cl_check(cl, err, sizeof err);
	ck_assert_msg(rc == 0, "n=%zu seed=%" PRIu64 ": %s", n, seed, err);
	struct cl_stats s;
	cl_stats(cl, &s);
	printf("n=%zu seed=%" PRIu64 ": %zu acked, %zu ignored, %zu busy, %zu not-leader, %zu retries, "
	       "%zu crashes, %zu slots, %" PRIu64 " sim ms, %zu steps\n",
	       n, seed, s.acked, s.ignored, s.busy, s.not_leader, s.retries, s.crashes,
	       s.max_slot + 1, s.sim_ms, s.steps);
	cl_free(cl);
}

static void run(size_t n, uint64_t seed, unsigned loss, unsigned dup, unsigned crash,
		size_t target)
{
	run_full(n, seed, loss, dup, crash, target, 6, 0, 0);
}

/* Many clients, small batches, alpha 1: the pipeline fills, busy answers. */
START_TEST(cluster_busy) { run_full(5, 7, 3, 3, 1, 600, 16, 1, 2); }
END_TEST

/* Allocations fail at random (2%) in every replica: failed steps are lost
 * events, and the invariants still hold. */
START_TEST(cluster_enomem)
{
	size_t sizes[] = {3, 5};
	struct cl_opts o = {.n = sizes[_i], .seed = 70 + (uint64_t)_i, .loss_pct = 5, .dup_pct = 3,
			    .crash_permille = 2, .partition_permille = 5, .clients = 6,
			    .target = 600, .alloc_fail_permille = 20};
	struct cl_cluster *cl;
	ck_assert_int_eq(cl_new(&o, &cl), 0);
	char err[256];
	int rc = cl_run(cl, 600000, err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	rc = cl_check(cl, err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	struct cl_stats s;
	cl_stats(cl, &s);
	printf("enomem n=%zu: %zu acked, %zu steps failed for memory of %zu\n", o.n, s.acked,
	       s.enomem, s.steps);
	ck_assert_uint_gt(s.enomem, 0);
	cl_free(cl);
}
END_TEST

/* The engine is deterministic: one seed, one history (same steps, same
 * states), which is what lets a failing seed be replayed forever. */
START_TEST(cluster_deterministic)
{
	uint64_t h[2];
	struct cl_stats st[2];
	for (int k = 0; k < 2; k++) {
		struct cl_opts o = {.n = 5, .seed = 4242, .loss_pct = 10, .dup_pct = 5,
				    .crash_permille = 5, .partition_permille = 5, .clients = 5,
				    .target = 300};
		struct cl_cluster *cl;
		ck_assert_int_eq(cl_new(&o, &cl), 0);
		char err[256];
		ck_assert_msg(cl_run(cl, 600000, err, sizeof err) == 0, "%s", err);
		h[k] = 0;
		for (size_t i = 0; i < 5; i++)
			h[k] = h[k] * 31 + ph_cell_state_hash(cl_cell(cl, i));
		cl_stats(cl, &st[k]);
		cl_free(cl);
	}
	ck_assert(h[0] == h[1]);
	ck_assert_uint_eq(st[0].steps, st[1].steps);
	ck_assert_uint_eq(st[0].delivered, st[1].delivered);
	ck_assert_uint_eq(st[0].sim_ms, st[1].sim_ms);
}
END_TEST

/* PH_CLUSTER_SEEDS=N runs N extra seeds of each size with harsher faults. */
START_TEST(cluster_stress)
{
	const char *e = getenv("PH_CLUSTER_SEEDS");
	int n = e ? atoi(e) : 0;
	for (int i = 0; i < n; i++) {
		size_t sizes[] = {3, 5, 7};
		enomem_permille = i % 3 == 0 ? 20 : 0;
		run_full(sizes[i % 3], 1000 + (uint64_t)i, 15, 10, 8, 300, 1 + (size_t)i % 16,
			 1 + (unsigned)i % 4, 1 + (unsigned)i % 8);
	}
	enomem_permille = 0;
}
END_TEST

START_TEST(cluster_3) { run(3, 1 + (uint64_t)_i, 5, 3, 2, 1200); }
END_TEST
START_TEST(cluster_5) { run(5, 11 + (uint64_t)_i, 5, 3, 2, 1000); }
END_TEST
START_TEST(cluster_7) { run(7, 21 + (uint64_t)_i, 5, 3, 2, 800); }
END_TEST
START_TEST(cluster_clean) { run(3, 99, 0, 0, 0, 500); }
END_TEST

int main(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("cluster");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, cluster_clean);
	tcase_add_loop_test(tc, cluster_3, 0, 2);
	tcase_add_loop_test(tc, cluster_5, 0, 1);
	tcase_add_loop_test(tc, cluster_7, 0, 1);
	tcase_add_test(tc, cluster_busy);
	tcase_add_test(tc, cluster_deterministic);
	tcase_add_loop_test(tc, cluster_enomem, 0, 2);
	tcase_add_test(tc, cluster_stress);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
