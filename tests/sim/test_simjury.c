/* Jury changes in the simulator (issue 5; docs/protocol.md): members
 * replaced one at a time while clients write, and during a partition; every
 * safety invariant (quorums counted per slot jury) after every event, the
 * history linearizable at the end.
 *
 * Built twice: on ph_sim (the scenarios) and, with SIM_PLANTED, on
 * ph_sim_planted, where the two reconfiguration bugs must each be caught
 * within a bounded number of seeds. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim_world.h"

static struct sim_world *world(int replicas, int clients, uint64_t seed, int bug)
{
	struct sim_world_cfg cfg;
	sim_world_cfg_init(&cfg);
	cfg.replicas = replicas;
	cfg.clients = clients;
	cfg.ops_per_client = 30;
	cfg.seed = seed;
	cfg.planted_bug = bug;
	cfg.net.loss_ppm = 20000;
	cfg.net.dup_ppm = 20000;
	struct sim_world *w = sim_world_new(&cfg);
	ck_assert_ptr_nonnull(w);
	return w;
}

/* Runs until the log has committed `epoch` jury changes (bounded: 20
 * simulated seconds). SIM_EVIOLATION passes through. */
static int await_epoch(struct sim_world *w, uint32_t epoch)
{
	for (int i = 0; i < 200 && sim_world_jury_epoch(w) < epoch; i++) {
		int rc = sim_world_run_for(w, 100 * SIM_MS);
		if (rc)
			return rc;
	}
	return sim_world_jury_epoch(w) >= epoch ? 0 : SIM_EINVAL;
}

#ifndef SIM_PLANTED
/* Every live member of jury `want` (compared as a set) shows it at `epoch`;
 * every other node says it is deposed (a deposed node keeps the jury it
 * learned last as its forwarding pointer, possibly an older one). */
static void assert_jury(struct sim_world *w, int nodes, const ph_node_id *want, size_t n,
			uint32_t epoch)
{
	for (ph_node_id id = 1; id <= (ph_node_id)nodes; id++) {
		struct ph_cell_status st;
		if (sim_world_status(w, id, &st) != 0)
			continue;
		bool member = false;
		for (size_t k = 0; k < n; k++)
			member |= want[k] == id;
		ck_assert_msg(st.deposed == !member, "node %u deposed %d", id, st.deposed);
		if (!member)
			continue;
		ck_assert_uint_eq(st.jury_epoch, epoch);
		ck_assert_uint_eq(st.jury_n, n);
		for (size_t k = 0; k < n; k++) {
			bool found = false;
			for (size_t j = 0; j < st.jury_n; j++)
				found |= st.jury[j] == want[k];
			ck_assert_msg(found, "node %u: %u missing from its jury", id, want[k]);
		}
	}
}

static void finish_ok(struct sim_world *w)
{
	int rc = sim_world_finish(w);
	ck_assert_msg(rc == 0, "violation: %s", sim_world_violation(w));
	const struct sim_world_stats *st = sim_world_stats(w);
	ck_assert_uint_gt(st->ops_ok, 0);
	printf("jury scenario: %" PRIu64 " ok, %" PRIu64 " fail, %" PRIu64 " info, %" PRIu64
	       " histories checked (%" PRIu64 " unknown)\n", st->ops_ok, st->ops_fail, st->ops_info,
	       st->lin_checked, st->lin_unknown);
}

/* A 5-replica cell moved two nodes, one at a time, while four clients
 * write: 2 is replaced by 6, then 4 by 7. */
START_TEST(replace_two_members_while_writing)
{
	struct sim_world *w = world(5, 4, 40 + (uint64_t)_i, 0);
	ck_assert_int_eq(sim_world_run_for(w, 300 * SIM_MS), 0);
	ph_node_id a, b;
	ck_assert_int_eq(sim_world_replace_at(w, sim_world_now(w), 2, &a), 0);
	ck_assert_uint_eq(a, 6);
	int rc = await_epoch(w, 1);
	ck_assert_msg(rc == 0, "first change: %d %s", rc, sim_world_violation(w));
	ck_assert_int_eq(sim_world_run_for(w, 200 * SIM_MS), 0);
	ck_assert_int_eq(sim_world_replace_at(w, sim_world_now(w), 4, &b), 0);
	ck_assert_uint_eq(b, 7);
	rc = await_epoch(w, 2);
	ck_assert_msg(rc == 0, "second change: %d %s", rc, sim_world_violation(w));
	finish_ok(w);
	assert_jury(w, 7, (ph_node_id[]){1, 3, 5, 6, 7}, 5, 2);
	sim_world_free(w);
}
END_TEST

/* A replacement during a partition: node 3 is cut off (the failed node a
 * control plane moves away from) and replaced by 4 while cut off; the
 * majority commits the change and goes on; after the heal 3 learns it was
 * deposed. */
START_TEST(replace_during_partition)
{
	struct sim_world *w = world(3, 3, 60 + (uint64_t)_i, 0);
	ck_assert_int_eq(sim_world_run_for(w, 300 * SIM_MS), 0);
	sim_world_partition(w, "cut", (uint32_t[]){3}, 1, SIM_PART_SYMMETRIC);
	ph_node_id in;
	ck_assert_int_eq(sim_world_replace_at(w, sim_world_now(w) + 100 * SIM_MS, 3, &in), 0);
	int rc = await_epoch(w, 1);
	ck_assert_msg(rc == 0, "change: %d %s", rc, sim_world_violation(w));
	ck_assert_int_eq(sim_world_run_for(w, 1 * SIM_S), 0);
	sim_world_heal(w, "cut");
	finish_ok(w);
	assert_jury(w, 4, (ph_node_id[]){1, 2, 4}, 3, 1);
	sim_world_free(w);
}
END_TEST
#else
/* One planted run: 3 replaced by 4 while clients write; once the change has
 * taken effect, a split {1, 3, client 0} | {2, 4, the other clients} (the
 * deposed node with a majority of its old jury); heal; then 1 replaced by 5.
 * Returns whether an invariant broke. */
static bool planted_run(int bug, uint64_t seed, char *why, size_t size)
{
	struct sim_world *w = world(3, 3, seed, bug);
	bool v = false;
	ph_node_id in;
	int rc = sim_world_run_for(w, 300 * SIM_MS);
	if (!rc)
		rc = sim_world_replace_at(w, sim_world_now(w), 3, &in);
	if (!rc)
		rc = await_epoch(w, 1);
	if (!rc)
		rc = sim_world_run_for(w, 300 * SIM_MS);
	if (!rc) {
		sim_world_partition(w, "split", (uint32_t[]){1, 3, SIM_CLIENT_BASE}, 3,
				    SIM_PART_SYMMETRIC);
		rc = sim_world_run_for(w, 2 * SIM_S);
		sim_world_heal(w, "split");
	}
	if (!rc)
		rc = sim_world_replace_at(w, sim_world_now(w), 1, &in);
	if (!rc)
		rc = await_epoch(w, 2);
	if (!rc || rc == SIM_EINVAL)
		rc = sim_world_finish(w);
	if (rc == SIM_EVIOLATION) {
		v = true;
		snprintf(why, size, "%s", sim_world_violation(w));
	}
	sim_world_free(w);
	return v;
}

#define PLANTED_SEEDS 30

static void hunt(int bug, const char *name)
{
	char why[600] = "";
	for (uint64_t s = 1; s <= PLANTED_SEEDS; s++)
		if (planted_run(bug, s, why, sizeof(why))) {
			printf("%s caught by seed %" PRIu64 ": %s\n", name, s, why);
			return;
		}
	ck_abort_msg("%s survived %d seeds", name, PLANTED_SEEDS);
}

START_TEST(planted_jury_effect_at_i) { hunt(PH_BUG_JURY_EFFECT_AT_I, "PH_BUG_JURY_EFFECT_AT_I"); }
END_TEST

START_TEST(planted_deposed_votes) { hunt(PH_BUG_DEPOSED_VOTES, "PH_BUG_DEPOSED_VOTES"); }
END_TEST

/* The same runs with no bug selected pass on the planted engine. */
START_TEST(planted_engine_no_bug)
{
	char why[600] = "";
	ck_assert_msg(!planted_run(PH_BUG_NONE, 1 + (uint64_t)_i, why, sizeof(why)), "%s", why);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("sim-jury");
	TCase *tc = tcase_create("jury");
	tcase_set_timeout(tc, 300);
#ifndef SIM_PLANTED
	tcase_add_loop_test(tc, replace_two_members_while_writing, 0, 3);
	tcase_add_loop_test(tc, replace_during_partition, 0, 3);
#else
	tcase_add_loop_test(tc, planted_engine_no_bug, 0, 3);
	tcase_add_test(tc, planted_jury_effect_at_i);
	tcase_add_test(tc, planted_deposed_votes);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
